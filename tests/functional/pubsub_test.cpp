// pubsub_test.cpp — who may read which pub-sub topic on a real node (CONTRACT §8): a member
// subscribing to another member's chat topic is refused with `unauthorized`, its own chat
// topic and the community topics are served, the node-local topics never leave the node,
// and the node itself (its CLI / UI key over loopback) reads them all.
#include <gtest/gtest.h>

#include <string>

#include "core/clock.h"
#include "core/json.h"
#include "identity/keys.h"
#include "support/node_fixture.h"
#include "support/test_node.h"
#include "support/test_support.h"
#include "transport/envelope.h"

namespace hn {
namespace {

using test::NodeOptions;
using test::NodeProcess;

struct Answer {
  int status = 0;
  std::string code;  // the error code of an error answer
  Json body;
};

// A signed GET /pubsub/v1/subscribe?topic=…&timeout=0 as `keys`, to the node on `port`.
Answer subscribe_as(const identity::KeyPair& keys, const std::string& community, int port,
                    const std::string& topic) {
  const std::string path(transport::PUBSUB_SUBSCRIBE_PATH);
  const Json query{{"timeout", "0"}, {"topic", topic}};
  auto env = transport::sign_request(keys, path, "1.0", community, query, SystemClock::instance());
  std::string text;
  Answer a;
  a.status = test::https_request(port, "GET", path + "?timeout=0&topic=" + topic,
                                 transport::envelope_headers(env), "", &text, 5000);
  if (auto j = parse_json(text); j && j->is_object()) {
    a.body = *j;
    if (j->contains("error") && (*j)["error"].is_string()) a.code = (*j)["error"].get<std::string>();
  }
  return a;
}

TEST(PubSubAuthorization, ChatTopicsAreTheRecipientsAndLocalTopicsStayLocal) {
  NodeProcess a(NodeOptions{.name = "ps-a"});
  std::string error;
  ASSERT_TRUE(a.start(&error)) << error;
  NodeProcess b(NodeOptions{.name = "ps-b", .found_community = false});
  ASSERT_TRUE(test::join(a, b));  // b is a member of a's community (its keys sign below)

  auto keys_a = identity::load_keys(a.home() / "keys");
  auto keys_b = identity::load_keys(b.home() / "keys");
  ASSERT_TRUE(keys_a.has_value() && keys_b.has_value());
  const std::string community = test::status_of(a)["community"]["community_id"].get<std::string>();
  const std::string chat_a = "chat.message." + keys_a->short_id();
  const std::string chat_b = "chat.message." + keys_b->short_id();

  // A member reading another member's chat topic: refused.
  auto other = subscribe_as(*keys_b, community, a.port(), chat_a);
  EXPECT_EQ(other.status, 401) << other.body.dump();
  EXPECT_EQ(other.code, "unauthorized");
  // Its own chat topic and a community topic: served (nothing published yet: a timeout).
  auto own = subscribe_as(*keys_b, community, a.port(), chat_b);
  EXPECT_EQ(own.status, 200) << own.body.dump();
  EXPECT_EQ(own.body.value("timeout", false), true);
  auto market = subscribe_as(*keys_b, community, a.port(), "marketplace.post.created");
  EXPECT_EQ(market.status, 200) << market.body.dump();
  // The node's own topics are for its local UI only (never on the wire).
  for (const char* local : {"emergency.mode.changed", "capability.registered"}) {
    auto refused = subscribe_as(*keys_b, community, a.port(), local);
    EXPECT_EQ(refused.status, 401) << local;
    EXPECT_EQ(refused.code, "unauthorized") << local;
  }
  // The node itself (its own key over loopback: the CLI, the UI) reads every topic, the
  // manifests it publishes among them.
  EXPECT_EQ(subscribe_as(*keys_a, community, a.port(), chat_a).status, 200);
  EXPECT_EQ(subscribe_as(*keys_a, community, a.port(), "emergency.mode.changed").status, 200);
  auto manifests = subscribe_as(*keys_a, community, a.port(), "node.manifest.updated");
  ASSERT_EQ(manifests.status, 200) << manifests.body.dump();
  ASSERT_FALSE(manifests.body["messages"].empty()) << manifests.body.dump();
  const Json& m = manifests.body["messages"][0]["payload"];
  EXPECT_EQ(m["node_id"], keys_a->node_id().str());
  EXPECT_TRUE(m.contains("signature"));
  for (const char* field : {"cpu", "vram_used_gb", "in_flight_total"}) {
    EXPECT_TRUE(m["load"].contains(field)) << field << " in " << m["load"].dump();
  }
}

}  // namespace
}  // namespace hn
