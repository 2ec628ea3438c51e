// replay_test.cpp — ReplayEngine and CommunityView (X02 §3.4, §5.3; CONTRACT §7.2, §7.4).
#include "events/replay.h"

#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include "events/community_view.h"
#include "events_test_util.h"
#include "identity/cosign.h"
#include "identity/manifest.h"

namespace hn::events {
namespace {

using test::key_from_byte;
using test::make_signed;

// Records the order it saw; its state is the list of (lamport, id).
class OrderView final : public MaterialisedView {
 public:
  std::string name() const override { return "order"; }
  void reset() override { seen.clear(); ++resets; }
  void apply(const Event& e) override { seen.push_back(e.event_id.str()); }
  Json snapshot_state() const override { return Json{{"seen", seen}}; }
  Status restore_state(const Json& s) override {
    if (!s.is_object() || !s.contains("seen") || !s["seen"].is_array()) {
      return make_error(ErrorCode::bad_request, "bad order state");
    }
    seen = s["seen"].get<std::vector<std::string>>();
    return {};
  }
  std::vector<std::string> seen;
  int resets = 0;
};

class ReplayTest : public test::LogFixture {};

TEST_F(ReplayTest, RebuildReplaysInOrderAndLiveEventsFanOut) {
  auto log = open_log();
  ASSERT_TRUE(log->append_received(make_signed(peer, community, EventType::chat_message_sent, 5, {}, "01J00000000000000000000005")));
  ASSERT_TRUE(log->append_received(make_signed(peer, community, EventType::chat_message_sent, 2, {}, "01J00000000000000000000002")));
  ReplayEngine engine(*log);
  OrderView view;
  ASSERT_TRUE(engine.register_view(view));
  EXPECT_EQ(view.seen, (std::vector<std::string>{"01J00000000000000000000002", "01J00000000000000000000005"}));
  auto live = log->append_local(EventType::chat_message_sent, Json::object());
  ASSERT_EQ(view.seen.size(), 3u);
  EXPECT_EQ(view.seen.back(), live->event_id.str());
  // Rebuilding twice gives the same state (X02 §9 test_replay_idempotent).
  auto before = view.seen;
  ASSERT_TRUE(engine.rebuild("order"));
  ASSERT_TRUE(engine.rebuild_all());
  EXPECT_EQ(view.seen, before);
  EXPECT_FALSE(engine.register_view(view).has_value());  // name taken
  EXPECT_EQ(engine.rebuild("nope").error().code, ErrorCode::not_found);
}

TEST_F(ReplayTest, LateArrivalIsReplayedInOrder) {
  auto log = open_log();
  ReplayEngine engine(*log);
  OrderView view;
  ASSERT_TRUE(engine.register_view(view));
  ASSERT_TRUE(log->append_received(make_signed(peer, community, EventType::chat_message_sent, 9, {}, "01J00000000000000000000009")));
  // From a healed partition: sorts before what the view already applied.
  ASSERT_TRUE(log->append_received(make_signed(peer, community, EventType::chat_message_sent, 3, {}, "01J00000000000000000000003")));
  EXPECT_EQ(view.seen, (std::vector<std::string>{"01J00000000000000000000003", "01J00000000000000000000009"}));
  auto all = *log->read_events();
  ASSERT_EQ(view.seen.size(), all.size());
}

TEST_F(ReplayTest, ViewTypeFilter) {
  auto log = open_log();
  ReplayEngine engine(*log);
  OrderView view;
  ASSERT_TRUE(engine.register_view(view, {EventType::market_post_created}));
  ASSERT_TRUE(log->append_local(EventType::chat_message_sent, Json::object()));
  ASSERT_TRUE(log->append_local(EventType::market_post_created, Json::object()));
  EXPECT_EQ(view.seen.size(), 1u);
}

// X02 §5.3 test_replay_order_independence: any arrival order → same end state.
TEST_F(ReplayTest, CommunityViewIsOrderIndependent) {
  auto founder = keys;
  auto alice = key_from_byte(11);
  auto bob = key_from_byte(12);
  auto mallory = key_from_byte(13);
  UlidGenerator ids;
  std::vector<Event> events;
  Lamport l = 0;
  auto add = [&](const identity::KeyPair& k, EventType t, Json data) {
    events.push_back(make_signed(k, community, t, ++l, std::move(data), ids.next()));
    return events.back();
  };
  add(founder, EventType::community_created,
      {{"name", "Niederrhein Demo"}, {"founder_node_id", founder.node_id().str()}, {"policy", {{"min_signatures_to_revoke", 3}}}});
  auto inv_a = add(founder, EventType::community_member_invited,
                   {{"invitee_node_id", alice.node_id().str()}, {"display_name", "Alice"}, {"initial_level", "member"},
                    {"expires_at", "2027-01-01T00:00:00Z"}});
  add(alice, EventType::community_member_joined, {{"invite_event_id", inv_a.event_id.str()}, {"node_manifest", Json::object()}});
  auto inv_b = add(founder, EventType::community_member_invited,
                   {{"invitee_node_id", bob.node_id().str()}, {"display_name", "Bob"}, {"initial_level", "member"}});
  add(bob, EventType::community_member_joined, {{"invite_event_id", inv_b.event_id.str()}, {"node_manifest", Json::object()}});
  add(founder, EventType::community_member_promoted, {{"target_node_id", alice.node_id().str()}, {"new_level", "trusted"}, {"co_signers", Json::array()}});
  // Two may sign besides Bob (the founder and Alice): Alice's revoke carries the founder's.
  Json revoke{{"target_node_id", bob.node_id().str()}, {"reason", "compromised"}, {"client_id", ids.next()}};
  auto payload = *identity::cosign_payload("community.member.revoked", community, revoke);
  revoke["co_signers"] = identity::co_signers_to_json({*identity::cosign(payload, founder)});
  add(alice, EventType::community_member_revoked, revoke);
  identity::CommunityPolicy policy;
  policy.min_signatures_to_revoke = 2;
  add(founder, EventType::community_policy_updated, {{"policy", policy.to_json()}});
  // Ignored: a non-member invites; the revoked member tries to come back.
  add(mallory, EventType::community_member_invited, {{"invitee_node_id", mallory.node_id().str()}});
  add(bob, EventType::community_member_joined, {{"invite_event_id", inv_b.event_id.str()}});
  // Ignored: a non-root policy update.
  add(alice, EventType::community_policy_updated, {{"policy", {{"x", 1}}}});

  std::optional<CommunityState> reference;
  std::mt19937 rng(7);
  for (int round = 0; round < 5; ++round) {
    hn::test::TempDir d;
    auto log = *EventLog::open(d / "e.db", community, keys);
    ReplayEngine engine(*log);
    CommunityView view;
    ASSERT_TRUE(engine.register_view(view, CommunityView::event_types()));
    auto shuffled = events;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    if (round % 2 == 0) {
      for (const auto& e : shuffled) ASSERT_TRUE(log->append_received(e));
    } else {
      ASSERT_EQ(log->append_received_batch(shuffled)->accepted, shuffled.size());
    }
    auto state = view.state();
    if (!reference) {
      reference = state;
      EXPECT_TRUE(state.created);
      EXPECT_EQ(state.name, "Niederrhein Demo");
      EXPECT_EQ(state.root_key, founder.node_id());
      EXPECT_EQ(view.level_of(founder.node_id()), TrustLevel::anchor);
      EXPECT_EQ(view.level_of(alice.node_id()), TrustLevel::trusted);
      EXPECT_FALSE(view.is_member(bob.node_id()));
      EXPECT_TRUE(view.is_revoked(bob.node_id()));
      EXPECT_FALSE(view.is_member(mallory.node_id()));
      EXPECT_EQ(state.members.size(), 2u);
      EXPECT_EQ(state.revoked.at(bob.node_id().str()).reason, "compromised");
      EXPECT_EQ(state.policy, policy.to_json());
      EXPECT_EQ(state.members.at(alice.node_id().str()).display_name, "Alice");
    } else {
      EXPECT_EQ(state, *reference) << "round " << round;
    }
  }
}

TEST_F(ReplayTest, JoinBeforeInviteIsAdmittedWhenInviteArrives) {
  auto alice = key_from_byte(11);
  CommunityView view;
  view.apply(make_signed(keys, community, EventType::community_created, 1,
                         {{"name", "n"}, {"founder_node_id", keys.node_id().str()}}));
  view.apply(make_signed(alice, community, EventType::community_member_joined, 2, Json::object()));
  EXPECT_FALSE(view.is_member(alice.node_id()));
  view.apply(make_signed(keys, community, EventType::community_member_invited, 3,
                         {{"invitee_node_id", alice.node_id().str()}, {"initial_level", "trusted"}}));
  EXPECT_EQ(view.level_of(alice.node_id()), TrustLevel::trusted);
  EXPECT_TRUE(view.state().pending_joins.empty());
}

TEST_F(ReplayTest, CommunityViewStateRoundTripsAndRejectsGarbage) {
  auto alice = key_from_byte(11);
  CommunityView view;
  view.apply(make_signed(keys, community, EventType::community_created, 1,
                         {{"name", "n"}, {"founder_node_id", keys.node_id().str()}, {"policy", {{"a", 1}}}}));
  view.apply(make_signed(keys, community, EventType::community_member_invited, 2,
                         {{"invitee_node_id", alice.node_id().str()}}));
  Json state = view.snapshot_state();
  CommunityView copy;
  ASSERT_TRUE(copy.restore_state(state));
  EXPECT_EQ(copy.state(), view.state());
  Json broken = state;
  broken["members"][0]["level"] = "emperor";
  auto r = copy.restore_state(broken);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::bad_request);
  EXPECT_EQ(copy.state(), view.state());  // unchanged
  EXPECT_FALSE(copy.restore_state(Json("garbage")).has_value());
}

TEST_F(ReplayTest, CommunityViewAsAuthorPolicy) {
  auto alice = key_from_byte(11);
  auto stranger = key_from_byte(14);
  auto log = open_log();
  ReplayEngine engine(*log);
  CommunityView view;
  ASSERT_TRUE(engine.register_view(view, CommunityView::event_types()));
  log->set_author_policy(view.author_policy());
  ASSERT_TRUE(log->append_received(make_signed(keys, community, EventType::community_created, 1,
                                               {{"name", "n"}, {"founder_node_id", keys.node_id().str()}})));
  ASSERT_TRUE(log->append_local(EventType::community_member_invited, {{"invitee_node_id", alice.node_id().str()}}));
  EXPECT_EQ(log->append_received(make_signed(stranger, community, EventType::chat_message_sent, 3, {})).error().code,
            ErrorCode::unknown_author);
  ASSERT_TRUE(log->append_received(make_signed(alice, community, EventType::community_member_joined, 4, {})));
  ASSERT_TRUE(log->append_received(make_signed(alice, community, EventType::chat_message_sent, 5, {})));
  ASSERT_TRUE(log->append_local(EventType::community_member_revoked, {{"target_node_id", alice.node_id().str()}}));
  EXPECT_EQ(log->append_received(make_signed(alice, community, EventType::chat_message_sent, 50, {})).error().code,
            ErrorCode::revoked_author);
  // Written before the revocation (lower Lamport): still accepted.
  EXPECT_TRUE(log->append_received(make_signed(alice, community, EventType::chat_message_sent, 4, {})));
}

// A sync batch that carries an invite, the join and the new member's first post lands in
// one call even with the membership policy on.
TEST_F(ReplayTest, BatchAdmitsAuthorsJoiningWithinTheBatch) {
  auto alice = key_from_byte(11);
  auto log = open_log();
  ReplayEngine engine(*log);
  CommunityView view;
  ASSERT_TRUE(engine.register_view(view, CommunityView::event_types()));
  log->set_author_policy(view.author_policy());
  std::vector<Event> batch = {
      make_signed(keys, community, EventType::community_created, 1, {{"name", "n"}, {"founder_node_id", keys.node_id().str()}}),
      make_signed(keys, community, EventType::community_member_invited, 2, {{"invitee_node_id", alice.node_id().str()}}),
      make_signed(alice, community, EventType::community_member_joined, 3, {}),
      make_signed(alice, community, EventType::market_post_created, 4, {{"title", "Leiter"}}),
      make_signed(key_from_byte(14), community, EventType::market_post_created, 5, {}),
  };
  auto r = log->append_received_batch(batch);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->accepted, 4u);
  EXPECT_EQ(r->rejected, 1u);
  EXPECT_EQ(r->results[4].error().code, ErrorCode::unknown_author);
  EXPECT_TRUE(r->results[3].has_value());
  EXPECT_TRUE(view.is_member(alice.node_id()));
}

}  // namespace
}  // namespace hn::events
