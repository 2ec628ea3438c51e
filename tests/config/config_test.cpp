// config_test.cpp — X04: defaults, save→load round trip, errors that name the key, cross-field
// validation, ${NAME} expansion (X04 §7) and the atomic save.
#include "config/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "core/constants.h"
#include "core/file_util.h"
#include "support/test_support.h"

namespace hn::config {
namespace {

// The message of a failed parse, asserting it failed with config_error.
std::string parse_error(std::string_view toml, const Env& env = Env()) {
  auto r = parse_config_text(toml, env);
  EXPECT_FALSE(r.has_value()) << "unexpectedly parsed:\n" << toml;
  if (r.has_value()) return "";
  EXPECT_EQ(r.error().code, ErrorCode::config_error);
  return r.error().message;
}

std::string validate_error(const Config& cfg) {
  auto s = validate(cfg);
  EXPECT_FALSE(s.has_value());
  if (s.has_value()) return "";
  EXPECT_EQ(s.error().code, ErrorCode::config_error);
  return s.error().message;
}

Config full_config() {
  Config c = default_config();
  c.node.display_name = "Hannes' Tablet \"kitchen\" \\ ünïcode";
  c.node.profile = Profile::anchor;
  c.node.data_dir = "/srv/hearthnet";
  c.identity.keys_dir = "/srv/keys";
  c.identity.auto_generate = false;
  c.community.community_id = "ed25519:" + std::string(43, 'A');
  c.community.state_dir = "state/here";
  c.transport.host = "192.168.1.5";
  c.transport.port = 9000;
  c.transport.tls_cert = fs::path("/etc/hn/cert.pem");
  c.transport.tls_key = fs::path("/etc/hn/key.pem");
  c.discovery.mdns_enabled = false;
  c.discovery.udp_multicast_group = "239.1.2.3";
  c.discovery.udp_port = 40000;
  c.discovery.relay_urls = {"wss://relay.example/x"};
  c.discovery.bootstrap_peers = {"10.0.0.2:7080", "[fe80::1]:7080", "https://anchor.example"};
  c.discovery.prune_after_seconds = 120;
  c.discovery.aggressive_prune_after_seconds = 15;
  c.discovery.aggressive_pruning = true;
  c.bus.prefer_local = false;
  c.bus.local_load_threshold = 0.1 + 0.2;  // not exactly 0.3: exercises exact float text
  c.llm.backends = {
      {"lmstudio", "http://192.168.188.25:1234", "qwen2.5-7b-instruct", std::nullopt},
      {"llama_cpp", "", "qwen2.5-1.5b-instruct-q4_k_m.gguf", std::nullopt},
      {"anthropic_api", std::nullopt, "claude-sonnet-4-6", "ANTHROPIC_API_KEY"}};
  c.embedding.model = "m";
  c.embedding.device = "cuda";
  c.rag.enabled = false;
  c.rag.corpora_dir = "/cache/corpora";
  c.rag.embedding_model = "tiny-bert";
  c.file.blobs_dir = "/data/blobs";
  c.file.gc_threshold = 1.0;
  c.file.gc_target = 1e-5;
  c.file.max_store_bytes = 1ll << 40;
  c.market.enabled = false;
  c.market.default_ttl_seconds = 60;
  c.market.max_ttl_seconds = 120;
  c.chat.store_and_forward = false;
  c.chat.read_receipts_enabled = false;
  c.emergency.probe_targets = {"9.9.9.9"};
  c.ui.host = "0.0.0.0";
  c.ui.port = 0;
  c.ui.launch_browser = false;
  c.observability.log_level = "debug";
  c.observability.log_dir = "/var/log/hn";
  c.observability.metrics_enabled = false;
  c.observability.otlp_endpoint = "http://otel:4318";
  c.observability.trackio_project = "proj ${NOT_EXPANDED} $${x}";
  c.observability.trackio_space = "https://hf.co/spaces/x";
  c.observability.log_max_file_bytes = 1 << 20;
  c.observability.log_max_files = 3;
  c.events.db_path = "/db/events.sqlite";
  c.events.snapshots_dir = "/db/snaps";
  return c;
}

// --- defaults (X04 §3, §5) -------------------------------------------------------------

TEST(ConfigDefaults, MatchTheSpec) {
  Config c = default_config();
  EXPECT_EQ(c.node.profile, Profile::hearth);
  EXPECT_TRUE(c.node.display_name.empty());
  EXPECT_TRUE(c.identity.keys_dir.empty());
  EXPECT_TRUE(c.identity.auto_generate);
  EXPECT_FALSE(c.community.community_id.has_value());
  EXPECT_TRUE(c.community.state_dir.empty());
  EXPECT_EQ(c.transport.host, "0.0.0.0");
  EXPECT_EQ(c.transport.port, 7080);
  EXPECT_FALSE(c.transport.tls_cert.has_value());
  EXPECT_FALSE(c.transport.tls_key.has_value());
  EXPECT_TRUE(c.discovery.mdns_enabled);
  EXPECT_TRUE(c.discovery.udp_enabled);
  EXPECT_EQ(c.discovery.udp_multicast_group, "239.255.42.42");
  EXPECT_EQ(c.discovery.udp_port, 42424);
  EXPECT_TRUE(c.discovery.relay_urls.empty());
  EXPECT_TRUE(c.discovery.bootstrap_peers.empty());
  EXPECT_EQ(c.discovery.prune_after_seconds, 90);
  EXPECT_EQ(c.discovery.aggressive_prune_after_seconds, 30);
  EXPECT_FALSE(c.discovery.aggressive_pruning);
  EXPECT_TRUE(c.bus.prefer_local);
  EXPECT_DOUBLE_EQ(c.bus.local_load_threshold, 0.80);
  EXPECT_TRUE(c.llm.backends.empty());
  EXPECT_EQ(c.embedding.model, "BAAI/bge-small-en-v1.5");
  EXPECT_EQ(c.embedding.device, "auto");
  EXPECT_TRUE(c.rag.enabled);
  EXPECT_TRUE(c.rag.corpora_dir.empty());
  EXPECT_TRUE(c.rag.embedding_model.empty());
  EXPECT_TRUE(c.file.blobs_dir.empty());
  EXPECT_DOUBLE_EQ(c.file.gc_threshold, 0.80);
  EXPECT_DOUBLE_EQ(c.file.gc_target, 0.70);
  EXPECT_EQ(c.file.max_store_bytes, 0);
  EXPECT_TRUE(c.market.enabled);
  EXPECT_EQ(c.market.default_ttl_seconds, 604800);
  EXPECT_EQ(c.market.max_ttl_seconds, 2592000);
  EXPECT_TRUE(c.chat.enabled);
  EXPECT_TRUE(c.chat.store_and_forward);
  EXPECT_EQ(c.emergency.probe_targets,
            (std::vector<std::string>{"1.1.1.1", "8.8.8.8", "cloudflare.com", "quad9.net"}));
  EXPECT_EQ(c.ui.host, "127.0.0.1");
  EXPECT_EQ(c.ui.port, 7860);
  EXPECT_TRUE(c.ui.launch_browser);
  EXPECT_EQ(c.observability.log_level, "info");
  EXPECT_TRUE(c.observability.log_dir.empty());
  EXPECT_TRUE(c.observability.metrics_enabled);
  EXPECT_FALSE(c.observability.otlp_endpoint.has_value());
  EXPECT_FALSE(c.observability.trackio_project.has_value());
  EXPECT_EQ(c.observability.log_retention_days, LOG_RETENTION_DAYS);  // X03 §3.3
  EXPECT_EQ(c.observability.log_max_files, 100);
  EXPECT_TRUE(c.events.db_path.empty());
  EXPECT_EQ(c.events.snapshot_lag_lamport, SNAPSHOT_LAG_LAMPORT);
  EXPECT_EQ(c.events.snapshot_hour, 3);
  EXPECT_EQ(c.events.retention_days, EVENT_LOG_RETENTION_DAYS);
  EXPECT_EQ(c.events.snapshots_kept, 7);
  EXPECT_TRUE(validate(c).has_value());
}

TEST(ConfigDefaults, EmptyTextGivesDefaults) {
  auto r = parse_config_text("", Env());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, default_config());
}

// X04 §5: the spec's default config.toml parses and agrees with default_config() except for
// the example LLM backend it lists.
TEST(ConfigDefaults, SpecDefaultFileParses) {
  constexpr std::string_view SPEC_TOML = R"(
[identity]
auto_generate = true

[community]
# community_id is set by `hearthnet init`

[transport]
host = "0.0.0.0"
port = 7080

[discovery]
mdns_enabled = true
udp_enabled  = true

[bus]
prefer_local = true
local_load_threshold = 0.8

[[llm.backends]]
name  = "lmstudio"
url   = "http://192.168.188.25:1234"
model = "qwen2.5-7b-instruct"

[embedding]
model  = "BAAI/bge-small-en-v1.5"
device = "auto"

[rag]
enabled = true

[file]
gc_threshold = 0.8

[market]
enabled = true
default_ttl_seconds = 604800
max_ttl_seconds = 2592000

[chat]
enabled = true
store_and_forward = true

[ui]
host = "127.0.0.1"
port = 7860
launch_browser = true

[observability]
log_level = "info"
metrics_enabled = true
)";
  auto r = parse_config_text(SPEC_TOML, Env());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->llm.backends.size(), 1u);
  EXPECT_EQ(r->llm.backends[0].name, "lmstudio");
  EXPECT_EQ(r->llm.backends[0].url, "http://192.168.188.25:1234");
  EXPECT_EQ(r->llm.backends[0].model, "qwen2.5-7b-instruct");
  EXPECT_FALSE(r->llm.backends[0].api_key_env.has_value());
  Config expected = default_config();
  expected.llm.backends = r->llm.backends;
  EXPECT_EQ(*r, expected);
}

// --- round trip (X04 §7 test_default_config_round_trips) -------------------------------

TEST(ConfigRoundTrip, DefaultSaveLoadIsEqual) {
  test::TempDir dir;
  auto path = dir / "config.toml";
  ASSERT_TRUE(save_config(default_config(), path).has_value());
  auto loaded = load_config(path, Env());
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ(*loaded, default_config());
}

TEST(ConfigRoundTrip, EveryFieldSetSaveLoadIsEqual) {
  test::TempDir dir;
  auto path = dir / "nested/dir/config.toml";
  Config c = full_config();
  ASSERT_TRUE(validate(c).has_value()) << validate(c).error().message;
  ASSERT_TRUE(save_config(c, path).has_value());
  auto loaded = load_config(path, Env());
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message << "\n" << serialize_config(c);
  EXPECT_EQ(*loaded, c);
  // And the text is a fixed point.
  EXPECT_EQ(serialize_config(*loaded), serialize_config(c));
}

TEST(ConfigRoundTrip, ControlCharactersInStringsSurvive) {
  Config c = default_config();
  c.node.display_name = "tab\there";  // a control char in display_name is rejected...
  EXPECT_FALSE(validate(c).has_value());
  c.node.display_name = "plain";
  c.observability.trackio_project = std::string("a\nb\x01\x7f\"c\\");  // ...elsewhere kept
  auto r = parse_config_text(serialize_config(c), Env());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, c);
}

TEST(ConfigSave, AtomicLeavesNoTempFilesAndReplaces) {
  test::TempDir dir;
  auto path = dir / "config.toml";
  Config c = default_config();
  ASSERT_TRUE(save_config(c, path).has_value());
  c.transport.port = 7081;
  ASSERT_TRUE(save_config(c, path).has_value());
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    ++entries;
    EXPECT_EQ(e.path().filename(), "config.toml");
  }
  EXPECT_EQ(entries, 1);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  auto loaded = load_config(path, Env());
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->transport.port, 7081);
}

TEST(ConfigSave, RefusesInvalidConfigAndWritesNothing) {
  test::TempDir dir;
  auto path = dir / "config.toml";
  Config c = default_config();
  c.transport.port = 70000;
  auto s = save_config(c, path);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::config_error);
  EXPECT_NE(s.error().message.find("transport.port"), std::string::npos);
  EXPECT_FALSE(fs::exists(path));
}

// --- errors name the key --------------------------------------------------------------

TEST(ConfigErrors, UnknownSectionNamesIt) {
  auto msg = parse_error("[transprot]\nport = 1\n");
  EXPECT_NE(msg.find("transprot"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown section"), std::string::npos) << msg;
}

TEST(ConfigErrors, UnknownKeyNamesDottedPath) {
  auto msg = parse_error("[transport]\nprot = 7080\n");
  EXPECT_NE(msg.find("transport.prot: unknown key"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 2"), std::string::npos) << msg;
}

TEST(ConfigErrors, UnknownKeyInsideLlmBackend) {
  auto msg = parse_error("[[llm.backends]]\nname = \"ollama\"\n\n[[llm.backends]]\nname = "
                         "\"vllm\"\nmodle = \"x\"\n");
  EXPECT_NE(msg.find("llm.backends[1].modle: unknown key"), std::string::npos) << msg;
}

TEST(ConfigErrors, UnknownNestedTableIsUnknownKey) {
  auto msg = parse_error("[node.extra]\nx = 1\n");
  EXPECT_NE(msg.find("node.extra: unknown key"), std::string::npos) << msg;
}

TEST(ConfigErrors, WrongTypeNamesKeyAndTypes) {
  auto msg = parse_error("[transport]\nport = \"7080\"\n");
  EXPECT_NE(msg.find("transport.port: expected integer, got string"), std::string::npos) << msg;
  msg = parse_error("[ui]\nlaunch_browser = 1\n");
  EXPECT_NE(msg.find("ui.launch_browser: expected boolean, got integer"), std::string::npos)
      << msg;
  msg = parse_error("[emergency]\nprobe_targets = [\"a\", 2]\n");
  EXPECT_NE(msg.find("emergency.probe_targets[1]: expected string, got integer"),
            std::string::npos)
      << msg;
  msg = parse_error("transport = 5\n");
  EXPECT_NE(msg.find("transport: expected table, got integer"), std::string::npos) << msg;
  msg = parse_error("[llm]\nbackends = \"x\"\n");
  EXPECT_NE(msg.find("llm.backends: expected array of tables"), std::string::npos) << msg;
  msg = parse_error("[bus]\nlocal_load_threshold = \"high\"\n");
  EXPECT_NE(msg.find("bus.local_load_threshold: expected number"), std::string::npos) << msg;
}

TEST(ConfigErrors, IntegerAcceptedForFloat) {
  auto r = parse_config_text("[file]\ngc_threshold = 1\n", Env());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_DOUBLE_EQ(r->file.gc_threshold, 1.0);
}

TEST(ConfigErrors, OutOfRangeNamesKeyAndValue) {
  auto msg = parse_error("[transport]\nport = 70000\n");
  EXPECT_NE(msg.find("transport.port: 70000 is out of range (0..65535)"), std::string::npos)
      << msg;
  msg = parse_error("[discovery]\nudp_port = 0\n");
  EXPECT_NE(msg.find("discovery.udp_port"), std::string::npos) << msg;
  msg = parse_error("[bus]\nlocal_load_threshold = 1.5\n");
  EXPECT_NE(msg.find("bus.local_load_threshold: 1.5 is out of range"), std::string::npos) << msg;
  msg = parse_error("[bus]\nlocal_load_threshold = nan\n");
  EXPECT_NE(msg.find("bus.local_load_threshold"), std::string::npos) << msg;
  msg = parse_error("[market]\ndefault_ttl_seconds = -1\n");
  EXPECT_NE(msg.find("market.default_ttl_seconds"), std::string::npos) << msg;
  msg = parse_error("[events]\nsnapshot_lag_lamport = 0\n");
  EXPECT_NE(msg.find("events.snapshot_lag_lamport: 0 is out of range"), std::string::npos) << msg;
  msg = parse_error("[events]\nsnapshot_hour = 24\n");
  EXPECT_NE(msg.find("events.snapshot_hour: 24 is out of range"), std::string::npos) << msg;
  msg = parse_error("[observability]\nlog_max_files = 0\n");
  EXPECT_NE(msg.find("observability.log_max_files: 0 is out of range"), std::string::npos)
      << msg;
}

// `kind` frees `name` for an instance name of one's own (two vLLM servers, say).
TEST(ConfigLoad, LlmBackendKindMakesNameFree) {
  auto r = parse_config_text(
      "[[llm.backends]]\nname = \"kitchen-gpu\"\nkind = \"vllm\"\nurl = \"http://10.0.0.9:8000\"\n"
      "max_concurrent = 8\nctx = 4096\n",
      Env());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->llm.backends.size(), 1u);
  EXPECT_EQ(r->llm.backends[0].type(), "vllm");
  EXPECT_EQ(r->llm.backends[0].name, "kitchen-gpu");
  EXPECT_EQ(r->llm.backends[0].max_concurrent, 8);
  EXPECT_EQ(r->llm.backends[0].ctx, 4096);
}

TEST(ConfigErrors, InvalidValuesNameKey) {
  auto msg = parse_error("[node]\nprofile = \"castle\"\n");
  EXPECT_NE(msg.find("node.profile: \"castle\" is not one of"), std::string::npos) << msg;
  msg = parse_error("[observability]\nlog_level = \"loud\"\n");
  EXPECT_NE(msg.find("observability.log_level"), std::string::npos) << msg;
  msg = parse_error("[embedding]\ndevice = \"tpu\"\n");
  EXPECT_NE(msg.find("embedding.device"), std::string::npos) << msg;
  msg = parse_error("[[llm.backends]]\nname = \"gpt\"\n");
  EXPECT_NE(msg.find("llm.backends[0].name: \"gpt\" is not one of"), std::string::npos) << msg;
  msg = parse_error("[[llm.backends]]\nname = \"kitchen\"\nkind = \"gpt\"\n");
  EXPECT_NE(msg.find("llm.backends[0].kind: \"gpt\" is not one of"), std::string::npos) << msg;
  msg = parse_error("[[llm.backends]]\nname = \"ollama\"\nmax_concurrent = 0\n");
  EXPECT_NE(msg.find("llm.backends[0].max_concurrent"), std::string::npos) << msg;
  msg = parse_error("[[llm.backends]]\nurl = \"http://x\"\n");
  EXPECT_NE(msg.find("llm.backends[0].name: missing required key"), std::string::npos) << msg;
  msg = parse_error("[[llm.backends]]\nname = \"ollama\"\nurl = \"localhost:11434\"\n");
  EXPECT_NE(msg.find("llm.backends[0].url"), std::string::npos) << msg;
  msg = parse_error("[[llm.backends]]\nname = \"hf_api\"\napi_key_env = \"hf token\"\n");
  EXPECT_NE(msg.find("llm.backends[0].api_key_env"), std::string::npos) << msg;
  msg = parse_error("[discovery]\nudp_multicast_group = \"192.168.1.1\"\n");
  EXPECT_NE(msg.find("discovery.udp_multicast_group"), std::string::npos) << msg;
  msg = parse_error("[discovery]\nbootstrap_peers = [\"10.0.0.1\"]\n");
  EXPECT_NE(msg.find("discovery.bootstrap_peers[0]"), std::string::npos) << msg;
  msg = parse_error("[community]\ncommunity_id = \"abc\"\n");
  EXPECT_NE(msg.find("community.community_id"), std::string::npos) << msg;
  msg = parse_error("[identity]\nkeys_dir = \"a\\u0000b\"\n");
  EXPECT_NE(msg.find("identity.keys_dir: contains a NUL character"), std::string::npos) << msg;
  msg = parse_error("[emergency]\nprobe_targets = []\n");
  EXPECT_NE(msg.find("emergency.probe_targets"), std::string::npos) << msg;
  msg = parse_error("[node]\ndisplay_name = \"" + std::string(59, 'x') + "\"\n");
  EXPECT_NE(msg.find("node.display_name"), std::string::npos) << msg;
}

TEST(ConfigErrors, SyntaxErrorNamesLine) {
  auto r = parse_config_text("[transport]\nport = 7080\nhost = \"unterminated\n", Env());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::config_error);
  EXPECT_NE(r.error().message.find("invalid TOML at line 3"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().detail["reason"], "invalid_toml");
  EXPECT_EQ(r.error().detail["line"], 3);
}

TEST(ConfigErrors, DuplicateKeyIsSyntaxError) {
  auto msg = parse_error("[ui]\nport = 1\nport = 2\n");
  EXPECT_NE(msg.find("line 3"), std::string::npos) << msg;
}

TEST(ConfigErrors, DetailCarriesFieldAndProblem) {
  auto r = parse_config_text("[transport]\nport = 70000\n", Env());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().detail["reason"], "invalid_field");
  EXPECT_EQ(r.error().detail["field"], "transport.port");
  EXPECT_EQ(r.error().detail["problem"], "out_of_range");
  EXPECT_EQ(r.error().detail["line"], 2);
  // The error travels as JSON without throwing.
  EXPECT_NO_THROW((void)r.error().to_json().dump());
}

TEST(ConfigErrors, LoadPrefixesPathAndMissingFileIsNotFound) {
  test::TempDir dir;
  auto path = dir / "config.toml";
  auto missing = load_config(path, Env());
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  auto def = load_config_or_default(path, Env());
  ASSERT_TRUE(def.has_value());
  EXPECT_EQ(*def, default_config());

  ASSERT_TRUE(atomic_write_file(path, "[ui]\nport = -3\n").has_value());
  auto bad = load_config(path, Env());
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::config_error);
  EXPECT_NE(bad.error().message.find(path.string()), std::string::npos);
  EXPECT_NE(bad.error().message.find("ui.port"), std::string::npos);
  auto bad2 = load_config_or_default(path, Env());
  EXPECT_FALSE(bad2.has_value());
}

TEST(ConfigErrors, OversizedFileRefused) {
  test::TempDir dir;
  auto path = dir / "config.toml";
  ASSERT_TRUE(atomic_write_file(path, std::string(MAX_CONFIG_FILE_BYTES + 1, '#')).has_value());
  auto r = load_config(path, Env());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::config_error);
}

// --- cross-field validation (X04 §4 validate) -----------------------------------------

TEST(ConfigValidate, TransportPortMustDifferFromUdpPort) {
  Config c = default_config();
  c.transport.port = 42424;
  EXPECT_NE(validate_error(c).find("transport.port"), std::string::npos);
  c.transport.port = 0;  // ephemeral never collides
  c.ui.port = 0;
  EXPECT_TRUE(validate(c).has_value());
}

TEST(ConfigValidate, UiPortMustDifferFromTransportPort) {
  Config c = default_config();
  c.ui.port = 7080;
  EXPECT_NE(validate_error(c).find("ui.port"), std::string::npos);
}

TEST(ConfigValidate, TlsCertAndKeyTogether) {
  Config c = default_config();
  c.transport.tls_cert = fs::path("/c.pem");
  EXPECT_NE(validate_error(c).find("transport.tls_key"), std::string::npos);
  c.transport.tls_cert.reset();
  c.transport.tls_key = fs::path("/k.pem");
  EXPECT_NE(validate_error(c).find("transport.tls_cert"), std::string::npos);
  c.transport.tls_cert = fs::path("/c.pem");
  EXPECT_TRUE(validate(c).has_value());
}

TEST(ConfigValidate, GcTargetBelowThresholdAtMostOne) {
  Config c = default_config();
  c.file.gc_target = 0.8;
  EXPECT_NE(validate_error(c).find("file.gc_target"), std::string::npos);
  c.file.gc_target = 0.5;
  c.file.gc_threshold = 1.01;
  EXPECT_NE(validate_error(c).find("file.gc_threshold"), std::string::npos);
  c.file.gc_threshold = 1.0;
  EXPECT_TRUE(validate(c).has_value());
  c.file.gc_target = 0.0;
  EXPECT_NE(validate_error(c).find("file.gc_target"), std::string::npos);
}

TEST(ConfigValidate, MarketDefaultTtlAtMostMax) {
  Config c = default_config();
  c.market.default_ttl_seconds = c.market.max_ttl_seconds + 1;
  EXPECT_NE(validate_error(c).find("market.default_ttl_seconds"), std::string::npos);
}

TEST(ConfigValidate, PruneIntervalsPositiveAndOrdered) {
  Config c = default_config();
  c.discovery.prune_after_seconds = 0;
  EXPECT_NE(validate_error(c).find("discovery.prune_after_seconds"), std::string::npos);
  c.discovery.prune_after_seconds = 20;
  EXPECT_NE(validate_error(c).find("discovery.aggressive_prune_after_seconds"),
            std::string::npos);
}

TEST(ConfigValidate, CommunityIdFormat) {
  Config c = default_config();
  c.community.community_id = "ed25519:" + std::string(42, 'z') + "w";
  EXPECT_TRUE(validate(c).has_value());
  c.community.community_id = "ed25519:" + std::string(42, 'z');
  EXPECT_NE(validate_error(c).find("community.community_id"), std::string::npos);
}

TEST(ConfigValidate, InvalidUtf8Rejected) {
  Config c = default_config();
  c.observability.trackio_project = std::string("\xff\xfe");
  auto msg = validate_error(c);
  EXPECT_NE(msg.find("observability.trackio_project: is not valid UTF-8"), std::string::npos);
}

// --- ${NAME} expansion (X04 §7 test_env_var_substitution) -----------------------------

TEST(ConfigEnv, ExpandsVariablesInStrings) {
  Env env({{"OLLAMA_HOST", "http://10.0.0.9:11434"}, {"HN_NAME", "garage"}, {"EMPTY", ""}});
  auto r = parse_config_text(R"(
[node]
display_name = "${HN_NAME}-pc${EMPTY}"
[[llm.backends]]
name = "ollama"
url = "${OLLAMA_HOST}"
[emergency]
probe_targets = ["${HN_NAME}.lan", "cost$5", "literal$${HN_NAME}"]
)",
                             env);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->node.display_name, "garage-pc");
  EXPECT_EQ(r->llm.backends[0].url, "http://10.0.0.9:11434");
  EXPECT_EQ(r->emergency.probe_targets,
            (std::vector<std::string>{"garage.lan", "cost$5", "literal${HN_NAME}"}));
}

TEST(ConfigEnv, UnsetVariableNamesKeyAndVariable) {
  auto msg = parse_error("[transport]\nhost = \"${HN_BIND}\"\n");
  EXPECT_NE(msg.find("transport.host: environment variable HN_BIND is not set"),
            std::string::npos)
      << msg;
  msg = parse_error("[transport]\nhost = \"${HN_BIND\"\n");
  EXPECT_NE(msg.find("transport.host: unterminated"), std::string::npos) << msg;
  msg = parse_error("[transport]\nhost = \"${1X}\"\n");
  EXPECT_NE(msg.find("transport.host: bad environment variable name"), std::string::npos) << msg;
}

TEST(ConfigEnv, ExpandedValuesAreValidated) {
  Env env({{"PORTLESS", "no port here"}});
  auto msg = parse_error("[discovery]\nbootstrap_peers = [\"${PORTLESS}\"]\n", env);
  EXPECT_NE(msg.find("discovery.bootstrap_peers[0]"), std::string::npos) << msg;
}

}  // namespace
}  // namespace hn::config
