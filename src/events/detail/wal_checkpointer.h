// wal_checkpointer.h — WAL checkpoints off the committing thread. SQLite's default
// (wal_autocheckpoint=1000) copies the WAL back into the database, and syncs both, inside
// the COMMIT that crosses 1,000 pages: that one append waits ~10–15 ms on this project's
// disks while the others take a tenth of a millisecond — the tail of every append-bound
// path (chat send → receipt is three commits). Here the writer's commit hook only notes
// that the WAL passed the threshold and wakes a thread that runs a PASSIVE checkpoint on
// its own connection, which never blocks the writer or the readers. If that thread falls
// far behind (a reader pinning the WAL), the writer checkpoints itself as SQLite would, so
// the WAL stays bounded. Durability is unchanged (event_log.h "Durability"): a checkpoint
// only moves committed pages.
//
// Thread-safety: start() and the destructor on the owner's thread while no commit runs on
// the writer connection; the hook runs on whichever thread commits.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <sqlite3.h>

#include "core/error.h"
#include "events/detail/sqlite.h"

namespace hn::events::detail {

class WalCheckpointer {
 public:
  // The WAL size, in pages, past which a checkpoint is due (SQLite's own default).
  static constexpr int DUE_PAGES = 1000;
  // Past this the committing thread checkpoints itself (the background one is stuck).
  static constexpr int BACKSTOP_PAGES = 16 * DUE_PAGES;

  // Opens a connection to path for checkpoints, turns the writer's autocheckpoint off and
  // hooks its commits.
  static Result<std::unique_ptr<WalCheckpointer>> start(sqlite3* writer, const std::string& path);
  ~WalCheckpointer();  // unhooks the writer, stops the thread
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Checkpoints run so far by the thread (tests).
  int completed() const;

 private:
  WalCheckpointer(sqlite3* writer, Db db) : m_writer(writer), m_db(std::move(db)) {}
  static int on_commit(void* self, sqlite3* db, const char* schema, int pages);
  void run();

  sqlite3* m_writer;
  Db m_db;
  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_due = false;
  bool m_stop = false;
  int m_completed = 0;
  std::thread m_thread;
};

}  // namespace hn::events::detail
