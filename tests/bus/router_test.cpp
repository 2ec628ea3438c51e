// router_test.cpp — §5.4 scoring order, prefer-local, quarantine skipping, freshness,
// params predicates and sticky sessions (§5.6).
#include "bus/router.h"

#include <gtest/gtest.h>

#include "fake_invoker.h"

namespace hn::bus {
namespace {

using test::endpoint_of;
using test::spec_of;

const NodeId SELF("ed25519:self");
const NodeId A("ed25519:a");
const NodeId B("ed25519:b");
const NodeId C("ed25519:c");

CapabilityDescriptor calc(int max_concurrent = 5) {
  CapabilityDescriptor d;
  d.name = "experimental.calc";
  d.version = Version{1, 0};
  d.request_schema = Json{{"type", "object"}};
  d.response_schema = Json{{"type", "object"}};
  d.max_concurrent = max_concurrent;
  return d;
}

LocalCapability local_calc(int max_concurrent = 5) {
  LocalCapability cap;
  cap.descriptor = calc(max_concurrent);
  cap.handler = [](const CallContext&, const Json&) -> Result<Json> { return Json::object(); };
  return cap;
}

struct BusRouter : ::testing::Test {
  ManualClock clock;
  Registry registry{SELF, clock};
  HealthTracker health{clock};
  Router router{registry, health, BusConfig{}, clock};

  void add_remote(const NodeId& node, TrustLevel trust = TrustLevel::member) {
    ASSERT_TRUE(registry.update_from_manifest(node, {spec_of(calc())}, endpoint_of(7080), trust));
  }
  void samples(const NodeId& node, int ok, int failed, double latency) {
    EntryKey key{node, "experimental.calc", Version{1, 0}};
    for (int i = 0; i < ok; ++i) health.record(key, true, latency);
    for (int i = 0; i < failed; ++i) health.record(key, false, latency);
  }
  RouteRequest req(std::optional<std::string> session = std::nullopt) {
    RouteRequest r;
    r.capability = "experimental.calc";
    r.version_req = Version{1, 0};
    r.session_id = std::move(session);
    return r;
  }
  std::vector<NodeId> order(const Result<std::vector<CapabilityEntry>>& r) {
    std::vector<NodeId> out;
    if (r) for (const auto& e : *r) out.push_back(e.node_id);
    return out;
  }
};

TEST_F(BusRouter, ScoreFormulaVerbatim) {
  CapabilityEntry e;
  e.descriptor.max_concurrent = 4;
  e.in_flight = 2;
  e.p50_latency_ms = 100;
  e.success_rate = 0.75;
  EXPECT_DOUBLE_EQ(Router::score(e), 100 * 1.5 + 250);
  e.is_local = true;
  EXPECT_DOUBLE_EQ(Router::score(e), 100 * 1.5 + 250 - 50);
  e.p50_latency_ms = 0;  // unknown -> 500
  e.in_flight = 0;
  e.success_rate = 1.0;
  EXPECT_DOUBLE_EQ(Router::score(e), 450);
}

TEST_F(BusRouter, OrdersByScore) {
  add_remote(A);
  add_remote(B);
  add_remote(C);
  samples(A, 10, 0, 100);  // 100
  samples(B, 9, 1, 50);    // 50 + 100 = 150 (p50 is 50)
  // C unknown: 500
  EXPECT_EQ(order(router.route(req())), (std::vector<NodeId>{A, B, C}));
}

TEST_F(BusRouter, BreaksTiesByLatencyThenReliability) {
  add_remote(A);
  add_remote(B);
  samples(A, 350, 0, 350);  // 350
  samples(B, 6, 2, 100);    // 100 + 250 = 350, lower latency wins
  EXPECT_EQ(order(router.route(req())), (std::vector<NodeId>{B, A}));
}

TEST_F(BusRouter, PrefersLocalWhenUnderloaded) {
  ASSERT_TRUE(registry.register_local(local_calc()));
  add_remote(A);
  samples(A, 10, 0, 10);  // remote scores far better
  EXPECT_EQ(order(router.route(req())), (std::vector<NodeId>{SELF, A}));
  EXPECT_EQ(order(router.route(req(), /*prefer_local=*/false)), (std::vector<NodeId>{A, SELF}));
}

TEST_F(BusRouter, PrefersRemoteWhenLocalOverloaded) {
  ASSERT_TRUE(registry.register_local(local_calc(5)));
  add_remote(A);
  samples(A, 10, 0, 10);
  const EntryKey local{SELF, "experimental.calc", Version{1, 0}};
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(registry.try_acquire(local));  // load 0.8
  EXPECT_EQ(order(router.route(req())), (std::vector<NodeId>{A, SELF}));
  ASSERT_TRUE(registry.try_acquire(local));  // full
  EXPECT_EQ(order(router.route(req())), (std::vector<NodeId>{A}));
}

TEST_F(BusRouter, SkipsQuarantined) {
  add_remote(A);
  add_remote(B);
  samples(A, 0, 5, 10);
  EXPECT_EQ(order(router.route(req())), (std::vector<NodeId>{B}));
  samples(B, 0, 5, 10);
  auto r = router.route(req());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::partition);
  clock.advance_seconds(HEALTH_QUARANTINE_SECONDS);  // probes become available
  add_remote(A);
  add_remote(B);  // fresh manifests
  EXPECT_EQ(order(router.route(req())).size(), 2u);
}

TEST_F(BusRouter, NotFoundAndCapacity) {
  auto r = router.route(req());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  ASSERT_TRUE(registry.register_local(local_calc(1)));
  ASSERT_TRUE(registry.try_acquire({SELF, "experimental.calc", Version{1, 0}}));
  r = router.route(req());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::capacity_exceeded);
  EXPECT_TRUE(r.error().retry_after_ms.has_value());
  auto newer = req();
  newer.version_req = Version{1, 1};  // nothing offers >= 1.1, but 1.0 is offered
  auto mismatch = router.route(newer);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().code, ErrorCode::schema_mismatch);
  EXPECT_EQ(mismatch.error().detail["alt_capabilities"], Json::array({"experimental.calc@1.0"}));
}

TEST_F(BusRouter, MajorVersionMismatchNamesTheOfferedVersions) {
  // CONTRACT §2.1: a major bump is breaking — old callers get schema_mismatch (§5.4:
  // alt_capabilities), whichever node offers the other majors.
  auto v2 = local_calc();
  v2.descriptor.version = Version{2, 1};
  ASSERT_TRUE(registry.register_local(v2));
  add_remote(A);  // 1.0 on A
  auto old = req();
  old.version_req = Version{3, 0};
  auto r = router.route(old);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::schema_mismatch);
  EXPECT_EQ(r.error().detail["alt_capabilities"],
            Json::array({"experimental.calc@1.0", "experimental.calc@2.1"}));
  old.local_only = true;  // an inbound call: only what this node offers
  EXPECT_EQ(router.route(old).error().detail["alt_capabilities"],
            Json::array({"experimental.calc@2.1"}));
  auto other = req();
  other.capability = "experimental.nothing";
  EXPECT_EQ(router.route(other).error().code, ErrorCode::not_found);
}

TEST_F(BusRouter, LocalOnlyNotFoundNamesTheNodesThatOfferIt) {
  add_remote(A);
  add_remote(B);
  add_remote(C, TrustLevel::unknown);  // not a member: never suggested
  auto r = req();
  r.local_only = true;
  auto routed = router.route(r);
  ASSERT_FALSE(routed);
  EXPECT_EQ(routed.error().code, ErrorCode::not_found);
  EXPECT_EQ(routed.error().detail["alt_nodes"], Json::array({A.str(), B.str()}));
  ASSERT_TRUE(registry.register_local(local_calc(1)));
  ASSERT_TRUE(registry.try_acquire({SELF, "experimental.calc", Version{1, 0}}));
  auto full = router.route(r);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, ErrorCode::capacity_exceeded);
  EXPECT_EQ(full.error().detail["alt_nodes"], Json::array({A.str(), B.str()}));
}

TEST_F(BusRouter, StaleAndNonMemberRemotesExcluded) {
  add_remote(A);
  add_remote(B, TrustLevel::unknown);
  EXPECT_EQ(order(router.route(req())), (std::vector<NodeId>{A}));
  clock.advance_seconds(REMOTE_FRESHNESS_SECONDS + 1);
  EXPECT_EQ(router.route(req()).error().code, ErrorCode::not_found);
  add_remote(A);  // a fresh manifest revives it
  EXPECT_EQ(order(router.route(req())), (std::vector<NodeId>{A}));
}

TEST_F(BusRouter, ParamsPredicateInvoked) {
  auto cap = local_calc();
  cap.descriptor.params = Json{{"model", "small"}};
  int calls = 0;
  cap.params_compatible = [&](const Json& offered, const Json& requested) {
    ++calls;
    return !requested.contains("model") || requested["model"] == offered["model"];
  };
  ASSERT_TRUE(registry.register_local(cap));
  auto r = req();
  r.body = Json{{"params", {{"model", "small"}}}};
  EXPECT_EQ(order(router.route(r)), (std::vector<NodeId>{SELF}));
  r.body = Json{{"params", {{"model", "large"}}}};
  EXPECT_EQ(router.route(r).error().code, ErrorCode::not_found);
  EXPECT_EQ(calls, 2);

  add_remote(A);  // remote params {} — the capability's predicate applies to it as well
  router.set_params_predicate("experimental.calc", [](const Json& offered, const Json&) {
    return offered.contains("model");
  });
  EXPECT_EQ(router.route(r).error().code, ErrorCode::not_found);
}

TEST_F(BusRouter, StickySessionReusedThenExpires) {
  add_remote(A);
  add_remote(B);
  samples(A, 10, 0, 10);   // A is best
  samples(B, 10, 0, 100);
  router.bind_session("s1", "experimental.calc", {B, "experimental.calc", Version{1, 0}});
  EXPECT_EQ(order(router.route_sticky(req("s1"))).front(), B);
  EXPECT_EQ(order(router.route_sticky(req("s2"))).front(), A);  // other session unaffected
  EXPECT_EQ(router.sessions_of({B, "experimental.calc", Version{1, 0}}),
            (std::vector<std::string>{"s1"}));

  clock.advance_seconds(STICKY_SESSION_IDLE_SECONDS - 1);
  add_remote(A);
  add_remote(B);  // keep both fresh
  EXPECT_EQ(order(router.route_sticky(req("s1"))).front(), B);  // still bound (idle < 10 min)
  router.bind_session("s1", "experimental.calc", {B, "experimental.calc", Version{1, 0}});  // used
  clock.advance_seconds(STICKY_SESSION_IDLE_SECONDS - 1);
  EXPECT_TRUE(router.session_binding("s1", "experimental.calc"));
  clock.advance_seconds(2);  // idle > 10 min
  EXPECT_FALSE(router.session_binding("s1", "experimental.calc"));
  add_remote(A);
  add_remote(B);  // keep both fresh
  EXPECT_EQ(order(router.route_sticky(req("s1"))).front(), A);
}

TEST_F(BusRouter, StickySessionUnbindsOnPeerRemovalAndSweep) {
  add_remote(A);
  add_remote(B);
  router.bind_session("s1", "experimental.calc", {B, "experimental.calc", Version{1, 0}});
  router.bind_session("s2", "experimental.calc", {A, "experimental.calc", Version{1, 0}});
  router.release_node(B);
  EXPECT_FALSE(router.session_binding("s1", "experimental.calc"));
  EXPECT_TRUE(router.session_binding("s2", "experimental.calc"));
  clock.advance_seconds(STICKY_SESSION_IDLE_SECONDS + 1);
  EXPECT_EQ(router.sweep_sessions(), 1u);
  router.bind_session("s3", "experimental.calc", {A, "experimental.calc", Version{1, 0}});
  router.release_session("s3");
  EXPECT_FALSE(router.session_binding("s3", "experimental.calc"));
}

TEST_F(BusRouter, StickyBindingIgnoredWhenNotViable) {
  add_remote(A);
  add_remote(B);
  samples(A, 10, 0, 10);
  router.bind_session("s1", "experimental.calc", {B, "experimental.calc", Version{1, 0}});
  samples(B, 0, 20, 10);  // B quarantined
  EXPECT_EQ(order(router.route_sticky(req("s1"))), (std::vector<NodeId>{A}));
}

// CLI `call --node` (M12): a target narrows the candidates to one node, `remote` to other
// nodes; a quarantined target is reported as such instead of silently moving elsewhere.
TEST_F(BusRouter, TargetNodeAndRemoteOnlyNarrowTheCandidates) {
  ASSERT_TRUE(registry.register_local(local_calc()));
  add_remote(A);
  add_remote(B);
  auto r = req();
  r.target_node = B;
  EXPECT_EQ(order(router.route(r, true)), std::vector<NodeId>{B});
  r.target_node = SELF;
  EXPECT_EQ(order(router.route(r, true)), std::vector<NodeId>{SELF});
  r.target_node.reset();
  r.remote_only = true;
  auto remote = order(router.route(r, true));
  ASSERT_EQ(remote.size(), 2u);
  EXPECT_TRUE(std::find(remote.begin(), remote.end(), SELF) == remote.end());

  samples(B, 0, 20, 10);  // B quarantined
  r.remote_only = false;
  r.target_node = B;
  auto q = router.route(r, true);
  ASSERT_FALSE(q.has_value());
  EXPECT_NE(q.error().message.find("quarantined"), std::string::npos);
  r.target_node = C;  // no such provider
  auto none = router.route(r, true);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, ErrorCode::not_found);
}

}  // namespace
}  // namespace hn::bus
