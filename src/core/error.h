// error.h — HearthNet's one error model: ErrorCode (the 13 wire codes of CONTRACT §9 plus
// domain codes), Error, Result<T> (the std::expected subset we need) and HN_TRY.
//
// Thread-safety: value types; no shared state.
// Invariants: every domain code maps to exactly one wire code (to_wire_code) and one HTTP
// status (http_status), per IMPLEMENTATION_REFERENCE §0.4 and CONTRACT §5.5.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

namespace hn {

enum class ErrorCode {
  // The 13 wire codes — CONTRACT §9.
  bad_request,
  schema_mismatch,
  invalid_signature,
  unauthorized,
  revoked,
  expired,
  not_found,
  not_implemented,
  timeout,
  partition,
  capacity_exceeded,
  rate_limited,
  internal_error,
  // Domain codes (never on the wire as such; to_wire_code maps them).
  config_error,        // X04 ConfigError
  keys_missing,        // M01 IdentityError
  keys_invalid,        // M01 IdentityError
  keys_permissions,    // M01 IdentityError
  bad_node_id,         // M01 IdentityError
  sign_failed,         // M01 IdentityError
  verify_failed,       // M01 IdentityError
  bad_manifest,        // M01 IdentityError
  not_member,          // M01/M03 membership check
  out_of_order,        // X02 EventLogError
  unknown_author,      // X02 EventLogError
  revoked_author,      // X02 EventLogError
  schema_unknown,      // X02 EventLogError (unknown event type / schema version)
  wrong_community,     // X02 EventLogError
  db_corrupt,          // X02 EventLogError
  storage_error,       // SQLite / filesystem failure
  hash_mismatch,       // M07 BlobError
  disk_full,           // M07 BlobError
  manifest_invalid,    // M07 BlobError, M02 DiscoveryError
  io_error,            // M07 BlobError, OS-level I/O failure
  socket_in_use,       // M02 DiscoveryError
  mdns_unavailable,    // M02 DiscoveryError
  manifest_fetch_failed,  // M02 DiscoveryError
  schema_invalid,      // M03 BusError
  namespace_violation, // M03 BusError
  quarantined,         // M03 BusError
  invite_invalid,      // M13 OnboardingError
  invite_expired,      // M13 OnboardingError
  invitee_mismatch,    // M13 OnboardingError
  bootstrap_unreachable,  // M13 OnboardingError
  community_manifest_invalid,  // M13 OnboardingError
  sync_failed,         // M13 OnboardingError
  already_member,      // M13 OnboardingError
};

// The snake_case name of a code ("bad_request", "keys_permissions", …).
std::string_view to_string(ErrorCode code);
// Parses a code name; nullopt for an unknown name.
std::optional<ErrorCode> error_code_from_string(std::string_view name);
// The wire code a domain code travels as (IMPLEMENTATION_REFERENCE §0.4).
ErrorCode to_wire_code(ErrorCode code);
// The HTTP status for a code (CONTRACT §5.5).
int http_status(ErrorCode code);
// Whether a caller may retry (CONTRACT §9 "Retry?").
bool is_retryable(ErrorCode code);

// An error that reaches a user, a peer or a log: a code, a sentence and optional detail.
struct Error {
  ErrorCode code = ErrorCode::internal_error;
  std::string message;
  nlohmann::json detail;  // null when absent
  std::optional<int> retry_after_ms;

  Error() = default;
  Error(ErrorCode c, std::string msg, nlohmann::json d = nullptr)
      : code(c), message(std::move(msg)), detail(std::move(d)) {}

  // "code: message" for logs and CLI output.
  std::string to_string() const;
  // The contract's error envelope {"error","message","retry_after_ms"?,"detail"?} — §5.4.
  // A domain code travels as its wire code, with detail.domain_code naming it.
  nlohmann::json to_json() const;
};

// Result<T>: a value or an Error. The std::expected subset: has_value, value, error, *, ->.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}  // NOLINT implicit
  Result(Error error) : m_v(std::in_place_index<1>, std::move(error)) {}  // NOLINT implicit

  bool has_value() const { return m_v.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(m_v); }
  const T& value() const& { assert(has_value()); return std::get<0>(m_v); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(m_v)); }
  const Error& error() const { assert(!has_value()); return std::get<1>(m_v); }
  Error&& take_error() { assert(!has_value()); return std::get<1>(std::move(m_v)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> m_v;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : m_error(std::move(error)) {}  // NOLINT implicit
  bool has_value() const { return !m_error.has_value(); }
  explicit operator bool() const { return has_value(); }
  void value() const { assert(has_value()); }
  const Error& error() const { assert(!has_value()); return *m_error; }
  Error&& take_error() { assert(!has_value()); return std::move(*m_error); }

 private:
  std::optional<Error> m_error;
};

using Status = Result<void>;

// Shorthand for building an Error.
inline Error make_error(ErrorCode code, std::string message, nlohmann::json detail = nullptr) {
  return Error(code, std::move(message), std::move(detail));
}

}  // namespace hn

// HN_TRY(expr): evaluate a Result; on error return the error from the enclosing function.
// HN_TRY_ASSIGN(var, expr): the same, binding the value to `var` (declared with auto).
#define HN_CONCAT_INNER(a, b) a##b
#define HN_CONCAT(a, b) HN_CONCAT_INNER(a, b)
#define HN_TRY(expr)                                        \
  do {                                                      \
    auto&& hn_try_result_ = (expr);                         \
    if (!hn_try_result_.has_value()) return hn_try_result_.take_error(); \
  } while (0)
#define HN_TRY_ASSIGN_IMPL(tmp, var, expr)      \
  auto tmp = (expr);                            \
  if (!tmp.has_value()) return tmp.take_error(); \
  var = std::move(tmp).value()
#define HN_TRY_ASSIGN(var, expr) HN_TRY_ASSIGN_IMPL(HN_CONCAT(hn_try_tmp_, __LINE__), var, expr)
