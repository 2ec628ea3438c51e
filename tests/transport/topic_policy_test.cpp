// topic_policy_test.cpp — who may subscribe to which topic (CONTRACT §8).
#include <gtest/gtest.h>

#include <string>

#include "identity/keys.h"
#include "transport/topic_policy.h"

namespace hn::transport {
namespace {

struct Ids {
  identity::KeyPair alice = identity::KeyPair::generate();
  identity::KeyPair bob = identity::KeyPair::generate();
};

TEST(TopicPolicy, ChatTopicIsReadableOnlyByItsRecipient) {
  Ids ids;
  const std::string bobs = "chat.message." + ids.bob.short_id();
  auto refused = authorize_subscription(ids.alice.node_id(), TrustLevel::anchor, bobs);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::unauthorized);
  EXPECT_TRUE(authorize_subscription(ids.bob.node_id(), TrustLevel::member, bobs).has_value());
  // The recipient by its short id without the prefix, or its full id.
  const std::string bare = ids.bob.short_id().substr(ids.bob.short_id().find(':') + 1);
  EXPECT_TRUE(authorize_subscription(ids.bob.node_id(), TrustLevel::member, "chat.message." + bare)
                  .has_value());
  EXPECT_TRUE(authorize_subscription(ids.bob.node_id(), TrustLevel::member,
                                     "chat.message." + ids.bob.node_id().str())
                  .has_value());
  EXPECT_FALSE(authorize_subscription(ids.bob.node_id(), TrustLevel::member, "chat.message.")
                   .has_value());
}

TEST(TopicPolicy, TheNodeItselfReadsEveryTopic) {
  Ids ids;
  for (const char* topic : {"emergency.mode.changed", "capability.registered",
                            "marketplace.post.created"}) {
    EXPECT_TRUE(authorize_subscription(ids.alice.node_id(), TrustLevel::self, topic).has_value());
  }
  EXPECT_TRUE(authorize_subscription(ids.alice.node_id(), TrustLevel::self,
                                     "chat.message." + ids.bob.short_id())
                  .has_value());
}

TEST(TopicPolicy, LocalTopicsNeverLeaveTheNode) {
  Ids ids;
  for (const char* topic :
       {"emergency.mode.changed", "capability.registered", "capability.deregistered"}) {
    auto r = authorize_subscription(ids.alice.node_id(), TrustLevel::anchor, topic);
    ASSERT_FALSE(r.has_value()) << topic;
    EXPECT_EQ(r.error().code, ErrorCode::unauthorized);
  }
}

TEST(TopicPolicy, OtherTopicsAreForMembers) {
  Ids ids;
  EXPECT_TRUE(authorize_subscription(ids.alice.node_id(), TrustLevel::member,
                                     "marketplace.post.created")
                  .has_value());
  EXPECT_TRUE(
      authorize_subscription(ids.alice.node_id(), TrustLevel::member, "node.manifest.updated")
          .has_value());
  auto pending = authorize_subscription(ids.alice.node_id(), TrustLevel::unknown,
                                        "marketplace.post.created");
  ASSERT_FALSE(pending.has_value());
  EXPECT_EQ(pending.error().code, ErrorCode::unauthorized);
}

}  // namespace
}  // namespace hn::transport
