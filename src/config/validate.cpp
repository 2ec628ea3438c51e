// validate.cpp — X04 §4 validate(): each key's Rule from the schema (detail/schema.h), the
// cross-field rules the tables name, and the rules across sections. The first problem found
// is reported, naming its field; checks run in schema order, a field's own before its
// cross-field rule.
#include <cmath>
#include <cstdint>
#include <string>

#include "config/config.h"
#include "config/detail/common.h"
#include "config/detail/schema.h"
#include "core/encoding.h"

namespace hn::config {
namespace detail {

namespace {

// M02 §3: the mDNS instance name is "<display_name>-<4 chars>" and must fit one 63-byte
// DNS label.
constexpr std::size_t MAX_DISPLAY_NAME_BYTES = 58;

bool contains(std::span<const std::string_view> set, std::string_view v) {
  for (auto s : set) {
    if (s == v) return true;
  }
  return false;
}

std::string join(std::span<const std::string_view> set) {
  std::string out;
  for (auto s : set) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

bool has_whitespace_or_control(std::string_view s) {
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

// "a.b.c.d" with each part a decimal octet; the first octet returned through first.
bool parse_ipv4(std::string_view s, int* first) {
  int parts = 0;
  std::size_t i = 0;
  while (parts < 4) {
    std::size_t start = i;
    int value = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) {
      value = value * 10 + (s[i] - '0');
      ++i;
    }
    if (i == start || value > 255) return false;
    if (i - start > 1 && s[start] == '0') return false;  // no leading zeros (octal ambiguity)
    if (parts == 0) *first = value;
    ++parts;
    if (parts < 4) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  return i == s.size();
}

bool parse_port(std::string_view s, int* port) {
  if (s.empty() || s.size() > 5) return false;
  int value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > 65535) return false;
  *port = value;
  return true;
}

std::string fmt_double(double v) {
  std::string s = std::to_string(v);
  if (std::isfinite(v)) {
    // Trim the trailing zeros std::to_string leaves ("0.800000" → "0.8").
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

// A Check::format message: "{}" in problem becomes the quoted value.
std::string format_problem(std::string_view problem, std::string_view value) {
  auto at = problem.find("{}");
  if (at == std::string_view::npos) return std::string(problem);
  return std::string(problem.substr(0, at)) + quote_value(value) +
         std::string(problem.substr(at + 2));
}

}  // namespace

// Keeps the first problem reported, naming its field.
class Checker {
 public:
  Status status() && {
    if (m_error) return std::move(*m_error);
    return {};
  }

  void fail(std::string_view field, std::string_view problem, std::string what) {
    if (!m_error) m_error = field_error(field, problem, what);
  }

  void text(std::string_view field, std::string_view s) {
    if (s.find('\0') != std::string_view::npos) {
      fail(field, PROBLEM_INVALID_VALUE, "contains a NUL character");
    } else if (!is_valid_utf8(s)) {
      fail(field, PROBLEM_INVALID_VALUE, "is not valid UTF-8");
    }
  }
  void non_empty(std::string_view field, std::string_view s) {
    if (s.empty()) fail(field, PROBLEM_INVALID_VALUE, "must not be empty");
  }
  void range(std::string_view field, std::int64_t v, std::int64_t lo, std::int64_t hi) {
    if (v < lo || v > hi) {
      fail(field, PROBLEM_OUT_OF_RANGE,
           std::to_string(v) + " is out of range (" + std::to_string(lo) + ".." +
               std::to_string(hi) + ")");
    }
  }
  void positive(std::string_view field, std::int64_t v) {
    if (v <= 0) fail(field, PROBLEM_OUT_OF_RANGE, std::to_string(v) + " must be greater than 0");
  }
  // 0 < v <= 1 (NaN fails).
  void fraction(std::string_view field, double v) {
    if (!(v > 0.0 && v <= 1.0)) {
      fail(field, PROBLEM_OUT_OF_RANGE, fmt_double(v) + " is out of range (must be > 0 and <= 1)");
    }
  }
  void one_of(std::string_view field, std::string_view v, std::span<const std::string_view> set) {
    if (!contains(set, v)) {
      fail(field, PROBLEM_INVALID_VALUE, quote_value(v) + " is not one of: " + join(set));
    }
  }

 private:
  std::optional<Error> m_error;
};

// ---------------------------------------------------------------------------------------
// Formats and cross-field rules named by the schema

bool is_valid_community_id(std::string_view s) {
  constexpr std::string_view prefix = "ed25519:";
  if (!s.starts_with(prefix)) return false;
  auto raw = base64url_decode(s.substr(prefix.size()));
  return raw.has_value() && raw->size() == 32;
}

bool is_multicast_ipv4(std::string_view s) {
  int first_octet = 0;
  return parse_ipv4(s, &first_octet) && first_octet >= 224 && first_octet <= 239;
}

bool is_http_url(std::string_view s) {
  return (s.starts_with("http://") && s.size() > 7) || (s.starts_with("https://") && s.size() > 8);
}

bool is_valid_peer_address(std::string_view s) {
  if (s.starts_with("http://") || s.starts_with("https://")) {
    return is_http_url(s) && !has_whitespace_or_control(s);
  }
  if (has_whitespace_or_control(s)) return false;
  int port = 0;
  if (s.starts_with('[')) {
    auto close = s.find("]:");
    if (close == std::string_view::npos || close == 1) return false;
    return parse_port(s.substr(close + 2), &port);
  }
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  if (s.substr(0, colon).find(':') != std::string_view::npos) return false;  // bare v6
  return parse_port(s.substr(colon + 1), &port);
}

void check_display_name(Checker& c, std::string_view prefix, const NodeConfig& v) {
  const std::string field = std::string(prefix) + "display_name";
  if (v.display_name.size() > MAX_DISPLAY_NAME_BYTES) {
    c.fail(field, PROBLEM_OUT_OF_RANGE,
           "is " + std::to_string(v.display_name.size()) + " bytes long (at most " +
               std::to_string(MAX_DISPLAY_NAME_BYTES) + ")");
  }
  for (unsigned char ch : v.display_name) {
    if (ch < 0x20 || ch == 0x7f) {
      c.fail(field, PROBLEM_INVALID_VALUE, "contains a control character");
      break;
    }
  }
}

void check_tls_pair(Checker& c, std::string_view prefix, const TransportConfig& v) {
  if (v.tls_cert.has_value() == v.tls_key.has_value()) return;
  const std::string cert = std::string(prefix) + "tls_cert";
  const std::string key = std::string(prefix) + "tls_key";
  if (v.tls_cert) {
    c.fail(key, PROBLEM_INVALID_VALUE, "must be set when " + cert + " is set");
  } else {
    c.fail(cert, PROBLEM_INVALID_VALUE, "must be set when " + key + " is set");
  }
}

void check_prune_order(Checker& c, std::string_view prefix, const DiscoveryConfig& v) {
  if (v.aggressive_prune_after_seconds > v.prune_after_seconds) {
    c.fail(std::string(prefix) + "aggressive_prune_after_seconds", PROBLEM_OUT_OF_RANGE,
           std::to_string(v.aggressive_prune_after_seconds) + " must not exceed " +
               std::string(prefix) + "prune_after_seconds (" +
               std::to_string(v.prune_after_seconds) + ")");
  }
}

// `kind` names the type when set (then `name` is free); else `name` is the type.
void check_backend_kind(Checker& c, std::string_view prefix, const LlmBackendConfig& v) {
  if (v.kind) {
    c.one_of(std::string(prefix) + "kind", *v.kind, LLM_BACKENDS);
  } else {
    c.one_of(std::string(prefix) + "name", v.name, LLM_BACKENDS);
  }
}

void check_backend(Checker& c, std::string_view prefix, const LlmBackendConfig& v) {
  if (v.url && !v.url->empty() && v.type() != "llama_cpp" && !is_http_url(*v.url)) {
    c.fail(std::string(prefix) + "url", PROBLEM_INVALID_VALUE,
           quote_value(*v.url) + " must start with http:// or https://");
  }
  if (v.api_key_env && !is_env_name(*v.api_key_env)) {
    c.fail(std::string(prefix) + "api_key_env", PROBLEM_INVALID_VALUE,
           quote_value(*v.api_key_env) + " is not an environment variable name");
  }
}

void check_gc_order(Checker& c, std::string_view prefix, const FileConfig& v) {
  if (!(v.gc_target < v.gc_threshold)) {
    c.fail(std::string(prefix) + "gc_target", PROBLEM_OUT_OF_RANGE,
           fmt_double(v.gc_target) + " must be less than " + std::string(prefix) +
               "gc_threshold (" + fmt_double(v.gc_threshold) + ")");
  }
}

void check_ttl_order(Checker& c, std::string_view prefix, const MarketConfig& v) {
  if (v.default_ttl_seconds > v.max_ttl_seconds) {
    c.fail(std::string(prefix) + "default_ttl_seconds", PROBLEM_OUT_OF_RANGE,
           std::to_string(v.default_ttl_seconds) + " must not exceed " + std::string(prefix) +
               "max_ttl_seconds (" + std::to_string(v.max_ttl_seconds) + ")");
  }
}

void check_probe_targets(Checker& c, std::string_view prefix, const EmergencyConfig& v) {
  if (v.probe_targets.empty()) {
    c.fail(std::string(prefix) + "probe_targets", PROBLEM_INVALID_VALUE,
           "must list at least one target");
  }
}

// ---------------------------------------------------------------------------------------
// Rules applied by kind

namespace {

template <typename S>
void check_fields(Checker& c, std::string_view prefix,
                  std::span<const Field<std::type_identity_t<S>>> fields, const S& v);

void check_string(Checker& c, std::string_view field, std::string_view v, const Rule& rule) {
  if (rule.text == Text::checked) c.text(field, v);
  switch (rule.check) {
    case Check::non_empty:
      c.non_empty(field, v);
      break;
    case Check::host:
      c.non_empty(field, v);
      if (has_whitespace_or_control(v)) {
        c.fail(field, PROBLEM_INVALID_VALUE, "must not contain whitespace");
      }
      break;
    case Check::one_of:
      c.one_of(field, v, rule.set);
      break;
    case Check::format:
      if (rule.valid == nullptr || !rule.valid(v)) c.fail(field, PROBLEM_INVALID_VALUE, format_problem(rule.problem, v));
      break;
    default:
      break;
  }
}

void check_number(Checker& c, std::string_view field, std::int64_t v, const Rule& rule) {
  if (rule.check == Check::range) c.range(field, v, rule.lo, rule.hi);
  if (rule.check == Check::positive) c.positive(field, v);
}

void check_path(Checker& c, std::string_view field, const fs::path& p, const Rule& rule) {
  if (rule.text == Text::checked) c.text(field, p.native());
}

void check_value(Checker&, const std::string&, const bool&, const Rule&) {}
void check_value(Checker&, const std::string&, const Profile&, const Rule&) {}
void check_value(Checker& c, const std::string& field, const int& v, const Rule& rule) {
  check_number(c, field, v, rule);
}
void check_value(Checker& c, const std::string& field, const std::int64_t& v, const Rule& rule) {
  check_number(c, field, v, rule);
}
void check_value(Checker& c, const std::string& field, const double& v, const Rule& rule) {
  if (rule.check == Check::fraction) c.fraction(field, v);
}
void check_value(Checker& c, const std::string& field, const std::string& v, const Rule& rule) {
  check_string(c, field, v, rule);
}
void check_value(Checker& c, const std::string& field, const std::optional<std::string>& v,
                 const Rule& rule) {
  if (v) check_string(c, field, *v, rule);
}
void check_value(Checker& c, const std::string& field, const fs::path& v, const Rule& rule) {
  check_path(c, field, v, rule);
}
void check_value(Checker& c, const std::string& field, const std::optional<fs::path>& v,
                 const Rule& rule) {
  if (!v) return;
  check_path(c, field, *v, rule);
  if (v->empty()) c.fail(field, PROBLEM_INVALID_VALUE, "must not be empty when set");
}
void check_value(Checker& c, const std::string& field, const std::vector<std::string>& v,
                 const Rule& rule) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    check_string(c, field + "[" + std::to_string(i) + "]", v[i], rule);
  }
}
void check_value(Checker& c, const std::string& field, const std::vector<LlmBackendConfig>& v,
                 const Rule&) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    check_fields<LlmBackendConfig>(c, field + "[" + std::to_string(i) + "].", LLM_BACKEND_FIELDS,
                                   v[i]);
  }
}

template <typename S>
void check_fields(Checker& c, std::string_view prefix,
                  std::span<const Field<std::type_identity_t<S>>> fields, const S& v) {
  for (const auto& f : fields) {
    const std::string field = std::string(prefix) + std::string(f.key);
    std::visit([&](auto member) { check_value(c, field, v.*member, f.rule); }, f.member);
    if (f.then != nullptr) f.then(c, prefix, v);
  }
}

}  // namespace
}  // namespace detail

// X04 §4 validate — every rule names its field.
Status validate(const Config& cfg) {
  detail::Checker c;
  detail::for_each_section([&](const auto& section) {
    detail::check_fields(c, std::string(section.name) + ".", section.fields, cfg.*section.member);
  });

  // Cross-section rules — X04 §4: "transport port not equal to udp port"; the UI and the
  // bus server cannot share a TCP port either. Port 0 (ephemeral) never collides.
  if (cfg.transport.port != 0 && cfg.transport.port == cfg.discovery.udp_port) {
    c.fail("transport.port", detail::PROBLEM_INVALID_VALUE,
           std::to_string(cfg.transport.port) + " must differ from discovery.udp_port");
  }
  if (cfg.transport.port != 0 && cfg.transport.port == cfg.ui.port) {
    c.fail("ui.port", detail::PROBLEM_INVALID_VALUE,
           std::to_string(cfg.ui.port) + " must differ from transport.port");
  }
  return std::move(c).status();
}

}  // namespace hn::config
