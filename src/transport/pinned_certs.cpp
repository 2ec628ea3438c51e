// pinned_certs.cpp — SQLite-backed TLS pin store (X01 §4.2).
#include "transport/pinned_certs.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sqlite3.h>

namespace hn::transport {
namespace {

Error sql_error(sqlite3* db, const char* what) {
  return make_error(ErrorCode::storage_error,
                    std::string("PinnedCerts: ") + what + ": " + sqlite3_errmsg(db));
}

struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

}  // namespace

Result<std::unique_ptr<PinnedCerts>> PinnedCerts::open(const std::filesystem::path& db_path,
                                                       const Clock& clock) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(db_path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    Error e = make_error(ErrorCode::storage_error,
                         std::string("cannot open pin store: ") + (db ? sqlite3_errmsg(db) : "oom"));
    sqlite3_close(db);
    return e;
  }
  sqlite3_busy_timeout(db, 5000);
  const char* ddl =
      "PRAGMA journal_mode=WAL;"
      "CREATE TABLE IF NOT EXISTS PinnedCerts ("
      " node_id TEXT PRIMARY KEY, fingerprint BLOB NOT NULL, first_seen INTEGER NOT NULL);";
  if (sqlite3_exec(db, ddl, nullptr, nullptr, nullptr) != SQLITE_OK) {
    Error e = sql_error(db, "schema");
    sqlite3_close(db);
    return e;
  }
  return std::unique_ptr<PinnedCerts>(new PinnedCerts(db, clock));
}

PinnedCerts::~PinnedCerts() { sqlite3_close(m_db); }

Result<std::optional<Bytes>> PinnedCerts::expected_locked(const NodeId& node_id) {
  Stmt st;
  if (sqlite3_prepare_v2(m_db, "SELECT fingerprint FROM PinnedCerts WHERE node_id = ?", -1,
                         &st.s, nullptr) != SQLITE_OK) {
    return sql_error(m_db, "prepare");
  }
  sqlite3_bind_text(st.s, 1, node_id.str().c_str(), -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(st.s);
  if (rc == SQLITE_DONE) return std::optional<Bytes>{};
  if (rc != SQLITE_ROW) return sql_error(m_db, "select");
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(st.s, 0));
  int n = sqlite3_column_bytes(st.s, 0);
  return std::optional<Bytes>(Bytes(p, p + n));
}

Status PinnedCerts::record_locked(const NodeId& node_id, std::span<const std::uint8_t> fp,
                                  bool replace) {
  Stmt st;
  const char* sql = replace ? "INSERT OR REPLACE INTO PinnedCerts VALUES (?, ?, ?)"
                            : "INSERT OR IGNORE INTO PinnedCerts VALUES (?, ?, ?)";
  if (sqlite3_prepare_v2(m_db, sql, -1, &st.s, nullptr) != SQLITE_OK) {
    return sql_error(m_db, "prepare");
  }
  sqlite3_bind_text(st.s, 1, node_id.str().c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob(st.s, 2, fp.data(), static_cast<int>(fp.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(st.s, 3, m_clock.now_ms());
  if (sqlite3_step(st.s) != SQLITE_DONE) return sql_error(m_db, "insert");
  return {};
}

Status PinnedCerts::record(const NodeId& node_id, std::span<const std::uint8_t> fingerprint) {
  std::lock_guard lock(m_mutex);
  return record_locked(node_id, fingerprint, /*replace=*/true);
}

Result<std::optional<Bytes>> PinnedCerts::expected(const NodeId& node_id) {
  std::lock_guard lock(m_mutex);
  return expected_locked(node_id);
}

bool PinnedCerts::verify(const NodeId& node_id, std::span<const std::uint8_t> presented) {
  auto e = expected(node_id);
  return e.has_value() && e->has_value() &&
         std::equal((*e)->begin(), (*e)->end(), presented.begin(), presented.end());
}

Status PinnedCerts::check_or_pin(const NodeId& node_id, std::span<const std::uint8_t> presented) {
  std::lock_guard lock(m_mutex);
  HN_TRY_ASSIGN(auto pinned, expected_locked(node_id));
  if (!pinned) return record_locked(node_id, presented, /*replace=*/false);
  if (!std::equal(pinned->begin(), pinned->end(), presented.begin(), presented.end())) {
    return make_error(ErrorCode::invalid_signature,
                      "TLS certificate of " + node_id.str() + " differs from the pinned one");
  }
  return {};
}

Bytes cert_fingerprint_der(std::span<const std::uint8_t> der) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  EVP_Digest(der.data(), der.size(), out.data(), &n, EVP_sha256(), nullptr);
  out.resize(n);
  return out;
}

Result<Bytes> cert_fingerprint_pem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return make_error(ErrorCode::internal_error, "BIO_new_mem_buf failed");
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!cert) return make_error(ErrorCode::bad_request, "certificate PEM does not parse");
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  X509_free(cert);
  if (len <= 0) return make_error(ErrorCode::bad_request, "certificate has no DER form");
  Bytes fp = cert_fingerprint_der({der, static_cast<size_t>(len)});
  OPENSSL_free(der);
  return fp;
}

}  // namespace hn::transport
