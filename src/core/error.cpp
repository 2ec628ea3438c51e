// error.cpp — names, wire mapping and HTTP statuses of ErrorCode.
#include "core/error.h"

#include <array>

namespace hn {
namespace {

struct CodeInfo {
  ErrorCode code;
  std::string_view name;
  ErrorCode wire;
  int http;
  bool retryable;
};

constexpr std::array<CodeInfo, 46> CODES = {{
    {ErrorCode::bad_request, "bad_request", ErrorCode::bad_request, 400, false},
    {ErrorCode::schema_mismatch, "schema_mismatch", ErrorCode::schema_mismatch, 400, false},
    {ErrorCode::invalid_signature, "invalid_signature", ErrorCode::invalid_signature, 401, false},
    {ErrorCode::unauthorized, "unauthorized", ErrorCode::unauthorized, 401, false},
    {ErrorCode::revoked, "revoked", ErrorCode::revoked, 403, false},
    {ErrorCode::expired, "expired", ErrorCode::expired, 410, false},
    {ErrorCode::not_found, "not_found", ErrorCode::not_found, 404, false},
    {ErrorCode::not_implemented, "not_implemented", ErrorCode::not_implemented, 501, false},
    {ErrorCode::timeout, "timeout", ErrorCode::timeout, 408, true},
    {ErrorCode::partition, "partition", ErrorCode::partition, 503, true},
    {ErrorCode::capacity_exceeded, "capacity_exceeded", ErrorCode::capacity_exceeded, 429, true},
    {ErrorCode::rate_limited, "rate_limited", ErrorCode::rate_limited, 429, true},
    {ErrorCode::internal_error, "internal_error", ErrorCode::internal_error, 500, true},
    {ErrorCode::config_error, "config_error", ErrorCode::internal_error, 500, false},
    {ErrorCode::keys_missing, "keys_missing", ErrorCode::internal_error, 500, false},
    {ErrorCode::keys_invalid, "keys_invalid", ErrorCode::internal_error, 500, false},
    {ErrorCode::keys_permissions, "keys_permissions", ErrorCode::internal_error, 500, false},
    {ErrorCode::bad_node_id, "bad_node_id", ErrorCode::bad_request, 400, false},
    {ErrorCode::sign_failed, "sign_failed", ErrorCode::internal_error, 500, false},
    {ErrorCode::verify_failed, "verify_failed", ErrorCode::invalid_signature, 401, false},
    {ErrorCode::bad_manifest, "bad_manifest", ErrorCode::bad_request, 400, false},
    {ErrorCode::not_member, "not_member", ErrorCode::unauthorized, 401, false},
    {ErrorCode::out_of_order, "out_of_order", ErrorCode::bad_request, 400, false},
    {ErrorCode::unknown_author, "unknown_author", ErrorCode::unauthorized, 401, false},
    {ErrorCode::revoked_author, "revoked_author", ErrorCode::revoked, 403, false},
    {ErrorCode::schema_unknown, "schema_unknown", ErrorCode::bad_request, 400, false},
    {ErrorCode::wrong_community, "wrong_community", ErrorCode::unauthorized, 401, false},
    {ErrorCode::db_corrupt, "db_corrupt", ErrorCode::internal_error, 500, false},
    {ErrorCode::storage_error, "storage_error", ErrorCode::internal_error, 500, true},
    {ErrorCode::hash_mismatch, "hash_mismatch", ErrorCode::bad_request, 400, false},
    {ErrorCode::disk_full, "disk_full", ErrorCode::capacity_exceeded, 429, true},
    {ErrorCode::manifest_invalid, "manifest_invalid", ErrorCode::bad_request, 400, false},
    {ErrorCode::io_error, "io_error", ErrorCode::internal_error, 500, true},
    {ErrorCode::socket_in_use, "socket_in_use", ErrorCode::internal_error, 500, false},
    {ErrorCode::mdns_unavailable, "mdns_unavailable", ErrorCode::internal_error, 500, false},
    {ErrorCode::manifest_fetch_failed, "manifest_fetch_failed", ErrorCode::partition, 503, true},
    {ErrorCode::schema_invalid, "schema_invalid", ErrorCode::bad_request, 400, false},
    {ErrorCode::namespace_violation, "namespace_violation", ErrorCode::bad_request, 400, false},
    {ErrorCode::quarantined, "quarantined", ErrorCode::partition, 503, true},
    {ErrorCode::invite_invalid, "invite_invalid", ErrorCode::bad_request, 400, false},
    {ErrorCode::invite_expired, "invite_expired", ErrorCode::expired, 410, false},
    {ErrorCode::invitee_mismatch, "invitee_mismatch", ErrorCode::unauthorized, 401, false},
    {ErrorCode::bootstrap_unreachable, "bootstrap_unreachable", ErrorCode::partition, 503, true},
    {ErrorCode::community_manifest_invalid, "community_manifest_invalid", ErrorCode::bad_request, 400, false},
    {ErrorCode::sync_failed, "sync_failed", ErrorCode::partition, 503, true},
    {ErrorCode::already_member, "already_member", ErrorCode::bad_request, 400, false},
}};

const CodeInfo& info(ErrorCode code) {
  for (const auto& c : CODES) {
    if (c.code == code) return c;
  }
  return CODES[12];  // internal_error
}

}  // namespace

std::string_view to_string(ErrorCode code) { return info(code).name; }

std::optional<ErrorCode> error_code_from_string(std::string_view name) {
  for (const auto& c : CODES) {
    if (c.name == name) return c.code;
  }
  return std::nullopt;
}

ErrorCode to_wire_code(ErrorCode code) { return info(code).wire; }
int http_status(ErrorCode code) { return info(code).http; }
bool is_retryable(ErrorCode code) { return info(code).retryable; }

std::string Error::to_string() const {
  return std::string(hn::to_string(code)) + ": " + message;
}

nlohmann::json Error::to_json() const {
  nlohmann::json j = {{"error", std::string(hn::to_string(to_wire_code(code)))},
                      {"message", message}};
  if (!detail.is_null()) j["detail"] = detail;
  if (to_wire_code(code) != code) j["detail"]["domain_code"] = std::string(hn::to_string(code));
  if (retry_after_ms) j["retry_after_ms"] = *retry_after_ms;
  return j;
}

}  // namespace hn
