// sqlite.h — a thin RAII layer over the SQLite C API for the events layer: a connection,
// a prepared statement, and the mapping of SQLite result codes to hn::ErrorCode
// (SQLITE_CORRUPT / SQLITE_NOTADB → db_corrupt, anything else → storage_error).
//
// Thread-safety: a Db or Stmt belongs to one thread at a time; the owner (EventLog)
// guards each connection with its own mutex.
// Invariants: a Stmt never outlives the Db it was prepared on; no exception leaves here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include "core/error.h"
#include "core/json.h"

namespace hn::events::detail {

// The ErrorCode for a SQLite primary result code.
ErrorCode sqlite_error_code(int rc);
// An Error for rc, naming what was attempted and SQLite's message for db.
Error sqlite_error(sqlite3* db, int rc, std::string_view what);

class Stmt;

// One SQLite connection.
class Db {
 public:
  Db() = default;
  ~Db();
  Db(Db&& other) noexcept : m_db(other.m_db) { other.m_db = nullptr; }
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Opens (creating when asked) the database at path.
  static Result<Db> open(const std::string& path, bool create);

  sqlite3* handle() const { return m_db; }
  // Runs one or more statements without results.
  Status exec(std::string_view sql);
  // Prepares one statement.
  Result<Stmt> prepare(std::string_view sql);

 private:
  sqlite3* m_db = nullptr;
};

// One prepared statement; reset() makes it reusable.
class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : m_db(db), m_stmt(stmt) {}
  ~Stmt();
  Stmt(Stmt&& other) noexcept : m_db(other.m_db), m_stmt(other.m_stmt) { other.m_stmt = nullptr; }
  Stmt& operator=(Stmt&& other) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool valid() const { return m_stmt != nullptr; }
  void bind(int index, std::int64_t value);
  void bind(int index, std::string_view value);  // copied (SQLITE_TRANSIENT)
  void bind_double(int index, double value);
  void bind_null(int index);
  void bind_blob(int index, const void* data, std::size_t size);  // copied (SQLITE_TRANSIENT)
  // Steps once: true when a row is available, false when done, an Error otherwise.
  Result<bool> step();
  // Steps until done (statements without rows).
  Status run();
  void reset();

  std::int64_t column_int(int index) const;
  std::string column_text(int index) const;
  double column_double(int index) const;
  bool column_is_null(int index) const;
  // The bytes of a BLOB (or TEXT) column, valid until the next step/reset.
  std::string_view column_blob(int index) const;

 private:
  sqlite3* m_db = nullptr;
  sqlite3_stmt* m_stmt = nullptr;
};

}  // namespace hn::events::detail
