// manifest_fields.h — what the node and community manifests' parsers share (manifest.h):
// strict field reading whose errors name the field by its dotted path (bad_manifest), the
// bytes a manifest's signature covers, and a manifest's text parsed as JSON.
//
// Thread-safety: Reader is a value used by one thread; the functions are pure.
#pragma once

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/constants.h"
#include "core/encoding.h"
#include "core/error.h"
#include "core/json.h"
#include "core/time.h"
#include "core/types.h"

namespace hn::identity::detail {

// -------------------------------------------------------------------------------------------
// Strict field reading with errors that name the field by its dotted path.

inline Error field_error(std::string_view doc, const std::string& path, const std::string& what) {
  return make_error(ErrorCode::bad_manifest,
                    std::string(doc) + ": field '" + path + "' " + what, Json{{"field", path}});
}

// Largest integer a double holds exactly (CONTRACT §1.1: integers fit in 53 bits).
inline constexpr double MAX_SAFE_INTEGER = 9007199254740991.0;

class Reader {
 public:
  Reader(std::string_view doc, const Json& obj, std::string prefix)
      : m_doc(doc), m_obj(obj), m_prefix(std::move(prefix)) {}

  std::string path(std::string_view key) const {
    return m_prefix.empty() ? std::string(key) : m_prefix + "." + std::string(key);
  }
  Error error(std::string_view key, const std::string& what) const {
    return field_error(m_doc, path(key), what);
  }

  Result<const Json*> field(std::string_view key) {
    m_known.insert(std::string(key));
    auto it = m_obj.find(key);
    if (it == m_obj.end()) return error(key, "is missing");
    return &*it;
  }

  Result<std::string> string(std::string_view key) {
    HN_TRY_ASSIGN(const Json* v, field(key));
    if (!v->is_string()) return error(key, "must be a string");
    return v->get<std::string>();
  }
  Result<std::string> non_empty_string(std::string_view key) {
    HN_TRY_ASSIGN(std::string s, string(key));
    if (s.empty()) return error(key, "must not be empty");
    return s;
  }
  Result<std::optional<std::string>> nullable_string(std::string_view key) {
    HN_TRY_ASSIGN(const Json* v, field(key));
    if (v->is_null()) return std::optional<std::string>();
    if (!v->is_string()) return error(key, "must be a string or null");
    return std::optional<std::string>(v->get<std::string>());
  }
  Result<std::int64_t> integer(std::string_view key, std::int64_t min = 0,
                               std::int64_t max = static_cast<std::int64_t>(MAX_SAFE_INTEGER)) {
    HN_TRY_ASSIGN(const Json* v, field(key));
    std::int64_t out = 0;
    if (v->is_number_integer()) {
      out = v->get<std::int64_t>();
    } else if (v->is_number_unsigned()) {
      auto u = v->get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(max)) return error(key, "is out of range");
      out = static_cast<std::int64_t>(u);
    } else if (v->is_number_float()) {
      double d = v->get<double>();
      if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > MAX_SAFE_INTEGER) {
        return error(key, "must be an integer");
      }
      out = static_cast<std::int64_t>(d);
    } else {
      return error(key, "must be an integer");
    }
    if (out < min || out > max) return error(key, "is out of range");
    return out;
  }
  // A non-negative finite number (hardware quantities). Integers beyond 2^53 are refused so
  // the canonical form survives the conversion to double.
  Result<double> number(std::string_view key) {
    HN_TRY_ASSIGN(const Json* v, field(key));
    if (!v->is_number()) return error(key, "must be a number");
    const double d = v->get<double>();
    if (!std::isfinite(d) || std::fabs(d) > MAX_SAFE_INTEGER) return error(key, "is out of range");
    if (d < 0) return error(key, "must not be negative");
    return d;
  }
  Result<bool> boolean(std::string_view key) {
    HN_TRY_ASSIGN(const Json* v, field(key));
    if (!v->is_boolean()) return error(key, "must be a boolean");
    return v->get<bool>();
  }
  Result<const Json*> object(std::string_view key) {
    HN_TRY_ASSIGN(const Json* v, field(key));
    if (!v->is_object()) return error(key, "must be an object");
    return v;
  }
  Result<const Json*> array(std::string_view key) {
    HN_TRY_ASSIGN(const Json* v, field(key));
    if (!v->is_array()) return error(key, "must be an array");
    return v;
  }
  Result<NodeId> node_id(std::string_view key) {
    HN_TRY_ASSIGN(std::string s, string(key));
    if (!parse_node_id(s)) return error(key, "must be a full node id \"ed25519:<base64url key>\"");
    return NodeId(std::move(s));
  }
  Result<WallClock> timestamp(std::string_view key) {
    HN_TRY_ASSIGN(std::string s, string(key));
    auto secs = parse_rfc3339(s);
    // CONTRACT §1.1: UTC with Z, whole seconds outside tracing.
    if (!secs || format_rfc3339(*secs) != s) {
      return error(key, "must be an RFC 3339 UTC timestamp like 2026-05-26T08:14:22Z");
    }
    return s;
  }

  // Every key of the object that no accessor asked for.
  std::vector<std::string> unknown_keys() const {
    std::vector<std::string> out;
    for (auto it = m_obj.begin(); it != m_obj.end(); ++it) {
      if (!m_known.contains(it.key())) out.push_back(it.key());
    }
    return out;
  }
  Status reject_unknown() const {
    auto unknown = unknown_keys();
    if (!unknown.empty()) return error(unknown.front(), "is not part of the schema");
    return {};
  }

 private:
  std::string_view m_doc;
  const Json& m_obj;
  std::string m_prefix;
  std::set<std::string, std::less<>> m_known;
};

inline Error not_object(std::string_view doc, const std::string& path) {
  if (path.empty()) {
    return make_error(ErrorCode::bad_manifest, std::string(doc) + " is not a JSON object");
  }
  return field_error(doc, path, "must be an object");
}

inline std::string indexed(const std::string& base, std::size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

inline constexpr std::string_view NODE_DOC = "node manifest";
inline constexpr std::string_view COMMUNITY_DOC = "community manifest";

// The bytes a manifest's signature covers: canonical JSON without "signature".
inline std::string signed_bytes(Json j) {
  j.erase("signature");
  return canonical_json(j);
}

inline Result<Json> parse_text(std::string_view doc, std::string_view text) {
  auto j = parse_json(text);
  if (!j) {
    return make_error(ErrorCode::bad_manifest, std::string(doc) + ": " + j.error().message);
  }
  return std::move(j).value();
}

}  // namespace hn::identity::detail
