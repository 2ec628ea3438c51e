// mesh_test.cpp — several real `hearthnet` processes forming one community (M02, M03,
// M13, X02 across processes). Every joiner enters ONLY through `hearthnet id` →
// `hearthnet invite create` (on a running member) → `hearthnet invite redeem`. Each node
// has its own HEARTHNET_HOME and listens on 127.0.0.1 port 0; UDP tests use a random
// multicast port so parallel runs do not see each other.
//
// Test hook: HEARTHNET_SYNC_INTERVAL_SECONDS shortens the X02 sync period (300 s).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>

#include "core/json.h"
#include "support/node_fixture.h"
#include "support/test_node.h"
#include "support/test_support.h"

namespace hn {
namespace {

using test::eventually;
using test::join;
using test::node_id_of;
using test::NodeProcess;
using test::spawn_cli;
using test::status_of;
using test::trim;

// The bootstrap_peers line of [discovery] for nodes listening on 127.0.0.1:ports.
std::string bootstrap_peers(const std::vector<int>& ports) {
  std::string list = "bootstrap_peers = [";
  for (std::size_t i = 0; i < ports.size(); ++i) {
    list += (i ? ", " : "") + std::string("\"127.0.0.1:") + std::to_string(ports[i]) + "\"";
  }
  return list + "]";
}

// Replaces the bootstrap_peers line of a stopped node's config.
void set_bootstrap_peers(const NodeProcess& n, const std::vector<int>& ports) {
  const auto path = n.home() / "config.toml";
  std::ifstream in(path);
  std::stringstream out;
  std::string line;
  const std::string list = bootstrap_peers(ports);
  std::vector<std::string> lines;
  bool has_line = false;
  while (std::getline(in, line)) {
    has_line |= line.rfind("bootstrap_peers", 0) == 0;
    lines.push_back(line);
  }
  for (const auto& l : lines) {
    if (l.rfind("bootstrap_peers", 0) == 0) {
      out << list << "\n";
    } else {
      out << l << "\n";
      if (l == "[discovery]" && !has_line) out << list << "\n";
    }
  }
  in.close();
  std::ofstream(path, std::ios::trunc) << out.str();
}

std::string static_discovery(const std::vector<int>& ports) {
  return test::NO_DISCOVERY + bootstrap_peers(ports) + "\n";
}

std::string udp_discovery(int port) {
  return "mdns_enabled = false\nudp_enabled = true\nudp_multicast_group = "
         "\"239.255.42.99\"\nudp_port = " +
         std::to_string(port) + "\n";
}

int random_udp_port() {
  std::random_device rd;
  return 20000 + static_cast<int>(rd() % 30000);
}

// Whether n's remote capabilities list `capability` from node `provider`.
bool lists_remote(const NodeProcess& n, const std::string& capability,
                  const std::string& provider) {
  auto r = n.cli({"caps", "--remote-only", "--json", "--name", capability});
  if (r.exit_code != 0) return false;
  auto j = parse_json(r.out);
  if (!j || !j->is_array()) return false;
  for (const auto& e : *j) {
    if (e.value("node_id", "") == provider) return true;
  }
  return false;
}

// The node that answered a diag.echo (meta.node_id), or "" on failure (err gets stderr).
std::string echo_on(const NodeProcess& n, const std::vector<std::string>& extra,
                    std::string* err = nullptr) {
  std::vector<std::string> args{"call", "diag.echo@1.0", "--body", R"({"input":{"text":"ping"}})"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = n.cli(args);
  if (err) *err = r.err;
  if (r.exit_code != 0) return "";
  auto j = parse_json(r.out);
  if (!j || (*j)["output"].value("text", "") != "ping") return "";
  return (*j)["meta"].value("node_id", "");
}

class MeshTest : public ::testing::Test {
 protected:
  std::unique_ptr<NodeProcess> make(const std::string& name, std::string discovery, bool founder) {
    auto n = std::make_unique<NodeProcess>(test::NodeOptions{
        .name = name, .discovery = std::move(discovery), .found_community = founder});
    n->add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=2");
    return n;
  }
  // Starts *a, a founder without discovery, and *b, a member that joins it by invite and
  // knows it as a static peer (member_env set before it starts); returns once b lists a's
  // diag.echo.
  void start_pair(const std::string& name_a, const std::string& name_b,
                  std::unique_ptr<NodeProcess>* a, std::unique_ptr<NodeProcess>* b,
                  const std::vector<std::string>& member_env = {}) {
    std::string error;
    *a = make(name_a, test::NO_DISCOVERY, true);
    ASSERT_TRUE((*a)->start(&error)) << error;
    *b = make(name_b, static_discovery({(*a)->port()}), false);
    for (const auto& kv : member_env) (*b)->add_env(kv);
    ASSERT_TRUE(join(**a, **b));
    ASSERT_TRUE((*b)->start(&error)) << error;
    const std::string id_a = node_id_of(**a);
    ASSERT_TRUE(eventually([&] { return lists_remote(**b, "diag.echo", id_a); }));
  }
};

TEST_F(MeshTest, StaticPeersFindEachOtherAndRouteCalls) {
  std::string error;
  auto a = make("node-a", test::NO_DISCOVERY, true);
  ASSERT_TRUE(a->start(&error)) << error;
  auto b = make("node-b", static_discovery({a->port()}), false);
  auto c = make("node-c", static_discovery({a->port()}), false);
  ASSERT_TRUE(join(*a, *b));
  ASSERT_TRUE(join(*a, *c));
  ASSERT_TRUE(b->start(&error)) << error;
  // C knows A and B statically.
  c->stop();
  set_bootstrap_peers(*c, {a->port(), b->port()});
  ASSERT_TRUE(c->start(&error)) << error;

  const std::string id_a = node_id_of(*a), id_b = node_id_of(*b), id_c = node_id_of(*c);
  ASSERT_FALSE(id_a.empty());
  ASSERT_TRUE(eventually([&] {
    return lists_remote(*c, "diag.echo", id_a) && lists_remote(*c, "diag.echo", id_b);
  })) << status_of(*c).dump();
  EXPECT_EQ(status_of(*c)["peers"]["count"], 2);
  // The community view of C admits all three.
  EXPECT_TRUE(eventually([&] { return status_of(*c)["community"].value("member_count", 0) == 3; }));

  // Local by default (prefer_local), pinned to a peer with --node, any peer with remote.
  EXPECT_EQ(echo_on(*c, {}), id_c);
  EXPECT_EQ(echo_on(*c, {"--node", "self"}), id_c);
  std::string err;
  EXPECT_EQ(echo_on(*c, {"--node", id_a}, &err), id_a) << err;
  EXPECT_EQ(echo_on(*c, {"--node", id_b}, &err), id_b) << err;
  const std::string any = echo_on(*c, {"--node", "remote"}, &err);
  EXPECT_TRUE(any == id_a || any == id_b) << any << " " << err;
}

TEST_F(MeshTest, UdpMulticastFindsEveryNode) {
  const int udp = random_udp_port();
  std::string error;
  auto a = make("udp-a", udp_discovery(udp), true);
  ASSERT_TRUE(a->start(&error)) << error;
  auto b = make("udp-b", udp_discovery(udp), false);
  auto c = make("udp-c", udp_discovery(udp), false);
  ASSERT_TRUE(join(*a, *b));
  ASSERT_TRUE(join(*a, *c));
  ASSERT_TRUE(b->start(&error)) << error;
  ASSERT_TRUE(c->start(&error)) << error;
  const std::string id_a = node_id_of(*a), id_b = node_id_of(*b);
  if (!eventually([&] { return status_of(*a)["peers"].value("count", 0) >= 1; })) {
    GTEST_SKIP() << "no multicast on this host: " << status_of(*a)["peers"].dump();
  }
  EXPECT_TRUE(eventually([&] {
    return lists_remote(*c, "diag.echo", id_a) && lists_remote(*c, "diag.echo", id_b);
  })) << status_of(*c).dump();
  std::string err;
  EXPECT_EQ(echo_on(*c, {"--node", id_a}, &err), id_a) << err;
  for (auto* n : {a.get(), b.get(), c.get()}) {
    EXPECT_TRUE(eventually([&] { return status_of(*n)["peers"].value("count", 0) == 2; }))
        << status_of(*n).dump();
  }
  // Discovery stops cleanly with the node (M12 §3.2: SIGTERM exits 0).
  EXPECT_EQ(c->stop(SIGTERM), 0) << c->output();
}

TEST_F(MeshTest, PartitionedWritersConvergeAfterReconnect) {
  std::string error;
  auto a = make("part-a", test::NO_DISCOVERY, true);
  ASSERT_TRUE(a->start(&error)) << error;
  auto b = make("part-b", test::NO_DISCOVERY, false);
  ASSERT_TRUE(join(*a, *b));
  ASSERT_TRUE(b->start(&error)) << error;  // knows no one: cut off from A

  auto ea = a->cli({"debug", "emit", "500"});
  ASSERT_EQ(ea.exit_code, 0) << ea.err;
  auto eb = b->cli({"debug", "emit", "500"});
  ASSERT_EQ(eb.exit_code, 0) << eb.err;
  const auto before_a = status_of(*a)["event_log"], before_b = status_of(*b)["event_log"];
  ASSERT_NE(before_a["fingerprint"], before_b["fingerprint"]);

  // Reconnect: B restarts knowing A; the peer-added round and the periodic ones follow.
  b->stop();
  set_bootstrap_peers(*b, {a->port()});
  ASSERT_TRUE(b->start(&error)) << error;
  const std::int64_t want = before_a["events"].get<std::int64_t>() + 500;
  ASSERT_TRUE(eventually([&] {
    auto la = status_of(*a)["event_log"], lb = status_of(*b)["event_log"];
    return la.value("events", 0) == want && lb.value("events", 0) == want &&
           la["fingerprint"] == lb["fingerprint"];
  })) << status_of(*a)["event_log"].dump()
      << " vs " << status_of(*b)["event_log"].dump();
  EXPECT_EQ(status_of(*a)["event_log"]["head_event_id"],
            status_of(*b)["event_log"]["head_event_id"]);
}

TEST_F(MeshTest, RevokedMemberIsRefused) {
  std::unique_ptr<NodeProcess> a, b;
  ASSERT_NO_FATAL_FAILURE(start_pair("rev-a", "rev-b", &a, &b));
  const std::string id_a = node_id_of(*a), id_b = node_id_of(*b);
  std::string err;
  ASSERT_EQ(echo_on(*b, {"--node", id_a}, &err), id_a) << err;

  // The founder (anchor) revokes B: every later request of B is refused with `revoked`.
  auto rv = a->cli({"member", "revoke", id_b, "--reason", "test"});
  ASSERT_EQ(rv.exit_code, 0) << rv.err;
  EXPECT_EQ(status_of(*a)["community"]["revoked_count"], 1);
  EXPECT_EQ(echo_on(*b, {"--node", id_a}, &err), "");
  EXPECT_NE(err.find("revoked"), std::string::npos) << err;
}

// M13 §4.2 refusals through the real CLI: garbage, someone else's invite, a second redeem,
// a bad invitee id. A refused redeem leaves the home without a community.
TEST_F(MeshTest, InviteMistakesAreRefused) {
  std::string error;
  auto a = make("inv-a", test::NO_DISCOVERY, true);
  ASSERT_TRUE(a->start(&error)) << error;
  auto x = make("inv-x", test::NO_DISCOVERY, false);
  auto y = make("inv-y", test::NO_DISCOVERY, false);

  auto garbage = x->cli({"invite", "redeem", "hearthnet://v1/not-an-invite"});
  EXPECT_NE(garbage.exit_code, 0);
  EXPECT_NE(garbage.err.find("invite_invalid"), std::string::npos) << garbage.err;

  auto bad_id = a->cli({"invite", "create", "--node-id", "ed25519:nope"});
  EXPECT_NE(bad_id.exit_code, 0);

  auto card = x->cli({"id"});
  ASSERT_EQ(card.exit_code, 0) << card.err;
  auto invite = a->cli({"invite", "create", "--node-id", trim(card.out), "--ttl", "2"});
  ASSERT_EQ(invite.exit_code, 0) << invite.err;
  ASSERT_EQ(invite.out.rfind("hearthnet://v1/", 0), 0u) << invite.out;

  auto stolen = y->cli({"invite", "redeem", trim(invite.out)});
  EXPECT_NE(stolen.exit_code, 0);
  EXPECT_NE(stolen.err.find("invitee_mismatch"), std::string::npos) << stolen.err;
  const std::string text = test::read_text(y->home() / "config.toml");
  EXPECT_EQ(text.find("community_id = \"ed25519"), std::string::npos) << text;

  auto ok = x->cli({"invite", "redeem", trim(invite.out)});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  auto again = x->cli({"invite", "redeem", trim(invite.out)});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("already_member"), std::string::npos) << again.err;
}

// Test hook HEARTHNET_DIAG_FAIL=1: that node's own diag.echo fails every call. Its bus
// records the failures against the (local) provider and sends the traffic to the healthy
// peer.
TEST_F(MeshTest, FailingProviderIsQuarantinedAndTrafficMoves) {
  std::unique_ptr<NodeProcess> a, c;
  ASSERT_NO_FATAL_FAILURE(start_pair("healthy-a", "failing-c", &a, &c, {"HEARTHNET_DIAG_FAIL=1"}));
  const std::string id_a = node_id_of(*a), id_c = node_id_of(*c);

  int failures = 0;
  std::string answered;
  for (int i = 0; i < 30 && answered.empty(); ++i) {
    std::string err;
    answered = echo_on(*c, {}, &err);
    if (answered.empty()) ++failures;
  }
  EXPECT_EQ(answered, id_a) << "after " << failures << " failures";
  // Quarantined now: the next calls go to A straight away.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(echo_on(*c, {}), id_a);
  auto caps = c->cli({"caps", "--local-only", "--json", "--name", "diag.echo"});
  ASSERT_EQ(caps.exit_code, 0) << caps.err;
  auto j = parse_json(caps.out);
  ASSERT_TRUE(j && j->size() == 1u) << caps.out;
  // The failing provider's recorded health (the bus fails over to A within a call).
  EXPECT_LT((*j)[0].value("success_rate", 1.0), 0.5) << caps.out;
  // And the quarantine itself (M03 §5.7): calls pinned to C's own provider fail until its
  // window holds HEALTH_MIN_SAMPLES (5) outcomes below 50 %; from then on the bus refuses
  // to call it at all ("quarantined") instead of trying it again.
  std::string err;
  int pinned_failures = 0;
  for (; pinned_failures < 10; ++pinned_failures) {
    EXPECT_EQ(echo_on(*c, {"--node", id_c}, &err), "");
    if (err.find("quarantined") != std::string::npos) break;
    EXPECT_NE(err.find("HEARTHNET_DIAG_FAIL"), std::string::npos) << err;  // really called
  }
  EXPECT_NE(err.find("quarantined"), std::string::npos) << err;
  EXPECT_LE(pinned_failures, 5);
  // Unpinned and `remote` calls still go to A.
  EXPECT_EQ(echo_on(*c, {}), id_a);
  EXPECT_EQ(echo_on(*c, {"--node", "remote"}), id_a);
}

int lines_in(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) ++n;
  return n;
}

const std::string SLOW_STREAM = R"({"input":{"text":"slow","n":1000,"delay_ms":100}})";

// A streamed call whose consumer dies mid-way (the CLI is SIGKILLed) ends the node's
// work: the bus call is cancelled, in_flight drops to 0 long before the stream's natural end
// (1000 frames × 100 ms), and the trace records a call that did not finish `ok`.
TEST_F(MeshTest, KilledStreamConsumerEndsServerWork) {
  std::string error;
  auto a = make("stream-a", test::NO_DISCOVERY, true);
  ASSERT_TRUE(a->start(&error)) << error;

  test::TempDir out_dir;
  const std::string out_path = (out_dir.path() / "stream.out").string();
  pid_t pid = spawn_cli(*a, {"call", "diag.echo@1.0", "--stream", "--body", SLOW_STREAM}, out_path);
  ASSERT_GE(pid, 0);
  auto frames_seen = [&] { return lines_in(out_path); };
  const bool streaming = eventually([&] { return frames_seen() >= 3; });
  const int in_flight_during = status_of(*a).value("in_flight", -1);
  ::kill(pid, SIGKILL);
  int st = 0;
  ::waitpid(pid, &st, 0);
  ASSERT_TRUE(streaming) << "no frames arrived";
  EXPECT_GE(in_flight_during, 1);

  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return status_of(*a).value("in_flight", -1) == 0; }));
  // Far sooner than the ~100 s the stream would have run.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  auto trace = a->cli({"trace", "recent", "--json", "--capability", "diag.echo"});
  ASSERT_EQ(trace.exit_code, 0) << trace.err;
  EXPECT_NE(trace.out.find("diag.echo"), std::string::npos) << trace.out;
  EXPECT_EQ(trace.out.find("\"ok\""), std::string::npos) << trace.out;
}

// The same across two nodes: the CLI on B streams from A's provider (`--node <A>`), and is
// SIGKILLed mid-way. B notices the disconnect and cancels its bus call, which closes B's
// stream from A; A notices that in turn and ends the provider's work. Both nodes drop to
// in_flight 0 long before the stream's natural end.
TEST_F(MeshTest, KilledStreamConsumerEndsWorkAcrossNodes) {
  std::unique_ptr<NodeProcess> a, b;
  ASSERT_NO_FATAL_FAILURE(start_pair("relay-a", "relay-b", &a, &b));
  const std::string id_a = node_id_of(*a);

  test::TempDir out_dir;
  const std::string out_path = (out_dir.path() / "stream.out").string();
  pid_t pid = spawn_cli(
      *b, {"call", "diag.echo@1.0", "--stream", "--node", id_a, "--body", SLOW_STREAM}, out_path);
  ASSERT_GE(pid, 0);
  const bool streaming = eventually([&] { return lines_in(out_path) >= 3; });
  const int a_during = status_of(*a).value("in_flight", -1);
  const int b_during = status_of(*b).value("in_flight", -1);
  ::kill(pid, SIGKILL);
  int st = 0;
  ::waitpid(pid, &st, 0);
  ASSERT_TRUE(streaming) << "no frames arrived";
  EXPECT_GE(a_during, 1);  // the provider runs on A...
  EXPECT_GE(b_during, 1);  // ...relayed by B
  // The frames came from A's provider.
  std::ifstream in(out_path);
  std::string first;
  std::getline(in, first);
  EXPECT_NE(first.find("slow"), std::string::npos) << first;

  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return status_of(*b).value("in_flight", -1) == 0; }));
  ASSERT_TRUE(eventually([&] { return status_of(*a).value("in_flight", -1) == 0; }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));

  // A finished stream pinned to A arrives whole (done frame last).
  auto r = b->cli({"call", "diag.echo@1.0", "--stream", "--node", id_a, "--body",
                   R"({"input":{"text":"x","n":5}})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 6) << r.out;
  EXPECT_NE(r.out.find("\"done\""), std::string::npos) << r.out;
}

}  // namespace
}  // namespace hn
