// wal_checkpointer.cpp — see wal_checkpointer.h.
#include "events/detail/wal_checkpointer.h"

#include <pthread.h>

namespace hn::events::detail {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::start(sqlite3* writer,
                                                                const std::string& path) {
  HN_TRY_ASSIGN(auto db, Db::open(path, false));
  std::unique_ptr<WalCheckpointer> cp(new WalCheckpointer(writer, std::move(db)));
  // Replaces the autocheckpoint hook (sqlite3_wal_autocheckpoint is a wal_hook itself).
  sqlite3_wal_hook(writer, &WalCheckpointer::on_commit, cp.get());
  cp->m_thread = std::thread([p = cp.get()] { p->run(); });
  return cp;
}

WalCheckpointer::~WalCheckpointer() {
  sqlite3_wal_hook(m_writer, nullptr, nullptr);
  {
    std::lock_guard lk(m_mutex);
    m_stop = true;
  }
  m_wake.notify_one();
  if (m_thread.joinable()) m_thread.join();
}

int WalCheckpointer::completed() const {
  std::lock_guard lk(m_mutex);
  return m_completed;
}

int WalCheckpointer::on_commit(void* self, sqlite3* db, const char* schema, int pages) {
  auto* cp = static_cast<WalCheckpointer*>(self);
  if (pages >= BACKSTOP_PAGES) {
    // A failed or busy checkpoint here is not the commit's failure: it has committed.
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }
  if (pages >= DUE_PAGES) {
    {
      std::lock_guard lk(cp->m_mutex);
      cp->m_due = true;
    }
    cp->m_wake.notify_one();
  }
  return SQLITE_OK;
}

void WalCheckpointer::run() {
  pthread_setname_np(pthread_self(), "hn-wal");
  std::unique_lock lk(m_mutex);
  for (;;) {
    m_wake.wait(lk, [&] { return m_due || m_stop; });
    if (m_stop) return;
    m_due = false;
    lk.unlock();
    // PASSIVE: copies what no reader still needs, waits for no one. SQLITE_BUSY (another
    // checkpoint) or an I/O error leaves the WAL to the next round or the backstop.
    sqlite3_wal_checkpoint_v2(m_db.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lk.lock();
    ++m_completed;
  }
}

}  // namespace hn::events::detail
