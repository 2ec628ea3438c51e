// sqlite.cpp — RAII wrappers over the SQLite C API (see sqlite.h).
#include "events/detail/sqlite.h"

namespace hn::events::detail {

ErrorCode sqlite_error_code(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return ErrorCode::db_corrupt;
    case SQLITE_FULL:
      return ErrorCode::disk_full;
    default:
      return ErrorCode::storage_error;
  }
}

Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return make_error(sqlite_error_code(rc), std::move(msg), Json{{"sqlite_rc", rc}});
}

Db::~Db() {
  if (m_db != nullptr) sqlite3_close_v2(m_db);
}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    if (m_db != nullptr) sqlite3_close_v2(m_db);
    m_db = other.m_db;
    other.m_db = nullptr;
  }
  return *this;
}

Result<Db> Db::open(const std::string& path, bool create) {
  Db db;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (create) flags |= SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path.c_str(), &db.m_db, flags, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(db.m_db, rc, "cannot open " + path);
  sqlite3_extended_result_codes(db.m_db, 1);
  sqlite3_busy_timeout(db.m_db, 5000);
  return db;
}

Status Db::exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return make_error(sqlite_error_code(rc), "sqlite: " + msg, Json{{"sqlite_rc", rc}});
  }
  return {};
}

Result<Stmt> Db::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(m_db, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(m_db, rc, "prepare");
  return Stmt(m_db, stmt);
}

Stmt::~Stmt() {
  if (m_stmt != nullptr) sqlite3_finalize(m_stmt);
}

Stmt& Stmt::operator=(Stmt&& other) noexcept {
  if (this != &other) {
    if (m_stmt != nullptr) sqlite3_finalize(m_stmt);
    m_db = other.m_db;
    m_stmt = other.m_stmt;
    other.m_stmt = nullptr;
  }
  return *this;
}

void Stmt::bind(int index, std::int64_t value) { sqlite3_bind_int64(m_stmt, index, value); }

void Stmt::bind(int index, std::string_view value) {
  sqlite3_bind_text(m_stmt, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
}

void Stmt::bind_double(int index, double value) { sqlite3_bind_double(m_stmt, index, value); }

void Stmt::bind_null(int index) { sqlite3_bind_null(m_stmt, index); }

void Stmt::bind_blob(int index, const void* data, std::size_t size) {
  sqlite3_bind_blob64(m_stmt, index, data, size, SQLITE_TRANSIENT);
}

Result<bool> Stmt::step() {
  const int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(m_db, rc, "step");
}

Status Stmt::run() {
  while (true) {
    HN_TRY_ASSIGN(bool row, step());
    if (!row) return {};
  }
}

void Stmt::reset() {
  sqlite3_reset(m_stmt);
  sqlite3_clear_bindings(m_stmt);
}

std::int64_t Stmt::column_int(int index) const { return sqlite3_column_int64(m_stmt, index); }

double Stmt::column_double(int index) const { return sqlite3_column_double(m_stmt, index); }

std::string Stmt::column_text(int index) const {
  const auto* text = sqlite3_column_text(m_stmt, index);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, index)));
}

std::string_view Stmt::column_blob(int index) const {
  const void* data = sqlite3_column_blob(m_stmt, index);
  if (data == nullptr) return {};
  return std::string_view(static_cast<const char*>(data),
                          static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, index)));
}

bool Stmt::column_is_null(int index) const {
  return sqlite3_column_type(m_stmt, index) == SQLITE_NULL;
}

}  // namespace hn::events::detail
