// config.cpp — X04 defaults, the shared error helpers, ${NAME} expansion and validate().
// Parsing lives in parse.cpp (toml++), rendering and saving in serialize.cpp.
#include "config/config.h"

#include <array>
#include <cmath>
#include <string>

#include "config/detail/common.h"
#include "core/encoding.h"

namespace hn::config {

namespace {

constexpr std::array<std::string_view, 9> LLM_BACKENDS = {
    "llama_cpp", "ollama",  "lmstudio", "vllm",        "hf_api",
    "anthropic_api", "nemotron", "openbmb", "llama_server"};

constexpr std::array<std::string_view, 7> LOG_LEVELS = {"trace", "debug",    "info", "warning",
                                                       "error", "critical", "off"};

constexpr std::array<std::string_view, 3> EMBEDDING_DEVICES = {"cpu", "cuda", "auto"};

// M02 §3: the mDNS instance name is "<display_name>-<4 chars>" and must fit one 63-byte
// DNS label.
constexpr std::size_t MAX_DISPLAY_NAME_BYTES = 58;

bool is_env_name(std::string_view s) {
  if (s.empty()) return false;
  auto head = s.front();
  if (!(head == '_' || (head >= 'A' && head <= 'Z') || (head >= 'a' && head <= 'z'))) return false;
  for (char c : s) {
    bool ok = c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

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

bool starts_with_http(std::string_view s) {
  return (s.starts_with("http://") && s.size() > 7) || (s.starts_with("https://") && s.size() > 8);
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

// "host:port", "[v6]:port" or an http(s):// URL — DiscoveryConfig::bootstrap_peers.
bool is_valid_peer_address(std::string_view s) {
  if (s.starts_with("http://") || s.starts_with("https://")) {
    return starts_with_http(s) && !has_whitespace_or_control(s);
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

std::string fmt_double(double v) {
  std::string s = std::to_string(v);
  if (std::isfinite(v)) {
    // Trim the trailing zeros std::to_string leaves ("0.800000" → "0.8").
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

// The checks below report the first problem found, naming the field.
class Checker {
 public:
  Status status() && {
    if (m_error) return std::move(*m_error);
    return {};
  }
  bool ok() const { return !m_error.has_value(); }

  void fail(std::string_view field, std::string_view problem, std::string what) {
    if (!m_error) m_error = detail::field_error(field, problem, what);
  }

  void text(std::string_view field, std::string_view s) {
    if (s.find('\0') != std::string_view::npos) {
      fail(field, detail::PROBLEM_INVALID_VALUE, "contains a NUL character");
    } else if (!detail::is_valid_utf8(s)) {
      fail(field, detail::PROBLEM_INVALID_VALUE, "is not valid UTF-8");
    }
  }
  void opt_text(std::string_view field, const std::optional<std::string>& s) {
    if (s) text(field, *s);
  }
  void path(std::string_view field, const fs::path& p) { text(field, p.native()); }
  void path(std::string_view field, const std::optional<fs::path>& p) {
    if (p) {
      path(field, *p);
      if (p->empty()) fail(field, detail::PROBLEM_INVALID_VALUE, "must not be empty when set");
    }
  }
  void non_empty(std::string_view field, std::string_view s) {
    if (s.empty()) fail(field, detail::PROBLEM_INVALID_VALUE, "must not be empty");
  }
  void host(std::string_view field, std::string_view s) {
    text(field, s);
    non_empty(field, s);
    if (has_whitespace_or_control(s)) {
      fail(field, detail::PROBLEM_INVALID_VALUE, "must not contain whitespace");
    }
  }
  void range(std::string_view field, std::int64_t v, std::int64_t lo, std::int64_t hi) {
    if (v < lo || v > hi) {
      fail(field, detail::PROBLEM_OUT_OF_RANGE,
           std::to_string(v) + " is out of range (" + std::to_string(lo) + ".." +
               std::to_string(hi) + ")");
    }
  }
  void positive(std::string_view field, std::int64_t v) {
    if (v <= 0) {
      fail(field, detail::PROBLEM_OUT_OF_RANGE, std::to_string(v) + " must be greater than 0");
    }
  }
  // 0 < v <= 1 (NaN fails).
  void fraction(std::string_view field, double v) {
    if (!(v > 0.0 && v <= 1.0)) {
      fail(field, detail::PROBLEM_OUT_OF_RANGE,
           fmt_double(v) + " is out of range (must be > 0 and <= 1)");
    }
  }
  void one_of(std::string_view field, std::string_view v, std::span<const std::string_view> set) {
    if (!contains(set, v)) {
      fail(field, detail::PROBLEM_INVALID_VALUE,
           detail::quote_value(v) + " is not one of: " + join(set));
    }
  }

 private:
  std::optional<Error> m_error;
};

bool is_valid_community_id(std::string_view id) {
  constexpr std::string_view prefix = "ed25519:";
  if (!id.starts_with(prefix)) return false;
  auto raw = base64url_decode(id.substr(prefix.size()));
  return raw.has_value() && raw->size() == 32;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// detail helpers

namespace detail {

Error field_error(std::string_view field, std::string_view problem, std::string_view what,
                  std::optional<std::int64_t> line) {
  std::string name = printable(field, 200);
  std::string message = name + ": " + std::string(what);
  nlohmann::json d = {{"reason", "invalid_field"},
                      {"field", name},
                      {"problem", std::string(problem)}};
  if (line) {
    message += " (line " + std::to_string(*line) + ")";
    d["line"] = *line;
  }
  return make_error(ErrorCode::config_error, std::move(message), std::move(d));
}

Error general_error(std::string_view reason, std::string message,
                    std::optional<std::int64_t> line) {
  nlohmann::json d = {{"reason", std::string(reason)}};
  if (line) d["line"] = *line;
  return make_error(ErrorCode::config_error, std::move(message), std::move(d));
}

std::string quote_value(std::string_view v) { return "\"" + printable(v, 64) + "\""; }

std::string printable(std::string_view v, std::size_t max_bytes) {
  std::string out;
  std::size_t i = 0;
  while (i < v.size() && i < max_bytes) {
    auto c = static_cast<unsigned char>(v[i]);
    if (c < 0x80) {
      out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
      ++i;
      continue;
    }
    std::size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (len > 1 && i + len <= v.size() && is_valid_utf8(v.substr(i, len))) {
      out += v.substr(i, len);
      i += len;
    } else {
      out += '?';
      ++i;
    }
  }
  if (i < v.size()) out += "...";
  return out;
}

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) {
      return false;  // overlong
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::optional<std::string> expand_env_refs(std::string_view s, const Env& env,
                                           std::string* problem) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    if (s.substr(i, 3) == "$${") {
      out += "${";
      i += 3;
      continue;
    }
    if (s.substr(i, 2) == "${") {
      auto close = s.find('}', i + 2);
      if (close == std::string_view::npos) {
        *problem = "unterminated ${ in value";
        return std::nullopt;
      }
      auto name = s.substr(i + 2, close - i - 2);
      if (!is_env_name(name)) {
        *problem = "bad environment variable name in ${" + std::string(name) + "}";
        return std::nullopt;
      }
      auto value = env.get(name);
      if (!value) {
        *problem = "environment variable " + std::string(name) + " is not set";
        return std::nullopt;
      }
      out += *value;
      i = close + 1;
      continue;
    }
    out += s[i];
    ++i;
  }
  return out;
}

std::string escape_env_refs(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') out += '$';
    out += s[i];
  }
  return out;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------

std::span<const std::string_view> known_llm_backends() { return LLM_BACKENDS; }
std::span<const std::string_view> known_log_levels() { return LOG_LEVELS; }

Config default_config() { return Config{}; }

// X04 §4 validate — every rule names its field.
Status validate(const Config& cfg) {
  Checker c;

  // [node]
  c.text("node.display_name", cfg.node.display_name);
  if (cfg.node.display_name.size() > MAX_DISPLAY_NAME_BYTES) {
    c.fail("node.display_name", detail::PROBLEM_OUT_OF_RANGE,
           "is " + std::to_string(cfg.node.display_name.size()) + " bytes long (at most " +
               std::to_string(MAX_DISPLAY_NAME_BYTES) + ")");
  }
  for (unsigned char ch : cfg.node.display_name) {
    if (ch < 0x20 || ch == 0x7f) {
      c.fail("node.display_name", detail::PROBLEM_INVALID_VALUE, "contains a control character");
      break;
    }
  }
  c.path("node.data_dir", cfg.node.data_dir);

  // [identity]
  c.path("identity.keys_dir", cfg.identity.keys_dir);

  // [community]
  if (cfg.community.community_id) {
    c.text("community.community_id", *cfg.community.community_id);
    if (c.ok() && !is_valid_community_id(*cfg.community.community_id)) {
      c.fail("community.community_id", detail::PROBLEM_INVALID_VALUE,
             "must be \"ed25519:<43 base64url characters>\"");
    }
  }
  c.path("community.state_dir", cfg.community.state_dir);

  // [transport]
  c.host("transport.host", cfg.transport.host);
  c.range("transport.port", cfg.transport.port, 0, 65535);
  c.path("transport.tls_cert", cfg.transport.tls_cert);
  c.path("transport.tls_key", cfg.transport.tls_key);
  if (cfg.transport.tls_cert.has_value() != cfg.transport.tls_key.has_value()) {
    if (cfg.transport.tls_cert) {
      c.fail("transport.tls_key", detail::PROBLEM_INVALID_VALUE,
             "must be set when transport.tls_cert is set");
    } else {
      c.fail("transport.tls_cert", detail::PROBLEM_INVALID_VALUE,
             "must be set when transport.tls_key is set");
    }
  }

  // [discovery]
  c.text("discovery.udp_multicast_group", cfg.discovery.udp_multicast_group);
  int first_octet = 0;
  if (!parse_ipv4(cfg.discovery.udp_multicast_group, &first_octet) || first_octet < 224 ||
      first_octet > 239) {
    c.fail("discovery.udp_multicast_group", detail::PROBLEM_INVALID_VALUE,
           detail::quote_value(cfg.discovery.udp_multicast_group) +
               " is not an IPv4 multicast address (224.0.0.0-239.255.255.255)");
  }
  c.range("discovery.udp_port", cfg.discovery.udp_port, 1, 65535);
  for (std::size_t i = 0; i < cfg.discovery.relay_urls.size(); ++i) {
    auto field = "discovery.relay_urls[" + std::to_string(i) + "]";
    c.text(field, cfg.discovery.relay_urls[i]);
    c.non_empty(field, cfg.discovery.relay_urls[i]);
  }
  for (std::size_t i = 0; i < cfg.discovery.bootstrap_peers.size(); ++i) {
    auto field = "discovery.bootstrap_peers[" + std::to_string(i) + "]";
    const auto& peer = cfg.discovery.bootstrap_peers[i];
    c.text(field, peer);
    if (c.ok() && !is_valid_peer_address(peer)) {
      c.fail(field, detail::PROBLEM_INVALID_VALUE,
             detail::quote_value(peer) + " is not host:port, [v6]:port or an http(s) URL");
    }
  }
  c.positive("discovery.prune_after_seconds", cfg.discovery.prune_after_seconds);
  c.positive("discovery.aggressive_prune_after_seconds",
             cfg.discovery.aggressive_prune_after_seconds);
  if (cfg.discovery.aggressive_prune_after_seconds > cfg.discovery.prune_after_seconds) {
    c.fail("discovery.aggressive_prune_after_seconds", detail::PROBLEM_OUT_OF_RANGE,
           std::to_string(cfg.discovery.aggressive_prune_after_seconds) +
               " must not exceed discovery.prune_after_seconds (" +
               std::to_string(cfg.discovery.prune_after_seconds) + ")");
  }

  // [bus]
  c.fraction("bus.local_load_threshold", cfg.bus.local_load_threshold);

  // [llm]
  for (std::size_t i = 0; i < cfg.llm.backends.size(); ++i) {
    const auto& b = cfg.llm.backends[i];
    auto base = "llm.backends[" + std::to_string(i) + "].";
    c.text(base + "name", b.name);
    c.one_of(base + "name", b.name, LLM_BACKENDS);
    c.opt_text(base + "url", b.url);
    c.opt_text(base + "model", b.model);
    c.opt_text(base + "api_key_env", b.api_key_env);
    if (b.url && !b.url->empty() && b.name != "llama_cpp" && !starts_with_http(*b.url)) {
      c.fail(base + "url", detail::PROBLEM_INVALID_VALUE,
             detail::quote_value(*b.url) + " must start with http:// or https://");
    }
    if (b.api_key_env && !is_env_name(*b.api_key_env)) {
      c.fail(base + "api_key_env", detail::PROBLEM_INVALID_VALUE,
             detail::quote_value(*b.api_key_env) + " is not an environment variable name");
    }
  }

  // [embedding]
  c.text("embedding.model", cfg.embedding.model);
  c.non_empty("embedding.model", cfg.embedding.model);
  c.one_of("embedding.device", cfg.embedding.device, EMBEDDING_DEVICES);

  // [rag]
  c.path("rag.corpora_dir", cfg.rag.corpora_dir);

  // [file] — M07 §5.4: 0 < gc_target < gc_threshold <= 1.
  c.path("file.blobs_dir", cfg.file.blobs_dir);
  c.fraction("file.gc_threshold", cfg.file.gc_threshold);
  c.fraction("file.gc_target", cfg.file.gc_target);
  if (!(cfg.file.gc_target < cfg.file.gc_threshold)) {
    c.fail("file.gc_target", detail::PROBLEM_OUT_OF_RANGE,
           fmt_double(cfg.file.gc_target) + " must be less than file.gc_threshold (" +
               fmt_double(cfg.file.gc_threshold) + ")");
  }
  c.range("file.max_store_bytes", cfg.file.max_store_bytes, 0, INT64_MAX);

  // [market] — M06: default_ttl <= max_ttl.
  c.positive("market.default_ttl_seconds", cfg.market.default_ttl_seconds);
  c.positive("market.max_ttl_seconds", cfg.market.max_ttl_seconds);
  if (cfg.market.default_ttl_seconds > cfg.market.max_ttl_seconds) {
    c.fail("market.default_ttl_seconds", detail::PROBLEM_OUT_OF_RANGE,
           std::to_string(cfg.market.default_ttl_seconds) +
               " must not exceed market.max_ttl_seconds (" +
               std::to_string(cfg.market.max_ttl_seconds) + ")");
  }

  // [emergency]
  if (cfg.emergency.probe_targets.empty()) {
    c.fail("emergency.probe_targets", detail::PROBLEM_INVALID_VALUE,
           "must list at least one target");
  }
  for (std::size_t i = 0; i < cfg.emergency.probe_targets.size(); ++i) {
    c.host("emergency.probe_targets[" + std::to_string(i) + "]", cfg.emergency.probe_targets[i]);
  }

  // [ui]
  c.host("ui.host", cfg.ui.host);
  c.range("ui.port", cfg.ui.port, 0, 65535);

  // [observability]
  c.one_of("observability.log_level", cfg.observability.log_level, LOG_LEVELS);
  c.path("observability.log_dir", cfg.observability.log_dir);
  c.opt_text("observability.otlp_endpoint", cfg.observability.otlp_endpoint);
  if (cfg.observability.otlp_endpoint && !starts_with_http(*cfg.observability.otlp_endpoint)) {
    c.fail("observability.otlp_endpoint", detail::PROBLEM_INVALID_VALUE,
           "must start with http:// or https://");
  }
  c.opt_text("observability.trackio_project", cfg.observability.trackio_project);
  c.opt_text("observability.trackio_space", cfg.observability.trackio_space);
  c.range("observability.log_max_file_bytes", cfg.observability.log_max_file_bytes, 4096,
          INT64_MAX);
  c.range("observability.log_max_files", cfg.observability.log_max_files, 1, 100000);

  // [events]
  c.path("events.db_path", cfg.events.db_path);
  c.path("events.snapshots_dir", cfg.events.snapshots_dir);

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
