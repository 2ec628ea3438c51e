// wire_test.cpp — a real `hearthnet run` process keeps the wire contract for a client written
// from the spec alone (issue #11 "Wire"): raw HTTPS requests with the contract's own
// headers (CONTRACT §5.1 `Accept: application/json, text/event-stream`) get the plain
// answer of a capability that answers plainly and a stream when the body asks for one
// (`input.stream`); a major-version mismatch is schema_mismatch naming the offered version
// (§2.1, §5.4 alt_capabilities); a body that does not match the schema is schema_mismatch
// with the schema hash the node speaks (§5.4 schema_hash_expected, the one its manifest
// lists). And GET /ready means what X01 §3.2 says: a node with a configured peer is not
// ready until that peer answers.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/json.h"
#include "identity/keys.h"
#include "support/node_fixture.h"
#include "support/test_node.h"
#include "support/test_support.h"
#include "transport/envelope.h"

namespace hn {
namespace {

using test::NodeProcess;

constexpr const char* CONTRACT_ACCEPT = "application/json, text/event-stream";  // CONTRACT §5.1

class WireTest : public test::SharedNodeTest<WireTest> {
 public:
  static constexpr const char* NODE_NAME = "wire-node";

 protected:
  void SetUp() override {
    SharedNodeTest::SetUp();
    if (HasFatalFailure()) return;
    auto keys = identity::load_keys(s_node->home() / "keys");
    ASSERT_TRUE(keys.has_value()) << keys.error().to_string();
    m_keys.emplace(std::move(*keys));
    auto st = test::status_of(*s_node);
    ASSERT_TRUE(st.is_object());
    m_community = st["community"]["community_id"].get<std::string>();
  }

  struct Answer {
    int status = 0;
    std::string text;  // the raw body
    Json json;         // the body parsed, null when it is not JSON
  };
  // A signed POST /bus/v1/call as a spec-only client sends it: the §5.1 headers, Accept
  // included.
  Answer call(const std::string& capability, const std::string& version, const Json& body) {
    auto env = transport::sign_request(*m_keys, capability, version, m_community, body,
                                       SystemClock::instance());
    auto headers = transport::envelope_headers(env);
    headers.emplace_back("Accept", CONTRACT_ACCEPT);
    Answer a;
    a.status = test::https_request(s_node->port(), "POST", "/bus/v1/call", headers,
                                   canonical_json(body), &a.text, 10'000);
    if (auto j = parse_json(a.text)) a.json = std::move(*j);
    return a;
  }

  std::optional<identity::KeyPair> m_keys;
  std::string m_community;
};

TEST_F(WireTest, ContractAcceptHeaderToAPlainCapabilityGetsItsPlainAnswer) {
  auto a = call("diag.echo", "1.0", Json{{"input", {{"text", "plain"}}}});
  ASSERT_EQ(a.status, 200) << a.text;
  ASSERT_TRUE(a.json.is_object()) << "not a plain JSON answer: " << a.text;
  EXPECT_EQ(a.json["output"]["text"], "plain");
}

TEST_F(WireTest, InputStreamTrueStreams) {
  auto a = call("diag.echo", "1.0", Json{{"input", {{"text", "s"}, {"n", 2}, {"stream", true}}}});
  ASSERT_EQ(a.status, 200) << a.text;
  EXPECT_TRUE(a.json.is_null()) << "expected an event stream: " << a.text;
  EXPECT_NE(a.text.find("event: echo"), std::string::npos) << a.text;
  EXPECT_NE(a.text.find("event: done"), std::string::npos) << a.text;
}

TEST_F(WireTest, MajorVersionMismatchIsSchemaMismatch) {
  auto a = call("diag.echo", "2.0", Json{{"input", {{"text", "v2"}}}});
  EXPECT_EQ(a.status, 400) << a.text;
  EXPECT_EQ(a.json.value("error", ""), "schema_mismatch") << a.text;
  EXPECT_EQ(a.json["alt_capabilities"], Json::array({"diag.echo@1.0"})) << a.text;
}

TEST_F(WireTest, BodyOffSchemaIsSchemaMismatchWithTheExpectedHash) {
  std::string manifest_text;
  ASSERT_EQ(test::https_get(s_node->port(), "/manifest", &manifest_text), 200);
  auto manifest = parse_json(manifest_text);
  ASSERT_TRUE(manifest.has_value());
  std::string offered_hash;
  for (const auto& c : (*manifest)["capabilities"]) {
    if (c.value("name", "") == "diag.echo") offered_hash = c.value("schema_hash", "");
  }
  ASSERT_FALSE(offered_hash.empty()) << manifest_text;

  auto a = call("diag.echo", "1.0", Json{{"input", {{"text", 5}}}});
  EXPECT_EQ(a.status, 400) << a.text;
  EXPECT_EQ(a.json.value("error", ""), "schema_mismatch") << a.text;
  EXPECT_EQ(a.json.value("schema_hash_expected", ""), offered_hash) << a.text;  // §5.4: top level
}

TEST_F(WireTest, UnknownCapabilityIsNotFound) {
  auto a = call("experimental.nothing_here", "1.0", Json{{"input", Json::object()}});
  EXPECT_EQ(a.status, 404) << a.text;
  EXPECT_EQ(a.json.value("error", ""), "not_found") << a.text;
}

// GET /ready: the status and the answer.
std::pair<int, Json> ready_of(const NodeProcess& n) {
  std::string text;
  const int status = test::https_get(n.port(), "/ready", &text);
  auto j = parse_json(text);
  return {status, j ? std::move(*j) : Json()};
}

TEST(WireReady, ReadyNeedsAReachablePeerWhenPeersAreConfigured) {
  // X01 §3.2: ≥1 capability and, with peers configured, ≥1 of them reachable.
  const int port_a = test::unused_tcp_port();
  ASSERT_NE(port_a, 0);
  std::string error;
  NodeProcess a(test::NodeOptions{.name = "ready-a", .port = port_a});
  ASSERT_TRUE(a.start(&error)) << error;
  auto [status_a, ready_a] = ready_of(a);
  EXPECT_EQ(status_a, 200) << ready_a.dump();  // a founder alone, no peers configured
  EXPECT_EQ(ready_a["peers_expected"], false);
  EXPECT_GE(ready_a.value("capabilities", 0), 1);

  NodeProcess b(test::NodeOptions{
      .name = "ready-b",
      .discovery = std::string(test::NO_DISCOVERY) + "bootstrap_peers = [\"127.0.0.1:" +
                   std::to_string(port_a) + "\"]\n",
      .found_community = false});
  b.add_env("HEARTHNET_STATIC_PEER_INTERVAL_SECONDS=1");  // not the 30 s re-poll
  ASSERT_TRUE(test::join(a, b));
  ASSERT_EQ(a.stop(), 0);
  ASSERT_TRUE(b.start(&error)) << error;
  auto [status_b, ready_b] = ready_of(b);
  EXPECT_EQ(status_b, 503) << ready_b.dump();  // its only peer does not answer
  EXPECT_EQ(ready_b["ready"], false);
  EXPECT_EQ(ready_b["peers_expected"], true);
  EXPECT_EQ(ready_b["peers_reachable"], 0);

  ASSERT_TRUE(a.start(&error)) << error;  // the same port: b's static peer answers now
  EXPECT_TRUE(test::eventually([&] { return ready_of(b).first == 200; })) << ready_of(b).second.dump();
  EXPECT_EQ(ready_of(b).second["peers_reachable"], 1);
}

}  // namespace
}  // namespace hn
