// chat_view_test.cpp — ChatView's rules (services/chat/chat_view.h): only our
// conversations, once by event id and by client_id, receipts only from the recipient (also
// before their message), unread counts, paging by (lamport, event_id), snapshot round trip.
#include "services/chat/chat_view.h"

#include <gtest/gtest.h>

#include "core/ulid.h"
#include "identity/keys.h"

namespace hn::services::chat {
namespace {

using events::Event;
using events::EventType;

struct ChatViewTest : ::testing::Test {
  identity::KeyPair us = identity::KeyPair::generate();
  identity::KeyPair peer = identity::KeyPair::generate();
  identity::KeyPair other = identity::KeyPair::generate();
  ChatView view{us.node_id()};
  Lamport lamport = 0;

  Event event(const identity::KeyPair& author, EventType type, Json data) {
    Event e;
    e.event_id = EventId(new_ulid());
    e.lamport = ++lamport;
    e.wall_clock = "2026-05-26T08:14:22.000Z";
    e.community_id = CommunityId(us.node_id().str());
    e.author = author.node_id();
    e.event_type = type;
    e.data = std::move(data);
    return e;
  }
  Event sent(const identity::KeyPair& from, const identity::KeyPair& to, const std::string& client_id,
             const std::string& body = "hi") {
    return event(from, EventType::chat_message_sent,
                 Json{{"client_id", client_id}, {"recipient", to.node_id().str()}, {"body", body}});
  }
  Event receipt(const identity::KeyPair& from, const Event& target, bool read) {
    return event(from, read ? EventType::chat_message_read : EventType::chat_message_delivered,
                 Json{{"target_event_id", target.event_id.str()},
                      {read ? "read_at" : "delivered_at", "2026-05-26T08:15:00.000Z"}});
  }
};

TEST_F(ChatViewTest, KeepsOurConversationsOnceEach) {
  const Event in = sent(peer, us, "c1");
  view.apply(in);
  view.apply(in);                                  // same event twice
  view.apply(sent(peer, us, "c1", "again"));       // same client_id, another event
  view.apply(sent(peer, other, "c2"));             // not ours
  view.apply(sent(us, us, "c3"));                  // no chat with oneself
  view.apply(event(peer, EventType::chat_message_sent, Json{{"body", 3}}));  // malformed
  view.apply(sent(us, peer, "c4"));
  EXPECT_EQ(view.size(), 2u);
  EXPECT_TRUE(view.find(in.event_id).has_value());
  EXPECT_TRUE(view.find_sent("c4").has_value());
  EXPECT_FALSE(view.find_sent("c1").has_value());  // the peer's, not ours
  EXPECT_EQ(view.unread_count(peer.node_id()), 1u);
}

TEST_F(ChatViewTest, ReceiptsCountOnlyFromTheRecipientAndMayComeFirst) {
  const Event out = sent(us, peer, "c1");
  const Event early = receipt(peer, out, false);  // before its message
  view.apply(early);
  view.apply(receipt(other, out, true));           // not the recipient: ignored
  view.apply(out);
  auto m = view.find(out.event_id);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->delivered_at.has_value());
  EXPECT_FALSE(m->read_at.has_value());
  view.apply(receipt(peer, out, true));
  EXPECT_TRUE(view.find(out.event_id)->read_at.has_value());

  const Event in = sent(peer, us, "c2");
  view.apply(in);
  EXPECT_EQ(view.unreceipted_incoming().size(), 1u);
  view.apply(receipt(us, in, false));
  EXPECT_TRUE(view.unreceipted_incoming().empty());
  EXPECT_EQ(view.unread_from(peer.node_id()).size(), 1u);
  view.apply(receipt(us, in, true));
  EXPECT_EQ(view.unread_count(peer.node_id()), 0u);
  EXPECT_EQ(view.peers().front().unread, 0u);
}

TEST_F(ChatViewTest, PagesInReplayOrderWithoutGapsAtEqualLamports) {
  std::vector<Event> all;
  for (int i = 0; i < 7; ++i) {
    Event e = sent(i % 2 ? peer : us, i % 2 ? us : peer, "c" + std::to_string(i));
    if (i == 3) e.lamport = all.back().lamport;  // two messages with one Lamport
    all.push_back(e);
    view.apply(e);
  }
  std::vector<std::string> seen;
  HistoryQuery q{.peer = peer.node_id(), .limit = 2};
  for (;;) {
    auto page = view.history(q);
    for (const auto& m : page) seen.push_back(m.client_id);
    if (page.size() < q.limit) break;
    q.since_lamport = page.back().lamport;
    q.since_event_id = page.back().event_id;
  }
  EXPECT_EQ(seen.size(), 7u);
  std::sort(all.begin(), all.end(), events::replay_order_less);
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(seen[i], all[i].data["client_id"]);
}

TEST_F(ChatViewTest, SnapshotRoundTripsAndBadStateChangesNothing) {
  const Event out = sent(us, peer, "c1");
  view.apply(out);
  view.apply(receipt(peer, out, false));
  view.apply(receipt(peer, sent(us, peer, "unseen"), true));  // pending
  const Json state = view.snapshot_state();
  ChatView copy(us.node_id());
  ASSERT_TRUE(copy.restore_state(state));
  EXPECT_EQ(copy.snapshot_state(), state);
  EXPECT_FALSE(copy.restore_state(Json{{"messages", Json::array({Json{{"event_id", 1}}})},
                                       {"pending", Json::array()}}));
  EXPECT_FALSE(copy.restore_state(Json::array()));
  EXPECT_EQ(copy.snapshot_state(), state);
}

}  // namespace
}  // namespace hn::services::chat
