// chat_test.cpp — direct chat between real `hearthnet` nodes (M10, CONTRACT §4.15–4.16,
// issue #13 §3): a message to an online member is delivered directly and its delivered
// receipt is on the sender when chat.send returns; the recipient's UI topic carries it; read
// receipts travel back; a recipient that was offline while the sender wrote — and the
// sender gone by then — gets every message exactly once through an anchor; 100 concurrent
// sends lose and duplicate nothing and page in order; a revoked member can neither be
// written to nor write.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "identity/keys.h"
#include "support/node_fixture.h"
#include "support/test_node.h"
#include "support/test_support.h"
#include "transport/envelope.h"

namespace hn {
namespace {

using test::eventually;
using test::join;
using test::node_id_of;
using test::NodeProcess;
using test::status_of;

constexpr const char* NODE_CALL = "/node/v1/call";

std::string bootstrap(const std::vector<int>& ports) {
  std::string list = std::string(test::NO_DISCOVERY) + "bootstrap_peers = [";
  for (std::size_t i = 0; i < ports.size(); ++i) {
    list += (i ? ", " : "") + std::string("\"127.0.0.1:") + std::to_string(ports[i]) + "\"";
  }
  return list + "]\n";
}

// `hearthnet <args> --json` on n, parsed; null on a failure (err gets stderr).
Json cli_json(const NodeProcess& n, std::vector<std::string> args, std::string* err = nullptr) {
  args.push_back("--json");
  auto r = n.cli(args);
  if (err) *err = r.err;
  if (r.exit_code != 0) return Json();
  auto j = parse_json(r.out);
  return j ? *j : Json();
}

Json history(const NodeProcess& n, const std::string& peer) {
  Json h = cli_json(n, {"chat", "history", peer, "--limit", "1000"});
  return h.is_object() ? h["messages"] : Json::array();
}

bool lists_remote(const NodeProcess& n, const std::string& capability, const std::string& provider) {
  Json caps = cli_json(n, {"caps", "--remote-only", "--name", capability});
  if (!caps.is_array()) return false;
  for (const auto& e : caps) {
    if (e.value("node_id", "") == provider) return true;
  }
  return false;
}

std::string level_on(const NodeProcess& n, const std::string& id) {
  auto levels = status_of(n)["community"]["levels"];
  return levels.is_object() ? levels.value(id, "") : "";
}

// A signed request as the node itself (its own key over loopback: trust `self`).
struct SelfCaller {
  identity::KeyPair keys;
  std::string community;
  int port = 0;

  // POST /node/v1/call {capability, node: "self", body}; the status and the JSON answer.
  std::pair<int, Json> call(const std::string& capability, const Json& input) const {
    const Json body{{"capability", capability}, {"node", "self"}, {"body", {{"input", input}}}};
    auto env = transport::sign_request(keys, NODE_CALL, "1.0", community, body,
                                       SystemClock::instance());
    std::string text;
    const int status = test::https_request(port, "POST", NODE_CALL, transport::envelope_headers(env),
                                           canonical_json(body), &text, 20'000);
    auto j = parse_json(text);
    return {status, j ? *j : Json()};
  }
};

SelfCaller self_caller(const NodeProcess& n) {
  auto keys = identity::load_keys(n.home() / "keys");
  EXPECT_TRUE(keys.has_value());
  return SelfCaller{*keys, status_of(n)["community"].value("community_id", ""), n.port()};
}

class ChatMesh : public ::testing::Test {
 protected:
  // A node on a port chosen up front, with the other nodes' ports as static peers (a node
  // learns of peers from its own configuration and discovery, not from who calls it).
  std::unique_ptr<NodeProcess> make(const std::string& name, int port, const std::vector<int>& peers,
                                    bool founder) {
    auto n = std::make_unique<NodeProcess>(test::NodeOptions{
        .name = name, .port = port, .discovery = bootstrap(peers), .found_community = founder});
    n->add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=2");
    n->add_env("HEARTHNET_STATIC_PEER_INTERVAL_SECONDS=1");
    return n;
  }
  // a founds; b joins; both run, each a static peer of the other, and a sees b's chat.
  void start_pair() {
    std::string error;
    const int port_a = test::unused_port(), port_b = test::unused_port();
    ASSERT_TRUE(port_a != 0 && port_b != 0 && port_a != port_b);
    a = make("chat-a", port_a, {port_b}, true);
    ASSERT_TRUE(a->start(&error)) << error;
    b = make("chat-b", port_b, {port_a}, false);
    ASSERT_TRUE(join(*a, *b));
    ASSERT_TRUE(b->start(&error)) << error;
    id_a = node_id_of(*a);
    id_b = node_id_of(*b);
    ASSERT_TRUE(eventually([&] {
      return lists_remote(*a, "chat.deliver", id_b) && lists_remote(*b, "chat.deliver", id_a);
    }));
  }

  std::unique_ptr<NodeProcess> a, b, c;
  std::string id_a, id_b, id_c;
};

TEST_F(ChatMesh, DirectDeliveryWithReceiptsAndTheRecipientsTopic) {
  ASSERT_NO_FATAL_FAILURE(start_pair());
  std::string err;
  Json sent = cli_json(*a, {"chat", "send", id_b, "Hast du heute Strom?", "--client-id", "m-1"}, &err);
  ASSERT_TRUE(sent.is_object()) << err;
  EXPECT_EQ(sent["delivered"], "direct");
  const std::string event_id = sent.value("event_id", "");

  // The delivered receipt is on A when chat.send has answered.
  Json on_a = history(*a, id_b);
  ASSERT_EQ(on_a.size(), 1u) << on_a.dump();
  EXPECT_EQ(on_a[0]["event_id"], event_id);
  EXPECT_EQ(on_a[0]["from"], id_a);
  EXPECT_EQ(on_a[0]["to"], id_b);
  EXPECT_FALSE(on_a[0]["delivered_at"].is_null()) << on_a.dump();
  EXPECT_TRUE(on_a[0]["read_at"].is_null());

  // Idempotent on client_id: the same message, not a second one.
  Json again = cli_json(*a, {"chat", "send", id_b, "Hast du heute Strom?", "--client-id", "m-1"});
  EXPECT_EQ(again.value("event_id", ""), event_id);
  EXPECT_EQ(again.value("duplicate", false), true);
  EXPECT_EQ(history(*a, id_b).size(), 1u);

  // B has it, unread, and its UI heard of it on chat.message.<B's short id> (CONTRACT §8).
  Json on_b = history(*b, id_a);
  ASSERT_EQ(on_b.size(), 1u) << on_b.dump();
  EXPECT_EQ(on_b[0]["body"], "Hast du heute Strom?");
  Json peers = cli_json(*b, {"chat", "peers"});
  ASSERT_EQ(peers["peers"].size(), 1u) << peers.dump();
  EXPECT_EQ(peers["peers"][0]["node_id"], id_a);
  EXPECT_EQ(peers["peers"][0]["unread"], 1);
  const SelfCaller ui_b = self_caller(*b);
  const std::string topic = "chat.message." + ui_b.keys.short_id();
  auto env = transport::sign_request(ui_b.keys, std::string(transport::PUBSUB_SUBSCRIBE_PATH), "1.0",
                                     ui_b.community, Json{{"timeout", "0"}, {"topic", topic}},
                                     SystemClock::instance());
  std::string text;
  ASSERT_EQ(test::https_request(b->port(), "GET",
                                std::string(transport::PUBSUB_SUBSCRIBE_PATH) + "?timeout=0&topic=" + topic,
                                transport::envelope_headers(env), "", &text, 5000),
            200)
      << text;
  auto published = parse_json(text);
  ASSERT_TRUE(published.has_value());
  ASSERT_EQ((*published)["messages"].size(), 1u) << text;
  EXPECT_EQ((*published)["messages"][0]["payload"]["event_id"], event_id);

  // Read receipts: B reads, its unread count drops, A sees read_at.
  Json marked = cli_json(*b, {"chat", "read", id_a});
  EXPECT_EQ(marked.value("marked", -1), 1) << marked.dump();
  EXPECT_EQ(cli_json(*b, {"chat", "peers"})["peers"][0]["unread"], 0);
  EXPECT_TRUE(eventually([&] {
    Json h = history(*a, id_b);
    return h.size() == 1 && !h[0]["read_at"].is_null();
  }));

  // The contract's errors: no chat with oneself; an unknown recipient is not_found.
  auto self_chat = a->cli({"chat", "send", id_a, "hi me"});
  EXPECT_NE(self_chat.exit_code, 0);
  EXPECT_NE(self_chat.err.find("bad_request"), std::string::npos) << self_chat.err;
  const std::string stranger = identity::KeyPair::generate().node_id().str();
  auto unknown = a->cli({"chat", "send", stranger, "hi"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("not_found"), std::string::npos) << unknown.err;
  // chat.history is the node's own (self only): a member's signed call is refused.
  const SelfCaller as_b_on_a{ui_b.keys, ui_b.community, a->port()};
  EXPECT_EQ(as_b_on_a.call("chat.history@1.0", Json::object()).first, 401);
}

TEST_F(ChatMesh, OfflineRecipientGetsEveryMessageOnceThroughAnAnchor) {
  std::string error;
  const int port_a = test::unused_port(), port_b = test::unused_port(), port_c = test::unused_port();
  a = make("chat-a", port_a, {port_b, port_c}, true);
  ASSERT_TRUE(a->start(&error)) << error;
  c = make("chat-c", port_c, {port_a, port_b}, false);
  ASSERT_TRUE(join(*a, *c));
  ASSERT_TRUE(c->start(&error)) << error;
  b = make("chat-b", port_b, {port_a, port_c}, false);
  ASSERT_TRUE(join(*a, *b));
  ASSERT_TRUE(b->start(&error)) << error;
  id_a = node_id_of(*a);
  id_b = node_id_of(*b);
  id_c = node_id_of(*c);
  // C becomes an anchor (the root alone may, while it is the only one who can sign).
  auto promoted = a->cli({"member", "promote", id_c, "--level", "anchor"});
  ASSERT_EQ(promoted.exit_code, 0) << promoted.err;
  ASSERT_TRUE(eventually([&] { return level_on(*a, id_c) == "anchor"; }));
  ASSERT_TRUE(eventually([&] {
    return lists_remote(*a, "chat.forward", id_c) && lists_remote(*a, "chat.deliver", id_b);
  }));

  // B goes away; A writes 10 messages, which the anchor holds; then A goes too.
  ASSERT_EQ(b->stop(), 0);
  for (int i = 0; i < 10; ++i) {
    Json sent = cli_json(*a, {"chat", "send", id_b, "offline " + std::to_string(i), "--client-id",
                              "off-" + std::to_string(i)},
                         &error);
    ASSERT_TRUE(sent.is_object()) << error;
    EXPECT_EQ(sent["delivered"], "forwarded") << sent.dump();
  }
  ASSERT_EQ(a->stop(), 0);

  // B comes back with only C online: all 10, each once.
  ASSERT_TRUE(b->start(&error)) << error;
  ASSERT_TRUE(eventually([&] { return history(*b, id_a).size() >= 10; })) << history(*b, id_a).dump();
  Json got = history(*b, id_a);
  ASSERT_EQ(got.size(), 10u) << got.dump();
  std::set<std::string> bodies, ids;
  for (const auto& m : got) {
    bodies.insert(m.value("body", ""));
    ids.insert(m.value("client_id", ""));
  }
  EXPECT_EQ(bodies.size(), 10u);
  EXPECT_EQ(ids.size(), 10u);
  EXPECT_EQ(cli_json(*b, {"chat", "peers"})["peers"][0]["unread"], 10);
  // Another sync round changes nothing: still exactly once.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(history(*b, id_a).size(), 10u);
}

TEST_F(ChatMesh, HundredConcurrentSendsLoseAndDuplicateNothing) {
  ASSERT_NO_FATAL_FAILURE(start_pair());
  const SelfCaller ui_a = self_caller(*a);
  constexpr int N = 100;
  std::vector<std::string> event_ids(N);
  std::vector<std::thread> threads;
  std::atomic<int> retries{0};
  for (int i = 0; i < N; ++i) {
    threads.emplace_back([&, i] {
      const Json input{{"client_id", "s-" + std::to_string(i)},
                       {"recipient", id_b},
                       {"body", "stress " + std::to_string(i)}};
      // A full queue or a rate limit answers at once with retry_after_ms: the client
      // retries with the same client_id, which the service makes idempotent.
      for (int attempt = 0; attempt < 200; ++attempt) {
        auto [status, answer] = ui_a.call("chat.send@1.0", input);
        if (status == 200) {
          event_ids[i] = answer["output"].value("event_id", "");
          return;
        }
        ++retries;
        std::this_thread::sleep_for(std::chrono::milliseconds(answer.value("retry_after_ms", 50)));
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> distinct(event_ids.begin(), event_ids.end());
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(N));
  EXPECT_EQ(distinct.count(""), 0u);

  // History in pages of 50, in replay order: 100 messages, each once.
  std::vector<Json> pages;
  Json input{{"peer", id_b}, {"limit", 50}};
  std::vector<std::pair<std::int64_t, std::string>> keys;
  std::set<std::string> client_ids;
  for (int page = 0; page < 4; ++page) {
    auto [status, answer] = ui_a.call("chat.history@1.0", input);
    ASSERT_EQ(status, 200) << answer.dump();
    const Json& out = answer["output"];
    for (const auto& m : out["messages"]) {
      keys.emplace_back(m["lamport"].get<std::int64_t>(), m["event_id"].get<std::string>());
      client_ids.insert(m["client_id"].get<std::string>());
    }
    if (!out.contains("next")) break;
    EXPECT_EQ(out["messages"].size(), 50u);
    input["since_lamport"] = out["next"]["since_lamport"];
    input["since_event_id"] = out["next"]["since_event_id"];
  }
  EXPECT_EQ(keys.size(), static_cast<std::size_t>(N));
  EXPECT_EQ(client_ids.size(), static_cast<std::size_t>(N));
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_TRUE(std::adjacent_find(keys.begin(), keys.end()) == keys.end());
  // B has the same 100, each once.
  EXPECT_TRUE(eventually([&] { return history(*b, id_a).size() == static_cast<std::size_t>(N); }));
  RecordProperty("retries", retries.load());
}

TEST_F(ChatMesh, ARevokedMemberCanNeitherBeWrittenToNorWrite) {
  ASSERT_NO_FATAL_FAILURE(start_pair());
  auto revoked = a->cli({"member", "revoke", id_b, "--reason", "test"});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  ASSERT_TRUE(eventually([&] { return status_of(*a)["community"]["revoked_count"] == 1; }));
  // To a revoked member: the contract's not_found (recipient not a member), reason revoked.
  auto to_b = a->cli({"chat", "send", id_b, "still there?", "--json"});
  EXPECT_NE(to_b.exit_code, 0);
  EXPECT_NE(to_b.err.find("not_found"), std::string::npos) << to_b.err;
  EXPECT_NE(to_b.err.find("revoked"), std::string::npos) << to_b.err;
  // From the revoked member: A refuses it (revoked), and nothing reaches A's history.
  auto from_b = b->cli({"chat", "send", id_a, "let me in", "--json"});
  EXPECT_NE(from_b.exit_code, 0) << from_b.out;
  EXPECT_NE(from_b.err.find("revoked"), std::string::npos) << from_b.err;
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(history(*a, id_b).size(), 0u);
}

}  // namespace
}  // namespace hn
