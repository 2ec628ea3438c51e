// parse.cpp — TOML text → Config with toml++ (X04 §4 load). Every toml++ exception is
// caught here; a failure names the dotted key (or the line of a syntax error) and leaves no
// partial Config behind.
#include <exception>
#include <limits>
#include <set>
#include <string>

#include <toml++/toml.h>

#include "config/config.h"
#include "config/detail/common.h"
#include "core/file_util.h"

namespace hn::config {

namespace {

std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    default: return "nothing";
  }
}

std::int64_t line_of(const toml::node& n) { return static_cast<std::int64_t>(n.source().begin.line); }

// Reads the keys of one TOML table into typed fields, remembering which keys it consumed so
// that finish() can reject the rest as unknown. Fields keep their defaults when absent.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string prefix, const Env& env)
      : m_table(table), m_prefix(std::move(prefix)), m_env(env) {}

  std::string field(std::string_view key) const { return m_prefix + std::string(key); }

  Status boolean(std::string_view key, bool& out) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    if (const auto* v = n->as_boolean()) {
      out = v->get();
      return {};
    }
    return wrong_type(key, *n, "boolean");
  }

  Status integer(std::string_view key, std::int64_t& out) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    if (const auto* v = n->as_integer()) {
      out = v->get();
      return {};
    }
    return wrong_type(key, *n, "integer");
  }

  // An int field (a port): the value must also lie in [lo, hi].
  Status integer(std::string_view key, int& out, int lo, int hi) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    const auto* v = n->as_integer();
    if (v == nullptr) return wrong_type(key, *n, "integer");
    std::int64_t value = v->get();
    if (value < lo || value > hi) {
      return detail::field_error(field(key), detail::PROBLEM_OUT_OF_RANGE,
                                 std::to_string(value) + " is out of range (" +
                                     std::to_string(lo) + ".." + std::to_string(hi) + ")",
                                 line_of(*n));
    }
    out = static_cast<int>(value);
    return {};
  }

  // A float field; an integer is accepted too ("gc_threshold = 1").
  Status number(std::string_view key, double& out) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    if (const auto* v = n->as_floating_point()) {
      out = v->get();
      return {};
    }
    if (const auto* v = n->as_integer()) {
      out = static_cast<double>(v->get());
      return {};
    }
    return wrong_type(key, *n, "number");
  }

  Status string(std::string_view key, std::string& out) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    return string_value(field(key), *n, out);
  }

  Status optional_string(std::string_view key, std::optional<std::string>& out) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    std::string value;
    HN_TRY(string_value(field(key), *n, value));
    out = std::move(value);
    return {};
  }

  Status path(std::string_view key, fs::path& out) {
    std::string value;
    const auto* n = find(key);
    if (n == nullptr) return {};
    HN_TRY(string_value(field(key), *n, value));
    out = fs::path(value);
    return {};
  }

  Status optional_path(std::string_view key, std::optional<fs::path>& out) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    std::string value;
    HN_TRY(string_value(field(key), *n, value));
    out = fs::path(value);
    return {};
  }

  Status string_list(std::string_view key, std::vector<std::string>& out) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    const auto* arr = n->as_array();
    if (arr == nullptr) return wrong_type(key, *n, "array of strings");
    std::vector<std::string> values;
    values.reserve(arr->size());
    for (std::size_t i = 0; i < arr->size(); ++i) {
      std::string value;
      HN_TRY(string_value(field(key) + "[" + std::to_string(i) + "]", *arr->get(i), value));
      values.push_back(std::move(value));
    }
    out = std::move(values);
    return {};
  }

  Status profile(std::string_view key, Profile& out) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    std::string value;
    HN_TRY(string_value(field(key), *n, value));
    auto p = parse_profile(value);
    if (!p) {
      return detail::field_error(field(key), detail::PROBLEM_INVALID_VALUE,
                                 detail::quote_value(value) + " is not one of: anchor, hearth, spark, bridge",
                                 line_of(*n));
    }
    out = *p;
    return {};
  }

  // The raw node under key (marking the key known); nullptr when absent.
  const toml::node* node(std::string_view key) { return find(key); }

  Status wrong_type(std::string_view key, const toml::node& n, std::string_view expected) const {
    return detail::field_error(field(key), detail::PROBLEM_WRONG_TYPE,
                               "expected " + std::string(expected) + ", got " +
                                   std::string(type_name(n)),
                               line_of(n));
  }

  // Rejects every key that no read above asked for.
  Status finish() const {
    for (auto&& [k, v] : m_table) {
      if (m_seen.count(std::string(k.str())) == 0) {
        return detail::field_error(field(k.str()), detail::PROBLEM_UNKNOWN_KEY, "unknown key",
                                   line_of(v));
      }
    }
    return {};
  }

 private:
  const toml::node* find(std::string_view key) {
    m_seen.emplace(key);
    return m_table.get(key);
  }

  Status string_value(const std::string& name, const toml::node& n, std::string& out) const {
    const auto* v = n.as_string();
    if (v == nullptr) {
      return detail::field_error(name, detail::PROBLEM_WRONG_TYPE,
                                 "expected string, got " + std::string(type_name(n)),
                                 line_of(n));
    }
    const std::string& raw = v->get();
    if (raw.find('\0') != std::string::npos) {
      return detail::field_error(name, detail::PROBLEM_INVALID_VALUE, "contains a NUL character",
                                 line_of(n));
    }
    std::string problem;
    auto expanded = detail::expand_env_refs(raw, m_env, &problem);
    if (!expanded) {
      return detail::field_error(name, detail::PROBLEM_INVALID_VALUE, problem, line_of(n));
    }
    out = std::move(*expanded);
    return {};
  }

  const toml::table& m_table;
  std::string m_prefix;
  const Env& m_env;
  std::set<std::string, std::less<>> m_seen;
};

Status read_node(TableReader& r, NodeConfig& c) {
  HN_TRY(r.string("display_name", c.display_name));
  HN_TRY(r.profile("profile", c.profile));
  HN_TRY(r.path("data_dir", c.data_dir));
  return r.finish();
}

Status read_identity(TableReader& r, IdentityConfig& c) {
  HN_TRY(r.path("keys_dir", c.keys_dir));
  HN_TRY(r.boolean("auto_generate", c.auto_generate));
  return r.finish();
}

Status read_community(TableReader& r, CommunityConfig& c) {
  HN_TRY(r.optional_string("community_id", c.community_id));
  HN_TRY(r.path("state_dir", c.state_dir));
  return r.finish();
}

Status read_transport(TableReader& r, TransportConfig& c) {
  HN_TRY(r.string("host", c.host));
  HN_TRY(r.integer("port", c.port, 0, 65535));
  HN_TRY(r.optional_path("tls_cert", c.tls_cert));
  HN_TRY(r.optional_path("tls_key", c.tls_key));
  return r.finish();
}

Status read_discovery(TableReader& r, DiscoveryConfig& c) {
  HN_TRY(r.boolean("mdns_enabled", c.mdns_enabled));
  HN_TRY(r.boolean("udp_enabled", c.udp_enabled));
  HN_TRY(r.string("udp_multicast_group", c.udp_multicast_group));
  HN_TRY(r.integer("udp_port", c.udp_port, 1, 65535));
  HN_TRY(r.string_list("relay_urls", c.relay_urls));
  HN_TRY(r.string_list("bootstrap_peers", c.bootstrap_peers));
  HN_TRY(r.integer("prune_after_seconds", c.prune_after_seconds));
  HN_TRY(r.integer("aggressive_prune_after_seconds", c.aggressive_prune_after_seconds));
  HN_TRY(r.boolean("aggressive_pruning", c.aggressive_pruning));
  return r.finish();
}

Status read_bus(TableReader& r, BusConfig& c) {
  HN_TRY(r.boolean("prefer_local", c.prefer_local));
  HN_TRY(r.number("local_load_threshold", c.local_load_threshold));
  return r.finish();
}

Status read_llm_backend(TableReader& r, LlmBackendConfig& c) {
  HN_TRY(r.string("name", c.name));
  HN_TRY(r.optional_string("url", c.url));
  HN_TRY(r.optional_string("model", c.model));
  HN_TRY(r.optional_string("api_key_env", c.api_key_env));
  return r.finish();
}

// [llm] holds "backends", an array of tables ([[llm.backends]]) — M04 §6.
Status read_llm(TableReader& r, const Env& env, LlmConfig& c) {
  if (const auto* n = r.node("backends")) {
    const auto* arr = n->as_array();
    if (arr == nullptr) return r.wrong_type("backends", *n, "array of tables ([[llm.backends]])");
    std::vector<LlmBackendConfig> backends;
    for (std::size_t i = 0; i < arr->size(); ++i) {
      auto base = "llm.backends[" + std::to_string(i) + "]";
      const auto& item = *arr->get(i);
      const auto* t = item.as_table();
      if (t == nullptr) {
        return detail::field_error(base, detail::PROBLEM_WRONG_TYPE,
                                   "expected table, got " + std::string(type_name(item)),
                                   line_of(item));
      }
      if (t->get("name") == nullptr) {
        return detail::field_error(base + ".name", detail::PROBLEM_INVALID_VALUE,
                                   "missing required key", line_of(item));
      }
      TableReader br(*t, base + ".", env);
      LlmBackendConfig b;
      HN_TRY(read_llm_backend(br, b));
      backends.push_back(std::move(b));
    }
    c.backends = std::move(backends);
  }
  return r.finish();
}

Status read_embedding(TableReader& r, EmbeddingConfig& c) {
  HN_TRY(r.string("model", c.model));
  HN_TRY(r.string("device", c.device));
  return r.finish();
}

Status read_rag(TableReader& r, RagConfig& c) {
  HN_TRY(r.boolean("enabled", c.enabled));
  HN_TRY(r.path("corpora_dir", c.corpora_dir));
  return r.finish();
}

Status read_file_section(TableReader& r, FileConfig& c) {
  HN_TRY(r.path("blobs_dir", c.blobs_dir));
  HN_TRY(r.number("gc_threshold", c.gc_threshold));
  HN_TRY(r.number("gc_target", c.gc_target));
  HN_TRY(r.integer("max_store_bytes", c.max_store_bytes));
  return r.finish();
}

Status read_market(TableReader& r, MarketConfig& c) {
  HN_TRY(r.boolean("enabled", c.enabled));
  HN_TRY(r.integer("default_ttl_seconds", c.default_ttl_seconds));
  HN_TRY(r.integer("max_ttl_seconds", c.max_ttl_seconds));
  return r.finish();
}

Status read_chat(TableReader& r, ChatConfig& c) {
  HN_TRY(r.boolean("enabled", c.enabled));
  HN_TRY(r.boolean("store_and_forward", c.store_and_forward));
  HN_TRY(r.boolean("read_receipts_enabled", c.read_receipts_enabled));
  return r.finish();
}

Status read_emergency(TableReader& r, EmergencyConfig& c) {
  HN_TRY(r.string_list("probe_targets", c.probe_targets));
  return r.finish();
}

Status read_ui(TableReader& r, UiConfig& c) {
  HN_TRY(r.string("host", c.host));
  HN_TRY(r.integer("port", c.port, 0, 65535));
  HN_TRY(r.boolean("launch_browser", c.launch_browser));
  return r.finish();
}

Status read_observability(TableReader& r, ObservabilityConfig& c) {
  HN_TRY(r.string("log_level", c.log_level));
  HN_TRY(r.path("log_dir", c.log_dir));
  HN_TRY(r.boolean("metrics_enabled", c.metrics_enabled));
  HN_TRY(r.optional_string("otlp_endpoint", c.otlp_endpoint));
  HN_TRY(r.optional_string("trackio_project", c.trackio_project));
  HN_TRY(r.optional_string("trackio_space", c.trackio_space));
  HN_TRY(r.integer("log_max_file_bytes", c.log_max_file_bytes));
  HN_TRY(r.integer("log_max_files", c.log_max_files));
  return r.finish();
}

Status read_events(TableReader& r, EventsConfig& c) {
  HN_TRY(r.path("db_path", c.db_path));
  HN_TRY(r.path("snapshots_dir", c.snapshots_dir));
  return r.finish();
}

// One known top-level section: its name and how to read it into a Config.
struct Section {
  std::string_view name;
  Status (*read)(TableReader&, const Env&, Config&);
};

template <auto Fn, auto Member>
Status read_member(TableReader& r, const Env&, Config& cfg) {
  return Fn(r, cfg.*Member);
}

Status read_llm_member(TableReader& r, const Env& env, Config& cfg) {
  return read_llm(r, env, cfg.llm);
}

// X04 §3 section order (the order save writes them in), plus [node] and [events].
constexpr Section SECTIONS[] = {
    {"node", read_member<read_node, &Config::node>},
    {"identity", read_member<read_identity, &Config::identity>},
    {"community", read_member<read_community, &Config::community>},
    {"transport", read_member<read_transport, &Config::transport>},
    {"discovery", read_member<read_discovery, &Config::discovery>},
    {"bus", read_member<read_bus, &Config::bus>},
    {"llm", read_llm_member},
    {"embedding", read_member<read_embedding, &Config::embedding>},
    {"rag", read_member<read_rag, &Config::rag>},
    {"file", read_member<read_file_section, &Config::file>},
    {"market", read_member<read_market, &Config::market>},
    {"chat", read_member<read_chat, &Config::chat>},
    {"emergency", read_member<read_emergency, &Config::emergency>},
    {"ui", read_member<read_ui, &Config::ui>},
    {"observability", read_member<read_observability, &Config::observability>},
    {"events", read_member<read_events, &Config::events>},
};

Result<Config> parse_table(const toml::table& root, const Env& env) {
  // Unknown or mistyped sections first, in key order, so the error is deterministic.
  for (auto&& [k, v] : root) {
    bool known = false;
    for (const auto& s : SECTIONS) known = known || s.name == k.str();
    if (!known) {
      return detail::field_error(k.str(), detail::PROBLEM_UNKNOWN_KEY, "unknown section",
                                 line_of(v));
    }
    if (!v.is_table()) {
      return detail::field_error(k.str(), detail::PROBLEM_WRONG_TYPE,
                                 "expected table, got " + std::string(type_name(v)), line_of(v));
    }
  }
  Config cfg = default_config();
  for (const auto& s : SECTIONS) {
    const auto* t = root.get_as<toml::table>(s.name);
    if (t == nullptr) continue;
    TableReader r(*t, std::string(s.name) + ".", env);
    HN_TRY(s.read(r, env, cfg));
  }
  HN_TRY(validate(cfg));
  return cfg;
}

}  // namespace

Result<Config> parse_config_text(std::string_view toml, const Env& env) {
  try {
    toml::table root = toml::parse(toml, std::string_view("config.toml"));
    return parse_table(root, env);
  } catch (const toml::parse_error& e) {
    auto line = static_cast<std::int64_t>(e.source().begin.line);
    auto column = static_cast<std::int64_t>(e.source().begin.column);
    return detail::general_error("invalid_toml",
                                 "invalid TOML at line " + std::to_string(line) + ", column " +
                                     std::to_string(column) + ": " +
                                     detail::printable(e.description(), 300),
                                 line);
  } catch (const std::exception& e) {
    return detail::general_error("invalid_toml",
                                 "cannot read config: " + detail::printable(e.what(), 300));
  }
}

Result<Config> load_config(const fs::path& path, const Env& env) {
  auto text = read_file(path, MAX_CONFIG_FILE_BYTES);
  if (!text) {
    const Error& e = text.error();
    if (e.code == ErrorCode::not_found) return text.take_error();
    if (e.code == ErrorCode::bad_request) {
      return detail::general_error("io", path.string() + ": larger than " +
                                             std::to_string(MAX_CONFIG_FILE_BYTES) + " bytes");
    }
    return detail::general_error("io", path.string() + ": " + e.message);
  }
  auto cfg = parse_config_text(*text, env);
  if (!cfg) {
    Error e = cfg.take_error();
    e.message = path.string() + ": " + e.message;
    e.detail["path"] = path.string();
    return e;
  }
  return cfg;
}

Result<Config> load_config_or_default(const fs::path& path, const Env& env) {
  std::error_code ec;
  if (!fs::exists(path, ec) && !ec) return default_config();
  return load_config(path, env);
}

}  // namespace hn::config
