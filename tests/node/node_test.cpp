// node_test.cpp — the orchestrator in-process: a node composed from an initialised home
// serves its own CLI over loopback (trust self), publishes a verifiable manifest, decides
// membership (revoked wins, strangers unauthorized), and two nodes of one community reach
// each other's capabilities through a static peer, the transport client and the bus's
// RemoteInvoker (calls and streams).
#include "node/node.h"
#include "observability/logging.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "core/time.h"
#include "events/event_log.h"
#include "identity/manifest.h"
#include "node/init.h"
#include "node/local_client.h"
#include "support/test_support.h"

namespace hn::node {
namespace {

config::Env env_for(const std::filesystem::path& dir) {
  return config::Env({{"HEARTHNET_HOME", dir.string()}, {"HOME", dir.string()}});
}

void write_config(const std::filesystem::path& dir, const std::string& extra = "") {
  std::filesystem::create_directories(dir);
  // No detector probing the internet, no OpenAI door, the dashboard on a free port: the
  // node's own behaviour only (those have their own suites), and parallel tests never
  // share a fixed port.
  std::ofstream(dir / "config.toml") << "[transport]\nhost = \"127.0.0.1\"\nport = 0\n"
                                     << "[openai_api]\nenabled = false\n"
                                     << "[ui]\nport = 0\nlaunch_browser = false\n"
                                     << "[emergency]\nenabled = false\n"
                                     << "[discovery]\nmdns_enabled = false\nudp_enabled = false\n"
                                     << extra;
}

NodeHome founded_home(const std::filesystem::path& dir, const std::string& name) {
  write_config(dir);
  auto env = env_for(dir);
  auto home = open_home(std::nullopt, env);
  EXPECT_TRUE(home.has_value());
  auto report = initialise_node(*home, {.display_name = name}, env);
  EXPECT_TRUE(report.has_value()) << report.error().to_string();
  return *home;
}

NodeOptions test_options() {
  NodeOptions o;
  o.init_logging = false;
  o.handle_signals = false;
  return o;
}

// Runs a node on its own network thread for the scope's lifetime.
class Running {
 public:
  explicit Running(Node& node) : m_node(node) {
    EXPECT_TRUE(node.start().has_value());
    m_thread = std::thread([this] { m_status = m_node.run(); });
  }
  ~Running() { stop(); }
  void stop() {
    if (!m_thread.joinable()) return;
    m_node.stop();
    m_thread.join();
  }
  Status status() const { return m_status; }

 private:
  Node& m_node;
  std::thread m_thread;
  Status m_status;
};

TEST(NodeUnits, PeerAddressesAndPatterns) {
  EXPECT_EQ(parse_peer_address("10.0.0.2:7080")->first, "10.0.0.2");
  EXPECT_EQ(parse_peer_address("10.0.0.2:7080")->second, 7080);
  EXPECT_EQ(parse_peer_address("[fe80::1]:9000")->first, "fe80::1");
  EXPECT_EQ(parse_peer_address("https://anchor.local:7443/manifest")->second, 7443);
  for (const char* bad : {"", "host", "host:", "host:0", "host:70000", "a:b:c", "[::1]", "h:12x"}) {
    EXPECT_FALSE(parse_peer_address(bad).has_value()) << bad;
  }
  EXPECT_TRUE(matches_capability_pattern("diag.echo", ""));
  EXPECT_TRUE(matches_capability_pattern("diag.echo", "echo"));
  EXPECT_TRUE(matches_capability_pattern("llm.chat", "llm.*"));
  EXPECT_FALSE(matches_capability_pattern("diag.echo", "llm.*"));
  EXPECT_TRUE(matches_capability_pattern("rag.query", "r?g.*"));
}

TEST(NodeUnits, ControlPortFile) {
  test::TempDir dir;
  config::Paths paths;
  paths.control_port_file = dir / "run/control.port";
  EXPECT_EQ(read_control_port(paths).error().code, ErrorCode::not_found);
  std::filesystem::create_directories(dir / "run");
  std::ofstream(paths.control_port_file) << "41234\n";
  EXPECT_EQ(*read_control_port(paths), 41234);
  std::ofstream(paths.control_port_file) << "garbage";
  EXPECT_EQ(read_control_port(paths).error().code, ErrorCode::bad_request);
}

TEST(NodeOpen, RefusesWithoutKeysOrCommunity) {
  test::TempDir dir;
  write_config(dir.path());
  auto home = open_home(std::nullopt, env_for(dir.path()));
  ASSERT_TRUE(home.has_value());
  auto node = Node::open(*home, test_options());
  ASSERT_FALSE(node.has_value());
  EXPECT_EQ(node.error().code, ErrorCode::keys_missing);
  EXPECT_NE(node.error().message.find("hearthnet init"), std::string::npos);
}

// X04: an empty [node] display_name is the host name, chosen at start-up (a node that
// joined with `invite redeem` has no name in its config).
TEST(NodeOpen, EmptyDisplayNameIsTheHostName) {
  test::TempDir dir;
  auto home = founded_home(dir.path(), "named");
  home.config.node.display_name.clear();
  auto node = Node::open(home, test_options());
  ASSERT_TRUE(node.has_value()) << node.error().to_string();
  EXPECT_EQ((*node)->status()["node"]["display_name"], default_display_name());
  EXPECT_FALSE(default_display_name().empty());
}

// How many threads of this process run at the given nice value (/proc/self/task/*/stat).
int threads_at_nice(int nice) {
  int n = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string f;
    for (int i = 0; fields >> f; ++i) {
      if (i == 16) {  // field 19 of proc(5): nice
        n += std::atoi(f.c_str()) == nice;
        break;
      }
    }
  }
  return n;
}

// The HEARTHNET_SYNC_INTERVAL_SECONDS test hook: a malformed value refuses to open (it
// used to be ignored silently).
TEST(NodeOpen, MalformedSyncIntervalHookIsAConfigError) {
  test::TempDir dir;
  auto home = founded_home(dir.path(), "hooked");
  ::setenv("HEARTHNET_SYNC_INTERVAL_SECONDS", "soon", 1);
  auto node = Node::open(home, test_options());
  ::setenv("HEARTHNET_SYNC_INTERVAL_SECONDS", "7", 1);
  auto hooked = Node::open(home, test_options());
  ::unsetenv("HEARTHNET_SYNC_INTERVAL_SECONDS");
  ASSERT_FALSE(node.has_value());
  EXPECT_EQ(node.error().code, ErrorCode::config_error);
  ASSERT_TRUE(hooked.has_value()) << hooked.error().to_string();
  EXPECT_EQ((*hooked)->status()["sync"]["interval_seconds"], 7);
}

// Each class of work has its own queue (architecture.md "Execution model"): the node's
// admin, sync and push queues and one per service (the node's community service too), reported by status; every queue thread runs
// below the network thread's priority (nice 5).
TEST(NodeOpen, EachClassOfWorkHasItsOwnQueueBelowTheNetworkThread) {
  test::TempDir dir;
  auto home = founded_home(dir.path(), "queues");
  // Queues run 5 below the process's own priority (the suite may itself run under nice).
  errno = 0;
  const int queue_nice = ::getpriority(PRIO_PROCESS, 0) + 5;
  const int before = threads_at_nice(queue_nice);
  auto node = Node::open(home, test_options());
  ASSERT_TRUE(node.has_value()) << node.error().to_string();
  const Json st = (*node)->status();
  ASSERT_TRUE(st["queues"].contains("admin")) << st.dump();
  ASSERT_TRUE(st["queues"].contains("sync")) << st.dump();
  ASSERT_TRUE(st["queues"].contains("push")) << st.dump();
  ASSERT_TRUE(st["services"].contains("diag")) << st.dump();
  ASSERT_TRUE(st["services"].contains("community")) << st.dump();
  EXPECT_EQ(st["services"]["diag"]["state"], "running");
  EXPECT_EQ(st["services"]["diag"]["capabilities"], Json::array({"diag.echo@1.0"}));
  // Every service's queue, plus the background / extra queues a service reports in its health.
  int threads = st["queues"]["admin"]["threads"].get<int>() + st["queues"]["sync"]["threads"].get<int>() +
                st["queues"]["push"]["threads"].get<int>();
  const Json services = st["services"];
  for (const auto& [name, svc] : services.items()) {
    threads += svc["queue"]["threads"].get<int>();
    const Json health = svc["health"].is_object() ? svc["health"] : Json::object();
    for (const auto& q : health.value("extra_queues", Json::array())) {
      threads += q["threads"].get<int>();
    }
    if (health.contains("background_queue")) {
      threads += health["background_queue"]["threads"].get<int>();
    }
  }
  EXPECT_EQ(threads_at_nice(queue_nice) - before, threads);
  node->reset();
  EXPECT_EQ(threads_at_nice(queue_nice), before);  // every queue stopped with the node
}

TEST(NodeRun, ServesItsOwnCliAndShutsDownCleanly) {
  test::TempDir dir;
  auto home = founded_home(dir.path(), "alpha");
  auto opened = Node::open(home, test_options());
  ASSERT_TRUE(opened.has_value()) << opened.error().to_string();
  Node& node = **opened;
  {
    Running running(node);
    ASSERT_NE(node.port(), 0);
    EXPECT_EQ(*read_control_port(home.paths), node.port());

    auto client = LocalClient::connect(home);
    ASSERT_TRUE(client.has_value()) << client.error().to_string();
    auto echoed = (*client)->call("diag.echo", {1, 0}, Json{{"input", {{"text", "hi"}}}});
    ASSERT_TRUE(echoed.has_value()) << echoed.error().to_string();
    EXPECT_EQ((*echoed)["output"]["text"], "hi");
    auto status = (*client)->get_json(NODE_STATUS_PATH);
    ASSERT_TRUE(status.has_value()) << status.error().to_string();
    EXPECT_EQ((*status)["node"]["display_name"], "alpha");
    // GET /trace/recent: n is an integer (clamped to the ring); anything else is bad_request.
    auto traces = (*client)->get_public("/trace/recent?n=5");
    ASSERT_TRUE(traces.has_value()) << traces.error().to_string();
    EXPECT_EQ(traces->status, 200);
    EXPECT_FALSE(traces->body["traces"].empty());  // the diag.echo call above
    auto bad_n = (*client)->get_public("/trace/recent?n=lots");
    ASSERT_TRUE(bad_n.has_value()) << bad_n.error().to_string();
    EXPECT_EQ(bad_n->status, 400);

    // The log level changes at run time (Settings, POST /node/v1/log-level) and status shows it;
    // an unknown one is bad_request and changes nothing.
    const auto before_level = (*status)["node"]["log_level"].get<std::string>();
    auto set = (*client)->request("POST", NODE_LOG_LEVEL_PATH, Json{{"level", "debug"}});
    ASSERT_TRUE(set.has_value()) << set.error().to_string();
    EXPECT_EQ(set->status, 200);
    EXPECT_EQ(set->body["level"], "debug");
    EXPECT_EQ(set->body["was"], before_level);
    EXPECT_EQ(node.status()["node"]["log_level"], "debug");
    EXPECT_EQ(observability::current_log_level(), observability::LogLevel::debug);
    auto bad_level = (*client)->request("POST", NODE_LOG_LEVEL_PATH, Json{{"level", "loud"}});
    ASSERT_TRUE(bad_level.has_value()) << bad_level.error().to_string();
    EXPECT_EQ(bad_level->status, 400);
    EXPECT_EQ(bad_level->body["error"], "bad_request");
    EXPECT_EQ(node.status()["node"]["log_level"], "debug");
    ASSERT_TRUE((*client)->request("POST", NODE_LOG_LEVEL_PATH, Json{{"level", before_level}}));

    // The manifest verifies and lists what the bus offers, at the bound port.
    auto m = node.manifest();
    EXPECT_TRUE(identity::verify_node_manifest(m, SystemClock::instance()).has_value());
    ASSERT_EQ(m.endpoints.size(), 1u);
    EXPECT_EQ(m.endpoints[0].port, node.port());
    ASSERT_FALSE(m.capabilities.empty());
    // The services' capabilities and the node's own community.invite / revoke / cosign.
    for (const char* name : {"diag.echo", "file.read", "file.list", "file.advertise", "file.put",
                             "community.cosign", "community.invite", "community.revoke"}) {
      EXPECT_TRUE(std::any_of(m.capabilities.begin(), m.capabilities.end(),
                              [&](const auto& c) { return c.name == name; }))
          << name;
    }

    // Membership: ourselves (anchor), strangers unauthorized, other communities refused.
    const CommunityId community(*home.config.community.community_id);
    EXPECT_EQ(*node.membership(node.keys().node_id(), community), TrustLevel::anchor);
    auto stranger = identity::KeyPair::generate();
    EXPECT_EQ(node.membership(stranger.node_id(), community).error().code, ErrorCode::unauthorized);
    EXPECT_EQ(node.membership(node.keys().node_id(), CommunityId("ed25519:other")).error().code,
              ErrorCode::unauthorized);
    identity::NodeManifestInput in;
    in.community_id = community;
    in.display_name = "stranger";
    in.endpoints.push_back({"https", "127.0.0.1", 9});
    auto foreign = identity::build_node_manifest(stranger, in);
    EXPECT_EQ(node.on_peer_manifest(foreign, in.endpoints[0]).error().code, ErrorCode::unauthorized);
    EXPECT_EQ(node.status()["peers"]["count"], 0);
    client->reset();
    running.stop();
    EXPECT_TRUE(running.status().has_value());
  }
  EXPECT_FALSE(std::filesystem::exists(home.paths.control_port_file));
}

// CONTRACT §8: the node publishes its emergency state on `emergency.mode.changed` (for its
// local UI: {online, since}) and X03's hearthnet_emergency_mode follows it.
TEST(NodeRun, EmergencyModeChangesArePublishedAndExported) {
  test::TempDir dir;
  auto home = founded_home(dir.path(), "emergency");
  auto opened = Node::open(home, test_options());
  ASSERT_TRUE(opened.has_value()) << opened.error().to_string();
  Node& node = **opened;
  Running running(node);
  auto client = LocalClient::connect(home);
  ASSERT_TRUE(client.has_value()) << client.error().to_string();
  const std::string topic = "emergency.mode.changed";
  node.set_emergency_mode(true);
  auto got = (*client)->get_json("/pubsub/v1/subscribe",
                                 Json{{"topic", topic}, {"last_seq", "0"}, {"timeout", "10"}});
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  ASSERT_EQ((*got)["messages"].size(), 1u) << got->dump();
  const Json& payload = (*got)["messages"][0]["payload"];
  EXPECT_EQ(payload["online"], false);
  EXPECT_TRUE(parse_rfc3339_ms(payload["since"].get<std::string>()).has_value()) << payload.dump();
  auto metrics = (*client)->get_public("/metrics");
  ASSERT_TRUE(metrics.has_value());
  EXPECT_NE(metrics->text.find("hearthnet_emergency_mode{state=\"offline\"} 1"), std::string::npos)
      << metrics->text;

  node.set_emergency_mode(false);
  auto back = (*client)->get_json("/pubsub/v1/subscribe",
                                  Json{{"topic", topic}, {"last_seq", "1"}, {"timeout", "10"}});
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  ASSERT_EQ((*back)["messages"].size(), 1u) << back->dump();
  EXPECT_EQ((*back)["messages"][0]["payload"]["online"], true);
  client->reset();
}

// B joins A's community through log events (what onboarding will write), then reaches A.
TEST(NodeRun, TwoNodesReachEachOthersCapabilities) {
  test::TempDir dir_a, dir_b;
  auto home_a = founded_home(dir_a.path(), "anchor-a");
  const std::string community = *home_a.config.community.community_id;
  auto keys_a = *identity::load_keys(home_a.paths.keys_dir);
  auto keys_b = identity::KeyPair::generate();
  {
    auto log = *events::EventLog::open(home_a.paths.events_db, CommunityId(community), keys_a);
    auto invite = log->append_local(events::EventType::community_member_invited,
                                    Json{{"invitee_node_id", keys_b.node_id().str()},
                                         {"display_name", "member-b"},
                                         {"initial_level", "member"}});
    ASSERT_TRUE(invite.has_value()) << invite.error().to_string();
    auto joined = log->append_local(events::EventType::community_member_joined,
                                    Json{{"invite_event_id", invite->event_id.str()}}, keys_b);
    ASSERT_TRUE(joined.has_value()) << joined.error().to_string();
  }
  ASSERT_TRUE(refresh_community_manifest(home_a, keys_a).has_value());

  write_config(dir_b.path(), "[node]\ndisplay_name = \"member-b\"\n[community]\ncommunity_id = \"" +
                                 community + "\"\n");
  auto home_b = *open_home(std::nullopt, env_for(dir_b.path()));
  ASSERT_TRUE(identity::save_keys(keys_b, home_b.paths.keys_dir).has_value());
  std::filesystem::create_directories(home_b.paths.community_dir);
  std::filesystem::copy_file(home_a.paths.events_db, home_b.paths.events_db);
  std::filesystem::copy_file(home_a.paths.community_manifest, home_b.paths.community_manifest);

  auto a = Node::open(home_a, test_options());
  ASSERT_TRUE(a.has_value()) << a.error().to_string();
  auto b = Node::open(home_b, test_options());
  ASSERT_TRUE(b.has_value()) << b.error().to_string();
  EXPECT_EQ(*(*a)->membership(keys_b.node_id(), CommunityId(community)), TrustLevel::member);

  // A capability only A offers, plain and streamed.
  bus::LocalCapability only_a;
  only_a.descriptor.name = "experimental.only_a";
  only_a.descriptor.version = {1, 0};
  only_a.descriptor.request_schema = Json{{"type", "object"}};
  only_a.descriptor.response_schema = Json{{"type", "object"}};
  only_a.descriptor.stream_schema = Json{{"type", "object"}};
  only_a.descriptor.max_concurrent = 4;
  only_a.handler = [](const bus::CallContext& ctx, const Json&) -> Result<Json> {
    return Json{{"who", "A"}, {"caller", ctx.request.caller.str()}};
  };
  only_a.stream_handler = [](const bus::CallContext&, const Json&, const bus::FrameSink& emit) -> Result<Json> {
    for (int i = 0; i < 3; ++i) HN_TRY(emit(bus::StreamFrame{"tick", Json{{"i", i}}}));
    return Json{{"ticks", 3}};
  };
  ASSERT_TRUE((*a)->bus().register_capability(only_a).has_value());

  Running run_a(**a);
  Running run_b(**b);
  const std::uint16_t port_a = (*a)->port();
  Node* node_b = b->get();
  boost::asio::post(node_b->io_context(), [node_b, port_a] { node_b->add_static_peer("127.0.0.1", port_a); });

  // Discovery is asynchronous: wait (bounded) until B's bus lists A's capability.
  CapsFilter remote{.remote_only = true, .name_pattern = "experimental.*"};
  for (int i = 0; i < 200 && node_b->capabilities(remote)["capabilities"].empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_EQ(node_b->capabilities(remote)["capabilities"].size(), 1u) << node_b->status().dump();
  EXPECT_EQ(node_b->status()["peers"]["count"], 1);

  auto r = node_b->bus().call("experimental.only_a", {1, 0}, Json::object());
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ((*r)["who"], "A");
  EXPECT_EQ((*r)["caller"], keys_b.node_id().str());

  std::vector<int> ticks;
  auto done = node_b->bus().stream("experimental.only_a", {1, 0}, Json::object(),
                                   [&](const bus::StreamFrame& f) -> Status {
                                     ticks.push_back(f.data["i"].get<int>());
                                     return {};
                                   });
  ASSERT_TRUE(done.has_value()) << done.error().to_string();
  EXPECT_EQ((*done)["ticks"], 3);
  EXPECT_EQ(ticks, (std::vector<int>{0, 1, 2}));

  // X02 §5.5 emergency mode: B goes offline → sync every 30 s, and a round at once, which
  // brings A's newest events over long before the 5-minute period (none is pushed).
  for (int i = 0; i < 200 && node_b->status()["event_log"].value("events", 0) !=
                                 (*a)->status()["event_log"].value("events", 0);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));  // the first round (peer added)
  }
  EXPECT_EQ(node_b->status()["sync"]["interval_seconds"], SYNC_INTERVAL_SECONDS);
  EXPECT_EQ(node_b->status()["online_state"]["state"], "online");
  auto client_a = LocalClient::connect(home_a);
  ASSERT_TRUE(client_a.has_value()) << client_a.error().to_string();
  auto emitted = (*client_a)->request("POST", NODE_DEBUG_EMIT_PATH, Json{{"count", 5}});
  ASSERT_TRUE(emitted.has_value() && emitted->status == 200);
  const int events_a = (*a)->status()["event_log"].value("events", 0);
  ASSERT_GT(events_a, node_b->status()["event_log"].value("events", 0));
  node_b->set_emergency_mode(true);
  for (int i = 0; i < 400 && node_b->status()["event_log"].value("events", 0) != events_a; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_EQ(node_b->status()["event_log"].value("events", 0), events_a);
  EXPECT_EQ(node_b->status()["online_state"]["state"], "offline");
  EXPECT_EQ(node_b->status()["sync"]["interval_seconds"], SYNC_INTERVAL_OFFLINE_SECONDS);
  node_b->set_emergency_mode(false);
  // The mode flips at once; its effects are applied on the network thread just after.
  for (int i = 0; i < 200 && node_b->status()["sync"]["interval_seconds"] != SYNC_INTERVAL_SECONDS; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(node_b->status()["online_state"]["state"], "online");
  EXPECT_EQ(node_b->status()["sync"]["interval_seconds"], SYNC_INTERVAL_SECONDS);

  // A peer that is gone is dropped from the bus.
  node_b->on_peer_removed((*a)->keys().node_id());
  EXPECT_TRUE(node_b->capabilities(remote)["capabilities"].empty());
  EXPECT_EQ(node_b->bus().call("experimental.only_a", {1, 0}, Json::object()).error().code,
            ErrorCode::not_found);
}

}  // namespace
}  // namespace hn::node
