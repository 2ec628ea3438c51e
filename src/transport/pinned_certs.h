// pinned_certs.h — TLS pinning on first use per node id (X01 §4.2). Hostnames are not
// verified (§4.3): a peer is its node id, and the first certificate seen for a node id is
// the one it must keep presenting. A different certificate later → invalid_signature, and
// the client refuses the connection.
//
// Storage: SQLite table PinnedCerts(node_id TEXT PRIMARY KEY, fingerprint BLOB,
// first_seen INTEGER ms). Fingerprint = SHA-256 of the certificate's DER bytes.
//
// Thread-safety: internally locked; one connection per PinnedCerts.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>

#include "core/clock.h"
#include "core/encoding.h"
#include "core/error.h"
#include "core/types.h"

struct sqlite3;

namespace hn::transport {

class PinnedCerts {
 public:
  // Opens (creating) the database; ":memory:" for a private in-memory store.
  static Result<std::unique_ptr<PinnedCerts>> open(const std::filesystem::path& db_path,
                                                   const Clock& clock = SystemClock::instance());
  ~PinnedCerts();
  PinnedCerts(const PinnedCerts&) = delete;
  PinnedCerts& operator=(const PinnedCerts&) = delete;

  // Records a pin (replacing any earlier one: only for an operator's explicit re-pin).
  Status record(const NodeId& node_id, std::span<const std::uint8_t> fingerprint);
  // The pinned fingerprint, if any.
  Result<std::optional<Bytes>> expected(const NodeId& node_id);
  // Whether `presented` matches the pin (false when nothing is pinned).
  bool verify(const NodeId& node_id, std::span<const std::uint8_t> presented);
  // Pin on first use: records when nothing is pinned, ok when it matches,
  // invalid_signature on a mismatch; storage_error when SQLite fails.
  Status check_or_pin(const NodeId& node_id, std::span<const std::uint8_t> presented);

 private:
  PinnedCerts(sqlite3* db, const Clock& clock) : m_db(db), m_clock(clock) {}
  Result<std::optional<Bytes>> expected_locked(const NodeId& node_id);
  Status record_locked(const NodeId& node_id, std::span<const std::uint8_t> fingerprint,
                       bool replace);

  sqlite3* m_db;
  const Clock& m_clock;
  std::mutex m_mutex;
};

// SHA-256 of a certificate's DER encoding.
Bytes cert_fingerprint_der(std::span<const std::uint8_t> der);
// The same for a PEM certificate; bad_request when it does not parse.
Result<Bytes> cert_fingerprint_pem(std::string_view pem);

}  // namespace hn::transport
