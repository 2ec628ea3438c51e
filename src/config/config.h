// config.h — X04: the typed runtime configuration of a node. One plain struct per TOML
// section (X04 §3, IMPLEMENTATION_REFERENCE §1), every default of the spec, TOML load /
// save with toml++, and validation whose errors name the offending key. Each key is also
// listed once in detail/schema.h (its TOML name, member and rule); load, save and validate
// are driven by those tables, so a new key is a member here plus one line there.
//
// Thread-safety: the structs are plain values; the functions are reentrant.
// Invariants:
//   * A Config returned by parse_config_text / load_config has passed validate().
//   * Empty path fields mean "use the canonical location"; resolve_paths (paths.h) turns
//     them into absolute paths without changing the Config, so save→load is exact.
//   * Every error is ErrorCode::config_error, its message starts with the dotted key
//     ("transport.port: ...") or, for a TOML syntax error, names the line; detail carries
//     {"reason": "invalid_toml"|"invalid_field"|"path_resolution"|"io", "field"?, "line"?}.
//   * String values may reference the environment as ${NAME} (X04 §7
//     test_env_var_substitution); "$${" stands for a literal "${". An unset variable is an
//     error naming the key. Values are stored expanded; save writes them escaped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/env.h"
#include "core/constants.h"
#include "core/error.h"
#include "core/types.h"

namespace hn::config {

namespace fs = std::filesystem;

// [node] — who this node is (ARCHITECTURE.md "Configuration"; CONTRACT node manifest).
struct NodeConfig {
  std::string display_name;             // empty → the host name, chosen at start-up
  Profile profile = Profile::hearth;    // anchor | hearth | spark | bridge (GLOSSARY)
  fs::path data_dir;                    // empty → $HEARTHNET_HOME or <DATA> (paths.h)
  bool operator==(const NodeConfig&) const = default;
};

// [identity] — X04 §3, M01 §7.
struct IdentityConfig {
  fs::path keys_dir;                    // empty → <DATA>/keys
  bool auto_generate = true;
  bool operator==(const IdentityConfig&) const = default;
};

// [community] — X04 §3.
struct CommunityConfig {
  std::optional<std::string> community_id;  // unset → must run `hearthnet init`
  fs::path state_dir;                       // empty → <DATA>/communities/<id>
  bool operator==(const CommunityConfig&) const = default;
};

// [transport] — X04 §3, X01.
struct TransportConfig {
  std::string host = "0.0.0.0";
  int port = 7080;                          // 0 = pick a free port (tests)
  std::optional<fs::path> tls_cert;         // unset → self-signed
  std::optional<fs::path> tls_key;
  bool operator==(const TransportConfig&) const = default;
};

// [discovery] — X04 §3, M02 §4–§6.
struct DiscoveryConfig {
  bool mdns_enabled = true;
  bool udp_enabled = true;
  std::string udp_multicast_group = "239.255.42.42";
  int udp_port = 42424;
  std::vector<std::string> relay_urls;      // Phase 2
  // Peers contacted directly, as "host:port", "[v6addr]:port" or an http(s):// URL.
  std::vector<std::string> bootstrap_peers;
  // M02 §4.4/§5: stale peers are pruned after 90 s, or 30 s while pruning is aggressive
  // (emergency mode toggles it; aggressive_pruning forces it on from start-up).
  std::int64_t prune_after_seconds = 90;
  std::int64_t aggressive_prune_after_seconds = 30;
  bool aggressive_pruning = false;
  bool operator==(const DiscoveryConfig&) const = default;
};

// [bus] — X04 §3, M03 §7.
struct BusConfig {
  bool prefer_local = true;
  double local_load_threshold = 0.80;
  bool operator==(const BusConfig&) const = default;
};

// One [[llm.backends]] entry — X04 §3, M04 §6.
struct LlmBackendConfig {
  std::string name;                         // one of known_llm_backends()
  std::optional<std::string> url;           // llama_cpp: a local path; others: http(s) URL
  std::optional<std::string> model;
  std::optional<std::string> api_key_env;   // the variable's NAME; never the key itself
  // The backend type when `name` is an instance name of one's own choosing ("kitchen-gpu");
  // unset: `name` is the type and must be one of known_llm_backends().
  std::optional<std::string> kind;
  int max_concurrent = 4;                   // generations at once on this backend
  int ctx = 0;                              // context window to advertise; 0 = the backend's
  // The type: `kind` when set, else `name`.
  const std::string& type() const { return kind ? *kind : name; }
  bool operator==(const LlmBackendConfig&) const = default;
};

// [llm] — X04 §3.
struct LlmConfig {
  std::vector<LlmBackendConfig> backends;
  bool operator==(const LlmConfig&) const = default;
};

// [embedding] — X04 §3, M11 §6.
struct EmbeddingConfig {
  std::string model = "BAAI/bge-small-en-v1.5";
  std::string device = "auto";              // cpu | cuda | auto
  bool operator==(const EmbeddingConfig&) const = default;
};

// [rag] — X04 §3, M05 §7.
struct RagConfig {
  bool enabled = true;
  fs::path corpora_dir;                     // empty → <DATA>/rag (corpora are data, not cache)
  // The embed.text model a corpus is embedded with; "" = whatever model the bus offers.
  // A corpus embedded with another model is re-embedded at start (doc/design/rag.md).
  std::string embedding_model;
  bool operator==(const RagConfig&) const = default;
};

// [file] — X04 §3, M07 §5.4/§7 (the blob store).
struct FileConfig {
  fs::path blobs_dir;                       // empty → <DATA>/blobs
  double gc_threshold = 0.80;               // BLOB_GC_DISK_THRESHOLD: start GC above this
  double gc_target = 0.70;                  // M07 §5.4: evict until below this fraction
  std::int64_t max_store_bytes = 0;         // cap on the store's total size; 0 = no cap
  bool operator==(const FileConfig&) const = default;
};

// [market] — X04 §3, M06 §7.
struct MarketConfig {
  bool enabled = true;
  std::int64_t default_ttl_seconds = 86400 * 7;
  std::int64_t max_ttl_seconds = 86400 * 30;
  bool operator==(const MarketConfig&) const = default;
};

// [chat] — X04 §3, M10 §6.
struct ChatConfig {
  bool enabled = true;
  bool store_and_forward = true;
  bool read_receipts_enabled = true;        // M10 §5 (Phase 2 flag)
  bool operator==(const ChatConfig&) const = default;
};

// [emergency] — X04 §3, M09 §7.
// A target is a resolver's IP address ("1.1.1.1", "127.0.0.1:5353", "[::1]:53": a DNS A
// query for probe_dns_name), a host name ("cloudflare.com") or an https:// URL (an HTTPS
// HEAD). The keys after probe_targets are ours (M09 names constants; tests shorten them):
// doc/design/emergency.md.
struct EmergencyConfig {
  std::vector<std::string> probe_targets = {"1.1.1.1", "8.8.8.8", "cloudflare.com",
                                            "quad9.net"};
  bool enabled = true;                             // run the detector at all
  std::string probe_dns_name = "cloudflare.com";   // the name the DNS probes ask for
  bool probe_tls_verify = true;                    // HTTPS probes check the certificate chain
  std::int64_t probe_interval_online_seconds = 10;   // EMERGENCY_PROBE_INTERVAL_ONLINE
  std::int64_t probe_interval_offline_seconds = 2;   // EMERGENCY_PROBE_INTERVAL_OFFLINE
  std::int64_t probe_timeout_seconds = 2;            // EMERGENCY_PROBE_TIMEOUT_SECONDS
  std::int64_t debounce_seconds = 30;                // EMERGENCY_TRANSITION_DEBOUNCE_SECONDS
  std::int64_t recovery_seconds = 10;                // M09 §4 "all probes pass for 10s"
  std::int64_t flap_window_seconds = 60;             // M09 §4 anti-flap window
  std::int64_t clock_check_after_seconds = 30;       // M09 §5.5 "online for ≥ 30 s"
  std::int64_t clock_skew_warn_seconds = 60;         // M09 §5.5 "differs by > 60 s"
  bool operator==(const EmergencyConfig&) const = default;
};

// [ui] — X04 §3, M08.
struct UiConfig {
  std::string host = "127.0.0.1";
  int port = 7860;                          // 0 = pick a free port (tests)
  bool launch_browser = true;
  bool operator==(const UiConfig&) const = default;
};

// [openai_api] — the node's OpenAI-compatible API (issue #14 §4; doc/design/llm.md).
struct OpenAiApiConfig {
  bool enabled = true;
  std::string host = "127.0.0.1";           // another address needs token_env
  int port = 7861;                          // 0 = pick a free port (tests)
  std::optional<std::string> token_env;     // the variable holding the bearer token
  bool operator==(const OpenAiApiConfig&) const = default;
};

// [observability] — X04 §3, X03 §3 (+ trackio, IMPLEMENTATION_REFERENCE §1).
struct ObservabilityConfig {
  std::string log_level = "info";           // one of known_log_levels()
  fs::path log_dir;                         // empty → <LOG>
  bool metrics_enabled = true;
  std::optional<std::string> otlp_endpoint;     // Phase 2
  std::optional<std::string> trackio_project;
  std::optional<std::string> trackio_space;
  // X03 §3.3: log files rotate daily at UTC midnight and are kept log_retention_days days;
  // a file also rotates when it reaches log_max_file_bytes, and at most log_max_files
  // rotated files are kept (bounds on disk beside the days).
  std::int64_t log_retention_days = LOG_RETENTION_DAYS;
  std::int64_t log_max_file_bytes = 64ll * 1024 * 1024;
  std::int64_t log_max_files = 100;
  bool operator==(const ObservabilityConfig&) const = default;
};

// [events] — X02 storage locations (M12 §4: <state_dir>/events.sqlite, /snapshots) and
// the log's upkeep (X02 §5.4; X04 names no keys for it: doc/design/events.md).
struct EventsConfig {
  fs::path db_path;                         // empty → <community state dir>/events.sqlite
  fs::path snapshots_dir;                   // empty → <community state dir>/snapshots
  std::int64_t snapshot_lag_lamport = 1000; // SNAPSHOT_LAG_LAMPORT: build when the head is this far on
  std::int64_t snapshot_hour = 3;           // X02 §5.4: the daily snapshot, local hour 0..23
  std::int64_t retention_days = 30;         // EVENT_LOG_RETENTION_DAYS; 0 = prune once covered
  std::int64_t snapshots_kept = 7;          // X02 §3.5 prune(keep_last_n = 7)
  bool operator==(const EventsConfig&) const = default;
};

// The root — X04 §3.
struct Config {
  NodeConfig node;
  IdentityConfig identity;
  CommunityConfig community;
  TransportConfig transport;
  DiscoveryConfig discovery;
  BusConfig bus;
  LlmConfig llm;
  EmbeddingConfig embedding;
  RagConfig rag;
  FileConfig file;
  MarketConfig market;
  ChatConfig chat;
  EmergencyConfig emergency;
  UiConfig ui;
  OpenAiApiConfig openai_api;
  ObservabilityConfig observability;
  EventsConfig events;
  bool operator==(const Config&) const = default;
};

// The largest config file load_config reads.
inline constexpr std::uintmax_t MAX_CONFIG_FILE_BYTES = 1u << 20;

// Backend names [[llm.backends]].name accepts (IMPLEMENTATION_REFERENCE §1, plus
// llama_server, the OpenAI-compatible llama.cpp server of DESIGN.md).
std::span<const std::string_view> known_llm_backends();
// Levels observability.log_level accepts (X03 §3.2, plus spdlog's trace/critical/off).
std::span<const std::string_view> known_log_levels();

// X04 §4 default_config: every field at its default.
Config default_config();

// Parses TOML text into a validated Config: omitted sections and keys keep their defaults;
// unknown sections/keys, wrong types, bad values and syntax errors are config_error naming
// the key (or the line). Never crashes, whatever the bytes. ${NAME} expands from env.
Result<Config> parse_config_text(std::string_view toml, const Env& env = Env::from_process());

// X04 §4 load: reads path (not_found when absent, config_error when larger than
// MAX_CONFIG_FILE_BYTES or unreadable) and parses it; error messages are prefixed with
// the path.
Result<Config> load_config(const fs::path& path, const Env& env = Env::from_process());
// load_config, or default_config() when path does not exist.
Result<Config> load_config_or_default(const fs::path& path,
                                      const Env& env = Env::from_process());

// X04 §4 validate: every value in range and the cross-field rules (ports distinct, TLS
// cert and key together, gc_target < gc_threshold ≤ 1, default TTL ≤ max TTL, …).
Status validate(const Config& cfg);

// Renders cfg as TOML that parse_config_text reads back to an equal Config (given no
// environment references). Unset optionals and empty paths are left out.
std::string serialize_config(const Config& cfg);

// X04 §4 save: validates, then writes serialize_config(cfg) atomically (temp + fsync +
// rename) with mode 0644, creating parent directories.
Status save_config(const Config& cfg, const fs::path& path);

}  // namespace hn::config
