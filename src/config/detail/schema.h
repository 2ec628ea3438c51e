// detail/schema.h — the config schema (X04 §3): one table of Fields per section of
// config.h, each in the order save writes its keys, and the sections in the order save
// writes them. Adding a key means adding its member to config.h and one line here; parse,
// save and validate follow. The value sets, formats and cross-field rules the tables name
// are defined in validate.cpp.
//
// Thread-safety: constant data.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <tuple>

#include "config/detail/field.h"

namespace hn::config::detail {

// Backend names [[llm.backends]].name accepts (IMPLEMENTATION_REFERENCE §1, plus
// llama_server, the OpenAI-compatible llama.cpp server of DESIGN.md).
inline constexpr std::array<std::string_view, 9> LLM_BACKENDS = {
    "llama_cpp",     "ollama",   "lmstudio", "vllm",        "hf_api",
    "anthropic_api", "nemotron", "openbmb",  "llama_server"};
// Levels observability.log_level accepts (X03 §3.2, plus spdlog's trace/critical/off).
inline constexpr std::array<std::string_view, 7> LOG_LEVELS = {
    "trace", "debug", "info", "warning", "error", "critical", "off"};
inline constexpr std::array<std::string_view, 3> EMBEDDING_DEVICES = {"cpu", "cuda", "auto"};

// Formats of string values.
bool is_valid_community_id(std::string_view s);  // "ed25519:<base64url of 32 bytes>"
bool is_multicast_ipv4(std::string_view s);      // 224.0.0.0-239.255.255.255, dotted decimal
bool is_valid_peer_address(std::string_view s);  // host:port, [v6]:port or an http(s) URL
bool is_http_url(std::string_view s);            // http:// or https:// and something after

// Rules across fields (Field::then).
void check_display_name(Checker& c, std::string_view prefix, const NodeConfig& v);
void check_tls_pair(Checker& c, std::string_view prefix, const TransportConfig& v);
void check_prune_order(Checker& c, std::string_view prefix, const DiscoveryConfig& v);
void check_backend_kind(Checker& c, std::string_view prefix, const LlmBackendConfig& v);
void check_backend(Checker& c, std::string_view prefix, const LlmBackendConfig& v);
void check_gc_order(Checker& c, std::string_view prefix, const FileConfig& v);
void check_ttl_order(Checker& c, std::string_view prefix, const MarketConfig& v);
void check_probe_targets(Checker& c, std::string_view prefix, const EmergencyConfig& v);

// [node]
inline constexpr Field<NodeConfig> NODE_FIELDS[] = {
    {"display_name", &NodeConfig::display_name, {}, check_display_name},
    {"profile", &NodeConfig::profile},
    {"data_dir", &NodeConfig::data_dir},
};

// [identity]
inline constexpr Field<IdentityConfig> IDENTITY_FIELDS[] = {
    {"keys_dir", &IdentityConfig::keys_dir},
    {"auto_generate", &IdentityConfig::auto_generate},
};

// [community]
inline constexpr Field<CommunityConfig> COMMUNITY_FIELDS[] = {
    {"community_id", &CommunityConfig::community_id,
     format(is_valid_community_id, R"(must be "ed25519:<43 base64url characters>")"), nullptr,
     "community_id is set by `hearthnet init`"},
    {"state_dir", &CommunityConfig::state_dir},
};

// [transport]
inline constexpr Field<TransportConfig> TRANSPORT_FIELDS[] = {
    {"host", &TransportConfig::host, host()},
    {"port", &TransportConfig::port, range(0, 65535)},
    {"tls_cert", &TransportConfig::tls_cert},
    {"tls_key", &TransportConfig::tls_key, {}, check_tls_pair},
};

// [discovery]
inline constexpr Field<DiscoveryConfig> DISCOVERY_FIELDS[] = {
    {"mdns_enabled", &DiscoveryConfig::mdns_enabled},
    {"udp_enabled", &DiscoveryConfig::udp_enabled},
    {"udp_multicast_group", &DiscoveryConfig::udp_multicast_group,
     format(is_multicast_ipv4, "{} is not an IPv4 multicast address (224.0.0.0-239.255.255.255)")},
    {"udp_port", &DiscoveryConfig::udp_port, range(1, 65535)},
    {"relay_urls", &DiscoveryConfig::relay_urls, non_empty()},
    {"bootstrap_peers", &DiscoveryConfig::bootstrap_peers,
     format(is_valid_peer_address, "{} is not host:port, [v6]:port or an http(s) URL")},
    {"prune_after_seconds", &DiscoveryConfig::prune_after_seconds, positive()},
    {"aggressive_prune_after_seconds", &DiscoveryConfig::aggressive_prune_after_seconds, positive(),
     check_prune_order},
    {"aggressive_pruning", &DiscoveryConfig::aggressive_pruning},
};

// [bus]
inline constexpr Field<BusConfig> BUS_FIELDS[] = {
    {"prefer_local", &BusConfig::prefer_local},
    {"local_load_threshold", &BusConfig::local_load_threshold, fraction()},
};

// One [[llm.backends]] entry.
inline constexpr Field<LlmBackendConfig> LLM_BACKEND_FIELDS[] = {
    {"name", &LlmBackendConfig::name, non_empty()},
    {"kind", &LlmBackendConfig::kind, {}, check_backend_kind},
    {"url", &LlmBackendConfig::url},
    {"model", &LlmBackendConfig::model},
    {"api_key_env", &LlmBackendConfig::api_key_env, {}, check_backend},
    {"max_concurrent", &LlmBackendConfig::max_concurrent, range(1, 1024)},
    {"ctx", &LlmBackendConfig::ctx, range(0, 16777216)},
};

// [llm]
inline constexpr Field<LlmConfig> LLM_FIELDS[] = {
    {"backends", &LlmConfig::backends},  // entries read with LLM_BACKEND_FIELDS
};

// [embedding]
inline constexpr Field<EmbeddingConfig> EMBEDDING_FIELDS[] = {
    {"model", &EmbeddingConfig::model, non_empty()},
    {"device", &EmbeddingConfig::device, one_of(EMBEDDING_DEVICES, Text::unchecked)},
};

// [rag]
inline constexpr Field<RagConfig> RAG_FIELDS[] = {
    {"enabled", &RagConfig::enabled},
    {"corpora_dir", &RagConfig::corpora_dir},
    {"embedding_model", &RagConfig::embedding_model},
};

// [file] — M07 §5.4: 0 < gc_target < gc_threshold ≤ 1.
inline constexpr Field<FileConfig> FILE_FIELDS[] = {
    {"blobs_dir", &FileConfig::blobs_dir},
    {"gc_threshold", &FileConfig::gc_threshold, fraction()},
    {"gc_target", &FileConfig::gc_target, fraction(), check_gc_order},
    {"max_store_bytes", &FileConfig::max_store_bytes, range(0, INT64_MAX)},
};

// [market] — M06: default TTL ≤ max TTL.
inline constexpr Field<MarketConfig> MARKET_FIELDS[] = {
    {"enabled", &MarketConfig::enabled},
    {"default_ttl_seconds", &MarketConfig::default_ttl_seconds, positive()},
    {"max_ttl_seconds", &MarketConfig::max_ttl_seconds, positive(), check_ttl_order},
};

// [chat]
inline constexpr Field<ChatConfig> CHAT_FIELDS[] = {
    {"enabled", &ChatConfig::enabled},
    {"store_and_forward", &ChatConfig::store_and_forward},
    {"read_receipts_enabled", &ChatConfig::read_receipts_enabled},
};

// [emergency]
inline constexpr Field<EmergencyConfig> EMERGENCY_FIELDS[] = {
    {"probe_targets", &EmergencyConfig::probe_targets, host(), check_probe_targets},
    {"enabled", &EmergencyConfig::enabled},
    {"probe_dns_name", &EmergencyConfig::probe_dns_name, host()},
    {"probe_tls_verify", &EmergencyConfig::probe_tls_verify},
    {"probe_interval_online_seconds", &EmergencyConfig::probe_interval_online_seconds, range(1, 86400)},
    {"probe_interval_offline_seconds", &EmergencyConfig::probe_interval_offline_seconds, range(1, 86400)},
    {"probe_timeout_seconds", &EmergencyConfig::probe_timeout_seconds, range(1, 60)},
    {"debounce_seconds", &EmergencyConfig::debounce_seconds, range(0, 86400)},
    {"recovery_seconds", &EmergencyConfig::recovery_seconds, range(0, 86400)},
    {"flap_window_seconds", &EmergencyConfig::flap_window_seconds, range(1, 86400)},
    {"clock_check_after_seconds", &EmergencyConfig::clock_check_after_seconds, range(0, 86400)},
    {"clock_skew_warn_seconds", &EmergencyConfig::clock_skew_warn_seconds, range(1, 86400)},
};

// [ui]
inline constexpr Field<UiConfig> UI_FIELDS[] = {
    {"host", &UiConfig::host, host()},
    {"port", &UiConfig::port, range(0, 65535)},
    {"launch_browser", &UiConfig::launch_browser},
};

// [openai_api]
inline constexpr Field<OpenAiApiConfig> OPENAI_API_FIELDS[] = {
    {"enabled", &OpenAiApiConfig::enabled},
    {"host", &OpenAiApiConfig::host, host()},
    {"port", &OpenAiApiConfig::port, range(0, 65535)},
    {"token_env", &OpenAiApiConfig::token_env},
};

// [observability]
inline constexpr Field<ObservabilityConfig> OBSERVABILITY_FIELDS[] = {
    {"log_level", &ObservabilityConfig::log_level, one_of(LOG_LEVELS, Text::unchecked)},
    {"log_dir", &ObservabilityConfig::log_dir},
    {"metrics_enabled", &ObservabilityConfig::metrics_enabled},
    {"otlp_endpoint", &ObservabilityConfig::otlp_endpoint,
     format(is_http_url, "must start with http:// or https://")},
    {"trackio_project", &ObservabilityConfig::trackio_project},
    {"trackio_space", &ObservabilityConfig::trackio_space},
    {"log_retention_days", &ObservabilityConfig::log_retention_days, range(1, 36500)},
    {"log_max_file_bytes", &ObservabilityConfig::log_max_file_bytes, range(4096, INT64_MAX)},
    {"log_max_files", &ObservabilityConfig::log_max_files, range(1, 100000)},
};

// [events]
inline constexpr Field<EventsConfig> EVENTS_FIELDS[] = {
    {"db_path", &EventsConfig::db_path},
    {"snapshots_dir", &EventsConfig::snapshots_dir},
    {"snapshot_lag_lamport", &EventsConfig::snapshot_lag_lamport, range(1, INT64_MAX)},
    {"snapshot_hour", &EventsConfig::snapshot_hour, range(0, 23)},
    {"retention_days", &EventsConfig::retention_days, range(0, 36500)},
    {"snapshots_kept", &EventsConfig::snapshots_kept, range(1, 1000)},
};

// X04 §3 section order (the order save writes them in), plus [node] and [events].
inline constexpr auto SECTIONS = std::make_tuple(
    Section<NodeConfig>{"node", &Config::node, NODE_FIELDS},
    Section<IdentityConfig>{"identity", &Config::identity, IDENTITY_FIELDS},
    Section<CommunityConfig>{"community", &Config::community, COMMUNITY_FIELDS},
    Section<TransportConfig>{"transport", &Config::transport, TRANSPORT_FIELDS},
    Section<DiscoveryConfig>{"discovery", &Config::discovery, DISCOVERY_FIELDS},
    Section<BusConfig>{"bus", &Config::bus, BUS_FIELDS},
    Section<LlmConfig>{"llm", &Config::llm, LLM_FIELDS},
    Section<EmbeddingConfig>{"embedding", &Config::embedding, EMBEDDING_FIELDS},
    Section<RagConfig>{"rag", &Config::rag, RAG_FIELDS},
    Section<FileConfig>{"file", &Config::file, FILE_FIELDS},
    Section<MarketConfig>{"market", &Config::market, MARKET_FIELDS},
    Section<ChatConfig>{"chat", &Config::chat, CHAT_FIELDS},
    Section<EmergencyConfig>{"emergency", &Config::emergency, EMERGENCY_FIELDS},
    Section<UiConfig>{"ui", &Config::ui, UI_FIELDS},
    Section<OpenAiApiConfig>{"openai_api", &Config::openai_api, OPENAI_API_FIELDS},
    Section<ObservabilityConfig>{"observability", &Config::observability, OBSERVABILITY_FIELDS},
    Section<EventsConfig>{"events", &Config::events, EVENTS_FIELDS});

// Calls fn(section) for each section of SECTIONS, in order.
template <typename Fn>
constexpr void for_each_section(Fn&& fn) {
  std::apply([&](const auto&... section) { (fn(section), ...); }, SECTIONS);
}

static_assert(well_formed<LlmBackendConfig>(LLM_BACKEND_FIELDS));
static_assert(std::apply(
    [](const auto&... section) { return (well_formed(section.fields) && ...); }, SECTIONS));

}  // namespace hn::config::detail
