// redeem_test.cpp — issuing (M13 §4.3, CONTRACT §4.17) and redeeming (M13 §4.2, §5.4)
// invites between real EventLogs in temp dirs, with an in-process BootstrapPeer double
// that copies events between the logs (the multi-node test lives in tests/functional/).
#include "onboarding/redeem.h"

#include <gtest/gtest.h>

#include <map>

#include "events/community_view.h"
#include "events/replay.h"
#include "onboarding/issue.h"
#include "support/test_support.h"

namespace hn::onboarding {
namespace {

using events::EventLog;
using events::EventType;

// The network between nodes, in process: each endpoint is a node's log and served manifest.
class FakeNetwork final : public BootstrapPeer {
 public:
  struct Host {
    EventLog* log = nullptr;
    Json manifest;
    bool reachable = true;
  };

  explicit FakeNetwork(EventLog& local) : m_local(local) {}

  void add_host(const identity::Endpoint& e, EventLog& log, Json manifest) {
    m_hosts[format_endpoint_text(e)] = Host{&log, std::move(manifest), true};
  }
  Host& host(const identity::Endpoint& e) { return m_hosts.at(format_endpoint_text(e)); }

  Result<Json> fetch_community_manifest(const identity::Endpoint& e) override {
    ++fetches;
    HN_TRY_ASSIGN(Host * h, reach(e));
    return h->manifest;
  }
  Status sync(const identity::Endpoint& e) override {
    HN_TRY_ASSIGN(Host * h, reach(e));
    if (fail_sync) return make_error(ErrorCode::timeout, "sync timed out");
    HN_TRY_ASSIGN(auto all, h->log->read_events());
    HN_TRY_ASSIGN(auto batch, m_local.append_received_batch(all));
    for (const auto& r : batch.results) {
      if (!r) return r.error();
    }
    return {};
  }
  Status push_events(const identity::Endpoint& e, const std::vector<events::Event>& evs) override {
    HN_TRY_ASSIGN(Host * h, reach(e));
    if (fail_push) return make_error(ErrorCode::partition, "push lost");
    for (const auto& ev : evs) HN_TRY(h->log->append_received(ev));
    ++pushes;
    return {};
  }

  bool fail_sync = false;
  bool fail_push = false;
  int fetches = 0;
  int pushes = 0;

 private:
  Result<Host*> reach(const identity::Endpoint& e) {
    auto it = m_hosts.find(format_endpoint_text(e));
    if (it == m_hosts.end() || !it->second.reachable) {
      return make_error(ErrorCode::timeout, "connect to " + format_endpoint_text(e) + " timed out");
    }
    return &it->second;
  }

  EventLog& m_local;
  std::map<std::string, Host> m_hosts;
};

// Copies every event of `from` into `to` (what the node's regular sync does).
void sync_logs(EventLog& from, EventLog& to) {
  auto all = from.read_events();
  ASSERT_TRUE(all.has_value());
  auto batch = to.append_received_batch(*all);
  ASSERT_TRUE(batch.has_value());
  ASSERT_EQ(batch->rejected, 0u);
}

class RedeemTest : public ::testing::Test {
 protected:
  RedeemTest()
      : founder(identity::KeyPair::generate()),
        bob(identity::KeyPair::generate()),
        carol(identity::KeyPair::generate()) {}

  void SetUp() override { found(identity::CommunityPolicy{}); }

  void found(const identity::CommunityPolicy& policy, const std::string& prefix = "") {
    community_id = CommunityId(founder.node_id().str());
    founder_log = open_log(prefix + "founder", founder);
    ASSERT_TRUE(founder_log->append_local(EventType::community_created,
                                          {{"name", "Niederrhein Demo"},
                                           {"founder_node_id", founder.node_id().str()},
                                           {"policy", policy.to_json()}}));
    manifest = identity::build_community_manifest(founder, "Niederrhein Demo", policy, clock);
    bob_log = open_log(prefix + "bob", bob);
    carol_log = open_log(prefix + "carol", carol);
  }

  std::unique_ptr<EventLog> open_log(const std::string& name, const identity::KeyPair& keys) {
    events::EventLogOptions options;
    options.clock = &clock;
    auto log = EventLog::open(dir / (name + ".db"), community_id, keys, options);
    EXPECT_TRUE(log.has_value()) << log.error().to_string();
    return std::move(*log);
  }

  InviteRequest request_for(const identity::KeyPair& who, TrustLevel level = TrustLevel::member,
                            std::vector<identity::Endpoint> endpoints = {}) {
    InviteRequest r;
    r.invitee_node_id = who.node_id();
    r.display_name = "device";
    r.initial_level = level;
    r.bootstrap_endpoints = endpoints.empty() ? std::vector{founder_ep} : endpoints;
    return r;
  }

  Result<IssuedInvite> founder_invites(const identity::KeyPair& who, TrustLevel level = TrustLevel::member) {
    return issue_invite(founder, manifest, *founder_log, request_for(who, level), clock);
  }

  // Bob joins through the founder's endpoint; returns the result.
  Result<RedeemResult> bob_redeems(const std::string& text, FakeNetwork& net,
                                   std::optional<std::filesystem::path> state_dir = std::nullopt) {
    RedeemDeps deps{net, *bob_log};
    deps.state_dir = std::move(state_dir);
    return redeem_invite(text, bob, "Bob's Laptop", deps, clock);
  }

  events::CommunityState state_of(EventLog& log) {
    auto state = community_state_of(log);
    EXPECT_TRUE(state.has_value());
    return *state;
  }

  ManualClock clock;
  test::TempDir dir;
  identity::KeyPair founder;
  identity::KeyPair bob;
  identity::KeyPair carol;
  CommunityId community_id;
  identity::CommunityManifest manifest;
  std::unique_ptr<EventLog> founder_log;
  std::unique_ptr<EventLog> bob_log;
  std::unique_ptr<EventLog> carol_log;
  identity::Endpoint founder_ep{"https", "192.168.1.10", 8443};
  identity::Endpoint bob_ep{"https", "192.168.1.11", 8443};
};

TEST_F(RedeemTest, IssueAppendsInvitedEvent) {
  auto issued = founder_invites(bob, TrustLevel::trusted);
  ASSERT_TRUE(issued.has_value()) << issued.error().to_string();
  EXPECT_FALSE(issued->reused);
  EXPECT_EQ(issued->event.event_type, EventType::community_member_invited);
  EXPECT_EQ(issued->event.author, founder.node_id());
  EXPECT_EQ(issued->invite.invite_id, issued->event.event_id);
  // CONTRACT §7.2 data.
  EXPECT_EQ(issued->event.data,
            (Json{{"invitee_node_id", bob.node_id().str()},
                  {"display_name", "device"},
                  {"initial_level", "trusted"},
                  {"expires_at", issued->invite.expires_at}}));
  auto decoded = decode_invite(issued->text);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, issued->invite);
  auto state = state_of(*founder_log);
  ASSERT_TRUE(state.invites.count(bob.node_id().str()));
  EXPECT_EQ(state.invites[bob.node_id().str()].invite_event_id, issued->event.event_id);

  // CONTRACT §4.17 idempotency by invitee: the same invite again appends nothing.
  auto again = founder_invites(bob, TrustLevel::trusted);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->reused);
  EXPECT_EQ(again->invite.invite_id, issued->invite.invite_id);
  EXPECT_EQ(again->invite.expires_at, issued->invite.expires_at);
  EXPECT_EQ(*founder_log->count(), 2);
  // A different level is a new invite.
  auto other = founder_invites(bob, TrustLevel::member);
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(other->reused);
  EXPECT_EQ(*founder_log->count(), 3);
}

TEST_F(RedeemTest, HappyPathInviteeBecomesMemberAtInviteLevel) {
  // The founder's node keeps a live CommunityView, as the node does.
  events::ReplayEngine engine(*founder_log);
  events::CommunityView founder_view;
  ASSERT_TRUE(engine.register_view(founder_view, events::CommunityView::event_types()));

  auto issued = founder_invites(bob, TrustLevel::trusted);
  ASSERT_TRUE(issued.has_value()) << issued.error().to_string();
  EXPECT_FALSE(founder_view.is_member(bob.node_id()));

  FakeNetwork net(*bob_log);
  net.add_host(founder_ep, *founder_log, manifest.to_json());
  test::TempDir state_dir;
  auto result = bob_redeems(issued->text, net, state_dir.path());
  ASSERT_TRUE(result.has_value()) << result.error().to_string();

  EXPECT_EQ(result->community_id, community_id);
  EXPECT_EQ(result->community_name, "Niederrhein Demo");
  EXPECT_EQ(result->level, TrustLevel::trusted);
  EXPECT_EQ(result->inviter_node_id, founder.node_id());
  EXPECT_EQ(result->invite_event_id, issued->event.event_id);
  EXPECT_EQ(result->bootstrap_endpoint, founder_ep);
  EXPECT_TRUE(result->pushed);
  EXPECT_EQ(result->community_manifest, manifest);

  // CONTRACT §7.2 joined event: invite_event_id + our full signed node manifest.
  const auto& joined = result->joined_event;
  EXPECT_EQ(joined.event_type, EventType::community_member_joined);
  EXPECT_EQ(joined.author, bob.node_id());
  EXPECT_EQ(joined.data["invite_event_id"], issued->event.event_id.str());
  auto node_manifest = identity::parse_node_manifest(joined.data["node_manifest"]);
  ASSERT_TRUE(node_manifest.has_value()) << node_manifest.error().to_string();
  EXPECT_EQ(node_manifest->node_id, bob.node_id());
  EXPECT_EQ(node_manifest->display_name, "Bob's Laptop");
  EXPECT_TRUE(identity::verify_node_manifest(*node_manifest, clock).has_value());

  // After the push, the inviter's view admits Bob at the invite's level; so does Bob's.
  EXPECT_TRUE(founder_view.is_member(bob.node_id()));
  EXPECT_EQ(founder_view.level_of(bob.node_id()), TrustLevel::trusted);
  EXPECT_EQ(state_of(*bob_log).members.at(bob.node_id().str()).level, TrustLevel::trusted);

  // M13 §3.1 step 6: the community manifest persisted.
  auto saved = identity::load_community_manifest(state_dir.path());
  ASSERT_TRUE(saved.has_value());
  EXPECT_EQ(*saved, manifest);

  // M13 §5.4: redeeming again is already_member, with no network round trip.
  const int fetches = net.fetches;
  auto again = bob_redeems(issued->text, net);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::already_member);
  EXPECT_EQ(net.fetches, fetches);
}

TEST_F(RedeemTest, AlreadyMemberDetectedAfterSync) {
  // Bob joined on another install of his key; his fresh log learns it only through sync.
  auto issued = founder_invites(bob);
  ASSERT_TRUE(issued.has_value());
  ASSERT_TRUE(founder_log->append_received(*[&] {
    auto scratch = open_log("bob-old", bob);
    return scratch->append_local(EventType::community_member_joined,
                                 {{"invite_event_id", issued->event.event_id.str()},
                                  {"node_manifest", Json::object()}});
  }()));
  FakeNetwork net(*bob_log);
  net.add_host(founder_ep, *founder_log, manifest.to_json());
  auto result = bob_redeems(issued->text, net);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::already_member);
}

TEST_F(RedeemTest, ExpiredInviteRejected) {
  auto issued = founder_invites(bob);
  ASSERT_TRUE(issued.has_value());
  FakeNetwork net(*bob_log);
  net.add_host(founder_ep, *founder_log, manifest.to_json());
  clock.advance_seconds(DEFAULT_INVITE_TTL_SECONDS + 1);
  auto result = bob_redeems(issued->text, net);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::invite_expired);
  EXPECT_EQ(net.fetches, 0);
  EXPECT_EQ(*bob_log->count(), 0);
}

TEST_F(RedeemTest, InviteForAnotherDeviceRejected) {
  auto issued = founder_invites(carol);
  ASSERT_TRUE(issued.has_value());
  FakeNetwork net(*bob_log);
  net.add_host(founder_ep, *founder_log, manifest.to_json());
  auto result = bob_redeems(issued->text, net);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::invitee_mismatch);
  EXPECT_EQ(*bob_log->count(), 0);
}

TEST_F(RedeemTest, TamperedInviteRejected) {
  auto issued = founder_invites(bob);
  ASSERT_TRUE(issued.has_value());
  Invite forged = issued->invite;
  forged.initial_level = TrustLevel::trusted;  // signature no longer covers it
  FakeNetwork net(*bob_log);
  net.add_host(founder_ep, *founder_log, manifest.to_json());
  RedeemDeps deps{net, *bob_log};
  auto by_struct = redeem_invite(forged, bob, "Bob", deps, clock);
  ASSERT_FALSE(by_struct.has_value());
  EXPECT_EQ(by_struct.error().code, ErrorCode::invite_invalid);
  auto by_text = bob_redeems(encode_invite(forged), net);
  ASSERT_FALSE(by_text.has_value());
  EXPECT_EQ(by_text.error().code, ErrorCode::invite_invalid);
  EXPECT_EQ(by_text.error().detail["cause"], "invalid_signature");
}

TEST_F(RedeemTest, InviterWithoutRightsUnauthorized) {
  const auto count = *founder_log->count();
  // Not a member at all.
  auto stranger = identity::KeyPair::generate();
  auto r = issue_invite(stranger, manifest, *founder_log, request_for(bob), clock);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::unauthorized);

  // Bob joins as a plain member, then tries to grant a higher level than his own.
  auto issued = founder_invites(bob);
  ASSERT_TRUE(issued.has_value());
  FakeNetwork net(*bob_log);
  net.add_host(founder_ep, *founder_log, manifest.to_json());
  ASSERT_TRUE(bob_redeems(issued->text, net).has_value());
  const auto after_join = *bob_log->count();
  r = issue_invite(bob, manifest, *bob_log, request_for(carol, TrustLevel::trusted, {bob_ep}), clock);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::unauthorized);
  // At his own level he may (default_member_can_invite).
  r = issue_invite(bob, manifest, *bob_log, request_for(carol, TrustLevel::member, {bob_ep}), clock);
  EXPECT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(*bob_log->count(), after_join + 1);

  // Inviting someone already in is already_member.
  r = founder_invites(bob);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::already_member);
  EXPECT_EQ(*founder_log->count(), count + 2);  // the invite and Bob's pushed join only
}

TEST_F(RedeemTest, PolicyCanForbidMembersToInvite) {
  identity::CommunityPolicy policy;
  policy.default_member_can_invite = false;
  founder = identity::KeyPair::generate();
  found(policy, "strict-");  // a second community, in fresh files
  auto issued = founder_invites(bob);
  ASSERT_TRUE(issued.has_value());
  FakeNetwork net(*bob_log);
  net.add_host(founder_ep, *founder_log, manifest.to_json());
  ASSERT_TRUE(bob_redeems(issued->text, net).has_value());
  auto r = issue_invite(bob, manifest, *bob_log, request_for(carol, TrustLevel::member, {bob_ep}), clock);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::unauthorized);
  // A trusted member still may.
  ASSERT_TRUE(founder_invites(carol, TrustLevel::trusted).has_value());
}

TEST_F(RedeemTest, BootstrapUnreachable) {
  auto issued = issue_invite(founder, manifest, *founder_log,
                             request_for(bob, TrustLevel::member, {founder_ep, bob_ep}), clock);
  ASSERT_TRUE(issued.has_value());
  FakeNetwork net(*bob_log);  // nobody listens anywhere
  auto result = bob_redeems(issued->text, net);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::bootstrap_unreachable);
  EXPECT_EQ(result.error().detail["attempts"].size(), 2u);
  EXPECT_EQ(*bob_log->count(), 0);

  // M13 §8 "bootstrap unreachable, retry succeeds".
  net.add_host(founder_ep, *founder_log, manifest.to_json());
  auto retry = bob_redeems(issued->text, net);
  ASSERT_TRUE(retry.has_value()) << retry.error().to_string();
}

TEST_F(RedeemTest, FallsBackToNextEndpoint) {
  const identity::Endpoint dead{"https", "10.0.0.99", 8443};
  auto issued = issue_invite(founder, manifest, *founder_log,
                             request_for(bob, TrustLevel::member, {dead, founder_ep}), clock);
  ASSERT_TRUE(issued.has_value());
  FakeNetwork net(*bob_log);
  net.add_host(dead, *founder_log, manifest.to_json());
  net.host(dead).reachable = false;
  net.add_host(founder_ep, *founder_log, manifest.to_json());
  auto result = bob_redeems(issued->text, net);
  ASSERT_TRUE(result.has_value()) << result.error().to_string();
  EXPECT_EQ(result->bootstrap_endpoint, founder_ep);
}

TEST_F(RedeemTest, InvalidCommunityManifestRejected) {
  auto issued = founder_invites(bob);
  ASSERT_TRUE(issued.has_value());
  FakeNetwork net(*bob_log);

  // Another community's manifest.
  auto other = identity::KeyPair::generate();
  net.add_host(founder_ep, *founder_log, identity::build_community_manifest(other, "Other", {}, clock).to_json());
  auto result = bob_redeems(issued->text, net);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::community_manifest_invalid);

  // A tampered one.
  Json tampered = manifest.to_json();
  tampered["name"] = "Evil";
  net.host(founder_ep).manifest = tampered;
  result = bob_redeems(issued->text, net);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::community_manifest_invalid);

  // Not a manifest at all.
  net.host(founder_ep).manifest = Json{{"hello", "world"}};
  result = bob_redeems(issued->text, net);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::community_manifest_invalid);
  EXPECT_EQ(*bob_log->count(), 0);
}

TEST_F(RedeemTest, InviteUnknownToCommunityIsSyncFailed) {
  // Signed by a member, but never issued into the log (no invited event).
  auto invite = make_invite(founder, manifest, request_for(bob), clock);
  ASSERT_TRUE(invite.has_value());
  FakeNetwork net(*bob_log);
  net.add_host(founder_ep, *founder_log, manifest.to_json());
  auto result = bob_redeems(encode_invite(*invite), net);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::sync_failed);

  // A failing sync is sync_failed too.
  auto issued = founder_invites(bob);
  ASSERT_TRUE(issued.has_value());
  net.fail_sync = true;
  result = bob_redeems(issued->text, net);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::sync_failed);
}

TEST_F(RedeemTest, InviterNotMemberIsManifestInvalid) {
  // A stranger signs an invite for the community; the founder's node serves the manifest.
  auto stranger = identity::KeyPair::generate();
  auto invite = make_invite(stranger, manifest, request_for(bob), clock);
  ASSERT_TRUE(invite.has_value());
  FakeNetwork net(*bob_log);
  net.add_host(founder_ep, *founder_log, manifest.to_json());
  auto result = bob_redeems(encode_invite(*invite), net);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::community_manifest_invalid);
}

TEST_F(RedeemTest, MemberInviterNewerThanManifest) {
  // Founder → Bob (trusted); Bob → Carol. Bob's node serves the genesis manifest, which
  // predates Bob's own join: the log vouches for him.
  auto to_bob = founder_invites(bob, TrustLevel::trusted);
  ASSERT_TRUE(to_bob.has_value());
  FakeNetwork bob_net(*bob_log);
  bob_net.add_host(founder_ep, *founder_log, manifest.to_json());
  ASSERT_TRUE(bob_redeems(to_bob->text, bob_net).has_value());

  auto to_carol = issue_invite(bob, manifest, *bob_log, request_for(carol, TrustLevel::trusted, {bob_ep}), clock);
  ASSERT_TRUE(to_carol.has_value()) << to_carol.error().to_string();
  FakeNetwork carol_net(*carol_log);
  carol_net.add_host(bob_ep, *bob_log, manifest.to_json());
  RedeemDeps deps{carol_net, *carol_log};
  auto result = redeem_invite(to_carol->text, carol, "Carol", deps, clock);
  ASSERT_TRUE(result.has_value()) << result.error().to_string();
  EXPECT_EQ(result->inviter_node_id, bob.node_id());
  EXPECT_EQ(state_of(*bob_log).members.at(carol.node_id().str()).level, TrustLevel::trusted);

  // The founder learns all of it through ordinary sync.
  sync_logs(*bob_log, *founder_log);
  auto state = state_of(*founder_log);
  EXPECT_EQ(state.members.size(), 3u);
  EXPECT_EQ(state.members.at(carol.node_id().str()).added_by, bob.node_id());
}

TEST_F(RedeemTest, FailedPushIsHealedBySync) {
  auto issued = founder_invites(bob);
  ASSERT_TRUE(issued.has_value());
  FakeNetwork net(*bob_log);
  net.add_host(founder_ep, *founder_log, manifest.to_json());
  net.fail_push = true;
  auto result = bob_redeems(issued->text, net);
  ASSERT_TRUE(result.has_value()) << result.error().to_string();
  EXPECT_FALSE(result->pushed);
  ASSERT_TRUE(result->push_error.has_value());
  EXPECT_EQ(result->push_error->code, ErrorCode::partition);
  EXPECT_FALSE(state_of(*founder_log).members.count(bob.node_id().str()));
  sync_logs(*bob_log, *founder_log);
  EXPECT_TRUE(state_of(*founder_log).members.count(bob.node_id().str()));
}

TEST_F(RedeemTest, CustomNodeManifestBuilder) {
  auto issued = founder_invites(bob);
  ASSERT_TRUE(issued.has_value());
  FakeNetwork net(*bob_log);
  net.add_host(founder_ep, *founder_log, manifest.to_json());
  RedeemDeps deps{net, *bob_log};
  // A builder that returns someone else's manifest is refused before anything is written.
  deps.build_node_manifest = [&](const CommunityId& c) -> Result<identity::NodeManifest> {
    identity::NodeManifestInput input;
    input.community_id = c;
    input.display_name = "Carol";
    return identity::build_node_manifest(carol, input, clock);
  };
  auto bad = redeem_invite(issued->text, bob, "Bob", deps, clock);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::bad_manifest);
  EXPECT_FALSE(state_of(*bob_log).members.count(bob.node_id().str()));

  deps.build_node_manifest = [&](const CommunityId& c) -> Result<identity::NodeManifest> {
    identity::NodeManifestInput input;
    input.community_id = c;
    input.display_name = "Bob's Hearth";
    input.endpoints = {bob_ep};
    return identity::build_node_manifest(bob, input, clock);
  };
  auto good = redeem_invite(issued->text, bob, "Bob", deps, clock);
  ASSERT_TRUE(good.has_value()) << good.error().to_string();
  EXPECT_EQ(good->joined_event.data["node_manifest"]["display_name"], "Bob's Hearth");
}

TEST_F(RedeemTest, LogOfAnotherCommunityRefused) {
  auto issued = founder_invites(bob);
  ASSERT_TRUE(issued.has_value());
  events::EventLogOptions options;
  options.clock = &clock;
  auto other = EventLog::open(dir / "other.db", CommunityId(carol.node_id().str()), bob, options);
  ASSERT_TRUE(other.has_value());
  FakeNetwork net(**other);
  net.add_host(founder_ep, *founder_log, manifest.to_json());
  RedeemDeps deps{net, **other};
  auto result = redeem_invite(issued->text, bob, "Bob", deps, clock);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::wrong_community);
}

}  // namespace
}  // namespace hn::onboarding
