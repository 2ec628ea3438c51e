// serialize.cpp — Config → TOML text and the atomic save (X04 §4 save). The writer is
// hand-rolled so that sections come out in the spec's order with exact float round trips;
// parse.cpp reads its output back to an equal Config (tests/config/ checks it).
#include <charconv>
#include <cstdio>
#include <string>

#include "config/config.h"
#include "config/detail/common.h"
#include "core/file_util.h"

namespace hn::config {

namespace {

// A TOML basic string: escapes quotes, backslashes and control characters, and "${" so that
// ${NAME} expansion on load gives the value back (X04 §7).
std::string toml_string(std::string_view raw) {
  std::string s = detail::escape_env_refs(raw);
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

// The shortest text that reads back as exactly v, always with a '.' or an exponent so that
// TOML sees a float. Non-finite values never get here (validate rejects them).
std::string toml_float(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

class TomlWriter {
 public:
  void section(std::string_view name) {
    if (!m_out.empty()) m_out += '\n';
    m_out += "[" + std::string(name) + "]\n";
  }
  void array_section(std::string_view name) {
    if (!m_out.empty()) m_out += '\n';
    m_out += "[[" + std::string(name) + "]]\n";
  }
  void comment(std::string_view text) { m_out += "# " + std::string(text) + "\n"; }
  void boolean(std::string_view key, bool v) { line(key, v ? "true" : "false"); }
  void integer(std::string_view key, std::int64_t v) { line(key, std::to_string(v)); }
  void number(std::string_view key, double v) { line(key, toml_float(v)); }
  void string(std::string_view key, std::string_view v) { line(key, toml_string(v)); }
  void optional_string(std::string_view key, const std::optional<std::string>& v) {
    if (v) string(key, *v);
  }
  void path(std::string_view key, const fs::path& p) {
    if (!p.empty()) string(key, p.native());
  }
  void optional_path(std::string_view key, const std::optional<fs::path>& p) {
    if (p) string(key, p->native());
  }
  void string_list(std::string_view key, const std::vector<std::string>& items) {
    std::string v = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0) v += ", ";
      v += toml_string(items[i]);
    }
    v += "]";
    line(key, v);
  }
  std::string take() && { return std::move(m_out); }

 private:
  void line(std::string_view key, std::string_view value) {
    m_out += std::string(key) + " = " + std::string(value) + "\n";
  }
  std::string m_out;
};

}  // namespace

std::string serialize_config(const Config& cfg) {
  TomlWriter w;
  w.comment("HearthNet node configuration (X04). Empty paths resolve to XDG / HEARTHNET_HOME.");

  w.section("node");
  w.string("display_name", cfg.node.display_name);
  w.string("profile", to_string(cfg.node.profile));
  w.path("data_dir", cfg.node.data_dir);

  w.section("identity");
  w.path("keys_dir", cfg.identity.keys_dir);
  w.boolean("auto_generate", cfg.identity.auto_generate);

  w.section("community");
  if (!cfg.community.community_id) w.comment("community_id is set by `hearthnet init`");
  w.optional_string("community_id", cfg.community.community_id);
  w.path("state_dir", cfg.community.state_dir);

  w.section("transport");
  w.string("host", cfg.transport.host);
  w.integer("port", cfg.transport.port);
  w.optional_path("tls_cert", cfg.transport.tls_cert);
  w.optional_path("tls_key", cfg.transport.tls_key);

  w.section("discovery");
  w.boolean("mdns_enabled", cfg.discovery.mdns_enabled);
  w.boolean("udp_enabled", cfg.discovery.udp_enabled);
  w.string("udp_multicast_group", cfg.discovery.udp_multicast_group);
  w.integer("udp_port", cfg.discovery.udp_port);
  w.string_list("relay_urls", cfg.discovery.relay_urls);
  w.string_list("bootstrap_peers", cfg.discovery.bootstrap_peers);
  w.integer("prune_after_seconds", cfg.discovery.prune_after_seconds);
  w.integer("aggressive_prune_after_seconds", cfg.discovery.aggressive_prune_after_seconds);
  w.boolean("aggressive_pruning", cfg.discovery.aggressive_pruning);

  w.section("bus");
  w.boolean("prefer_local", cfg.bus.prefer_local);
  w.number("local_load_threshold", cfg.bus.local_load_threshold);

  for (const auto& b : cfg.llm.backends) {
    w.array_section("llm.backends");
    w.string("name", b.name);
    w.optional_string("url", b.url);
    w.optional_string("model", b.model);
    w.optional_string("api_key_env", b.api_key_env);
  }

  w.section("embedding");
  w.string("model", cfg.embedding.model);
  w.string("device", cfg.embedding.device);

  w.section("rag");
  w.boolean("enabled", cfg.rag.enabled);
  w.path("corpora_dir", cfg.rag.corpora_dir);

  w.section("file");
  w.path("blobs_dir", cfg.file.blobs_dir);
  w.number("gc_threshold", cfg.file.gc_threshold);
  w.number("gc_target", cfg.file.gc_target);
  w.integer("max_store_bytes", cfg.file.max_store_bytes);

  w.section("market");
  w.boolean("enabled", cfg.market.enabled);
  w.integer("default_ttl_seconds", cfg.market.default_ttl_seconds);
  w.integer("max_ttl_seconds", cfg.market.max_ttl_seconds);

  w.section("chat");
  w.boolean("enabled", cfg.chat.enabled);
  w.boolean("store_and_forward", cfg.chat.store_and_forward);
  w.boolean("read_receipts_enabled", cfg.chat.read_receipts_enabled);

  w.section("emergency");
  w.string_list("probe_targets", cfg.emergency.probe_targets);

  w.section("ui");
  w.string("host", cfg.ui.host);
  w.integer("port", cfg.ui.port);
  w.boolean("launch_browser", cfg.ui.launch_browser);

  w.section("observability");
  w.string("log_level", cfg.observability.log_level);
  w.path("log_dir", cfg.observability.log_dir);
  w.boolean("metrics_enabled", cfg.observability.metrics_enabled);
  w.optional_string("otlp_endpoint", cfg.observability.otlp_endpoint);
  w.optional_string("trackio_project", cfg.observability.trackio_project);
  w.optional_string("trackio_space", cfg.observability.trackio_space);
  w.integer("log_max_file_bytes", cfg.observability.log_max_file_bytes);
  w.integer("log_max_files", cfg.observability.log_max_files);

  w.section("events");
  w.path("db_path", cfg.events.db_path);
  w.path("snapshots_dir", cfg.events.snapshots_dir);

  return std::move(w).take();
}

Status save_config(const Config& cfg, const fs::path& path) {
  HN_TRY(validate(cfg));
  auto written = atomic_write_file(path, serialize_config(cfg), fs::perms(0644));
  if (!written) {
    return detail::general_error("io", "cannot save config to " + path.string() + ": " +
                                           written.error().message);
  }
  return {};
}

}  // namespace hn::config
