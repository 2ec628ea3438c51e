// governance_test.cpp — co-signed membership actions on the community view (CONTRACT §4.17,
// §4.18, §7.2; events/governance.h): a lone trusted member can neither revoke, promote nor
// promote itself; the root is out of reach; co-signatures by the policy's number of trusted
// members make an action take effect — identically on three nodes fed in different orders.
#include "events/governance.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "events/community_view.h"
#include "events/replay.h"
#include "events_test_util.h"
#include "identity/cosign.h"
#include "identity/manifest.h"

namespace hn::events {
namespace {

using identity::KeyPair;
using test::key_from_byte;
using test::make_signed;

class GovernanceTest : public test::LogFixture {
 protected:
  GovernanceTest()
      : founder(keys), t1(key_from_byte(21)), t2(key_from_byte(22)), m(key_from_byte(23)) {}

  // An event at the next Lamport, kept for the three-node replay.
  Event add(const KeyPair& author, EventType type, Json data) {
    events.push_back(make_signed(author, community, type, ++lamport, std::move(data), ids.next()));
    return events.back();
  }

  // The data of a co-signed action: client_id plus co_signers by each of signers.
  Json cosigned(EventType type, Json data, std::vector<const KeyPair*> signers) {
    data["client_id"] = ids.next();
    auto payload = identity::cosign_payload(to_string(type), community, data);
    EXPECT_TRUE(payload.has_value());
    std::vector<identity::CoSignature> sigs;
    for (const auto* k : signers) sigs.push_back(*identity::cosign(*payload, *k));
    data[identity::CO_SIGNERS_FIELD] = identity::co_signers_to_json(sigs);
    return data;
  }

  void admit(const KeyPair& who, const char* level) {
    auto inv = add(founder, EventType::community_member_invited,
                   {{"invitee_node_id", who.node_id().str()}, {"initial_level", level}});
    add(who, EventType::community_member_joined, {{"invite_event_id", inv.event_id.str()}});
  }

  // Founder (root, anchor), two trusted members and a member; the default policy (3 to
  // revoke, 3 to change a level).
  void found() {
    add(founder, EventType::community_created,
        {{"name", "n"},
         {"founder_node_id", founder.node_id().str()},
         {"policy", identity::CommunityPolicy{}.to_json()}});
    admit(t1, "trusted");
    admit(t2, "trusted");
    admit(m, "member");
  }

  // Replays events into a fresh view (one node's log).
  CommunityState replay(const std::vector<Event>& list) {
    CommunityView view;
    auto sorted = list;
    std::sort(sorted.begin(), sorted.end(), replay_order_less);
    for (const auto& e : sorted) view.apply(e);
    return view.state();
  }

  Json target(const KeyPair& k, const char* level = nullptr) {
    Json d{{"target_node_id", k.node_id().str()}};
    if (level != nullptr) d["new_level"] = level;
    return d;
  }

  KeyPair founder, t1, t2, m;
  UlidGenerator ids;
  std::vector<Event> events;
  Lamport lamport = 0;
};

TEST_F(GovernanceTest, LoneTrustedMemberChangesNothing) {
  found();
  const auto before = replay(events);
  ASSERT_EQ(before.members.at(t1.node_id().str()).level, TrustLevel::trusted);
  add(t1, EventType::community_member_revoked, target(m));
  add(t1, EventType::community_member_revoked, target(t2));
  add(t1, EventType::community_member_promoted, target(m, "anchor"));
  add(t1, EventType::community_member_promoted, target(t1, "anchor"));  // self-promotion
  add(t1, EventType::community_member_demoted, target(t2, "member"));
  add(t1, EventType::community_member_revoked, target(founder));
  add(t1, EventType::community_member_demoted, target(founder, "member"));
  // Co-signatures by members, by the target, by t1 twice, or forged, do not count.
  add(t1, EventType::community_member_promoted,
      cosigned(EventType::community_member_promoted, target(m, "trusted"), {&m, &t1, &t1}));
  auto forged = cosigned(EventType::community_member_demoted, target(t2, "member"), {&founder});
  forged[identity::CO_SIGNERS_FIELD][0]["node_id"] = t2.node_id().str();  // founder's sig as t2's
  add(t1, EventType::community_member_demoted, forged);
  // Signatures for "demote m to trusted" do not count for "promote m to trusted".
  add(t1, EventType::community_member_promoted,
      cosigned(EventType::community_member_demoted, target(m, "trusted"), {&founder, &t2}));

  auto after = replay(events);
  after.head_lamport = before.head_lamport;
  EXPECT_EQ(after, before);
}

TEST_F(GovernanceTest, RootIsOutOfReachEvenWithSignatures) {
  found();
  const auto before = replay(events);
  add(t1, EventType::community_member_revoked,
      cosigned(EventType::community_member_revoked, target(founder), {&t2, &founder}));
  add(t1, EventType::community_member_demoted,
      cosigned(EventType::community_member_demoted, target(founder, "member"), {&t2, &founder}));
  auto after = replay(events);
  EXPECT_FALSE(after.revoked.count(founder.node_id().str()));
  EXPECT_EQ(after.members.at(founder.node_id().str()).level, TrustLevel::anchor);
  EXPECT_EQ(after.members, before.members);
  // The verdict says why.
  auto v = judge_governance(after, EventType::community_member_revoked, t1.node_id(), community,
                            target(founder));
  EXPECT_FALSE(v.takes_effect);
  EXPECT_NE(v.reason.find("root"), std::string::npos) << v.reason;
}

TEST_F(GovernanceTest, CoSignedActionsTakeEffectOnce) {
  found();
  const auto promote =
      cosigned(EventType::community_member_promoted, target(m, "trusted"), {&t2, &founder});
  add(t1, EventType::community_member_promoted, promote);
  auto s = replay(events);
  EXPECT_EQ(s.members.at(m.node_id().str()).level, TrustLevel::trusted);

  // Demoted again (now four may sign: three are needed), then the old promotion replayed.
  add(founder, EventType::community_member_demoted,
      cosigned(EventType::community_member_demoted, target(m, "member"), {&t1, &t2}));
  s = replay(events);
  EXPECT_EQ(s.members.at(m.node_id().str()).level, TrustLevel::member);
  add(t1, EventType::community_member_promoted, promote);
  s = replay(events);
  EXPECT_EQ(s.members.at(m.node_id().str()).level, TrustLevel::member);

  // A co-signed revoke removes the member for good: t2 and the founder are the two
  // trusted-or-anchor members besides the target, so both are needed; m's signature does
  // not count (a member).
  const auto before_revoke = replay(events);
  auto revoke = cosigned(EventType::community_member_revoked, target(t1), {&founder, &m});
  auto verdict = judge_governance(before_revoke, EventType::community_member_revoked, t2.node_id(),
                                  community, revoke);
  EXPECT_TRUE(verdict.takes_effect) << verdict.reason;
  EXPECT_EQ(verdict.required, 2);
  EXPECT_EQ(verdict.signers, (std::vector<NodeId>{t2.node_id(), founder.node_id()}));
  add(t2, EventType::community_member_revoked, revoke);
  s = replay(events);
  EXPECT_TRUE(s.revoked.count(t1.node_id().str()));
  EXPECT_FALSE(s.members.count(t1.node_id().str()));
  // Promoting a revoked node changes nothing.
  add(t2, EventType::community_member_promoted,
      cosigned(EventType::community_member_promoted, target(t1, "anchor"), {&founder}));
  EXPECT_FALSE(replay(events).members.count(t1.node_id().str()));
}

// The founder alone may act while it is the only trusted-or-anchor member.
TEST_F(GovernanceTest, LoneRootActsWhileNoOneElseMaySign) {
  add(founder, EventType::community_created,
      {{"name", "n"},
       {"founder_node_id", founder.node_id().str()},
       {"policy", identity::CommunityPolicy{}.to_json()}});
  admit(m, "member");
  admit(t1, "member");
  add(founder, EventType::community_member_promoted, target(m, "trusted"));
  // Now two may sign (founder, m): t1's promotion needs both.
  add(founder, EventType::community_member_promoted, target(t1, "trusted"));
  auto s = replay(events);
  EXPECT_EQ(s.members.at(m.node_id().str()).level, TrustLevel::trusted);
  EXPECT_EQ(s.members.at(t1.node_id().str()).level, TrustLevel::member);
  add(founder, EventType::community_member_promoted,
      cosigned(EventType::community_member_promoted, target(t1, "trusted"), {&m}));
  EXPECT_EQ(replay(events).members.at(t1.node_id().str()).level, TrustLevel::trusted);
}

TEST_F(GovernanceTest, AnchorInviteAndBadPolicyAreIgnored) {
  found();
  auto x = key_from_byte(24);
  auto inv = add(founder, EventType::community_member_invited,
                 {{"invitee_node_id", x.node_id().str()}, {"initial_level", "anchor"}});
  add(x, EventType::community_member_joined, {{"invite_event_id", inv.event_id.str()}});
  add(founder, EventType::community_policy_updated,
      {{"policy", {{"min_signatures_to_revoke", 1}}}});
  add(t1, EventType::community_policy_updated, {{"policy", identity::CommunityPolicy{}.to_json()}});
  auto s = replay(events);
  EXPECT_FALSE(s.members.count(x.node_id().str()));
  EXPECT_FALSE(s.invites.count(x.node_id().str()));
  EXPECT_EQ(s.policy, identity::CommunityPolicy{}.to_json());
  identity::CommunityPolicy lenient;
  lenient.min_signatures_to_revoke = 1;
  add(founder, EventType::community_policy_updated, {{"policy", lenient.to_json()}});
  add(t1, EventType::community_member_revoked, target(m));  // one signature is now enough
  s = replay(events);
  EXPECT_EQ(s.policy, lenient.to_json());
  EXPECT_TRUE(s.revoked.count(m.node_id().str()));
}

// The same events on three nodes, each receiving them in its own order (and in batches on
// one): every node reaches the same state, with the lone actions refused.
TEST_F(GovernanceTest, ThreeNodesAgree) {
  found();
  add(t1, EventType::community_member_revoked, target(m));
  add(t1, EventType::community_member_promoted, target(t1, "anchor"));
  add(t1, EventType::community_member_promoted, target(m, "trusted"));
  add(t2, EventType::community_member_promoted,
      cosigned(EventType::community_member_promoted, target(m, "anchor"), {&t1, &founder}));
  add(t1, EventType::community_member_revoked,
      cosigned(EventType::community_member_revoked, target(founder), {&t2, &m}));

  std::mt19937 rng(11);
  std::optional<CommunityState> reference;
  for (int node = 0; node < 3; ++node) {
    hn::test::TempDir d;
    auto log =
        *EventLog::open(d / "e.db", community, key_from_byte(static_cast<std::uint8_t>(30 + node)));
    ReplayEngine engine(*log);
    CommunityView view;
    ASSERT_TRUE(engine.register_view(view, CommunityView::event_types()));
    log->set_author_policy(view.author_policy());
    auto shuffled = events;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    if (node == 1) {
      // A batch admits authors that join within it.
      std::sort(shuffled.begin(), shuffled.end(), replay_order_less);
      ASSERT_EQ(log->append_received_batch(shuffled)->accepted, shuffled.size());
    } else {
      // Out of order, authors may be unknown at first: retry until everything landed.
      for (int pass = 0; pass < 10 && !shuffled.empty(); ++pass) {
        std::vector<Event> later;
        for (const auto& e : shuffled) {
          if (!log->append_received(e)) later.push_back(e);
        }
        shuffled = std::move(later);
      }
      ASSERT_TRUE(shuffled.empty());
    }
    auto state = view.state();
    EXPECT_EQ(state.members.at(t1.node_id().str()).level, TrustLevel::trusted);
    EXPECT_EQ(state.members.at(m.node_id().str()).level, TrustLevel::anchor);
    EXPECT_TRUE(state.revoked.empty());
    EXPECT_EQ(state.members.at(founder.node_id().str()).level, TrustLevel::anchor);
    if (!reference) {
      reference = state;
    } else {
      EXPECT_EQ(state, *reference) << "node " << node;
    }
  }
}

TEST_F(GovernanceTest, CoSignersListIsParsedStrictly) {
  EXPECT_FALSE(identity::parse_co_signers(Json::object()).has_value());
  EXPECT_FALSE(identity::parse_co_signers(Json::array({Json{{"node_id", "x"}, {"signature", "y"}}}))
                   .has_value());
  EXPECT_FALSE(
      identity::parse_co_signers(Json::array({Json{{"node_id", m.node_id().str()}}})).has_value());
  Json many = Json::array();
  for (std::size_t i = 0; i <= identity::MAX_CO_SIGNERS; ++i) {
    many.push_back({{"node_id", m.node_id().str()}, {"signature", "ed25519:x"}});
  }
  EXPECT_EQ(identity::parse_co_signers(many).error().code, ErrorCode::bad_request);
  EXPECT_EQ(identity::cosign_payload("a", community, Json{{"action", "x"}}).error().code,
            ErrorCode::bad_request);
  auto payload = *identity::cosign_payload("community.member.revoked", community, target(m));
  EXPECT_EQ(payload["action"], "community.member.revoked");
  EXPECT_EQ(payload["community_id"], community.str());
  auto sig = *identity::cosign(payload, t1);
  EXPECT_TRUE(identity::verify_cosignature(payload, sig));
  payload["reason"] = "changed";
  EXPECT_EQ(identity::verify_cosignature(payload, sig).error().code, ErrorCode::invalid_signature);
}

}  // namespace
}  // namespace hn::events
