// discovery_service_test.cpp — the composed M02 service: UDP-only discovery when mDNS is
// disabled (M02 §7 test_udp_fallback_when_mdns_disabled), emergency mode (§4.3), a
// newcomer answered at once (§4.4), and the "not fatal unless nothing runs" start rule (§5).
#include "discovery/discovery_service.h"

#include <gtest/gtest.h>

#include "discovery_test_util.h"

namespace hn::discovery {
namespace {

struct ServiceNode {
  identity::KeyPair keys = identity::KeyPair::generate();
  std::unique_ptr<PeerRegistry> registry;
  std::unique_ptr<DiscoveryService> service;
};

// Two services a (HTTPS port 7501) and b (7502) of one community on a random UDP port;
// a fake transport serves each one's manifest on its port. Skips without multicast.
class DiscoveryServicePair : public ::testing::Test {
 protected:
  void SetUp() override {
    udp.port = test::random_port();
    if (!test::multicast_works(udp.group, udp.port)) {
      GTEST_SKIP() << "IPv4 multicast loopback is not available here";
    }
    served = {{7501, test::make_manifest(a.keys, cid, 7501, clock)},
              {7502, test::make_manifest(b.keys, cid, 7502, clock)}};
  }
  void TearDown() override {
    for (auto* n : {&a, &b}) {
      if (n->service) n->service->stop();
    }
    io.restart();
    io.poll();
  }
  Status start(ServiceNode& n, std::uint16_t port) {
    n.registry = std::make_unique<PeerRegistry>(clock, n.keys.node_id(), cid);
    DiscoveryOptions opt;
    opt.mdns_enabled = false;
    opt.udp = udp;
    opt.https_port = port;
    opt.display_name = "node";
    n.service = std::make_unique<DiscoveryService>(io, n.keys, *n.registry, fetcher,
                                                   make_default_manifest_verifier(clock),
                                                   MembershipCheck{}, opt);
    return n.service->start();
  }

  UdpConfig udp;
  boost::asio::io_context io;
  ManualClock clock{SystemClock::instance().now_ms()};
  CommunityId cid = test::community_of(identity::KeyPair::generate());
  std::map<std::uint16_t, identity::NodeManifest> served;
  FunctionManifestFetcher fetcher{[this](const PeerEndpoint& ep, ManifestFetcher::Callback cb) {
    auto it = served.find(ep.port);
    if (it == served.end()) return cb(make_error(ErrorCode::manifest_fetch_failed, "refused"));
    cb(it->second.to_json());
  }};
  ServiceNode a, b;  // after the fetcher they use: destroyed first
};

TEST_F(DiscoveryServicePair, UdpFallbackWhenMdnsDisabled) {
  for (auto [n, port] : {std::pair{&a, 7501}, std::pair{&b, 7502}}) {
    ASSERT_TRUE(start(*n, static_cast<std::uint16_t>(port)).has_value());
    EXPECT_TRUE(n->service->udp_active());
    EXPECT_FALSE(n->service->mdns_active());
  }
  ASSERT_TRUE(test::run_until(io, [&] {
    return a.registry->get(b.keys.node_id()).has_value() &&
           b.registry->get(a.keys.node_id()).has_value();
  }));
  EXPECT_EQ(a.registry->get(b.keys.node_id())->endpoints[0].port, 7502);

  a.service->set_emergency_mode(true);
  EXPECT_TRUE(a.registry->pruning_aggressive());
  a.service->set_emergency_mode(false);
  EXPECT_FALSE(a.registry->pruning_aggressive());
  a.service->update_capabilities({"llm.chat", "rag.query"});
}

// M02 §4.4 start-up: a node that starts after another learns of it from the other's
// immediate answer to its first beacon, not from the other's next period (5 s with fewer
// than 2 peers). The second node is started only after the first one's start-up beacon
// went out, so without the answer it would wait the full period.
TEST_F(DiscoveryServicePair, NewcomerIsAnsweredAtOnce) {
  ASSERT_TRUE(start(a, 7501).has_value());
  // a's start-up beacon goes out (and comes back to its own listener) before b exists.
  ASSERT_TRUE(test::run_until(io, [&] { return a.service->udp_listener()->stats().own >= 1; }));
  ASSERT_TRUE(start(b, 7502).has_value());
  // Well inside a's 5 s period: only an answer to b's beacon can teach b about a.
  ASSERT_TRUE(test::run_until(
      io, [&] { return b.registry->get(a.keys.node_id()).has_value(); }, std::chrono::seconds(3)));
  EXPECT_TRUE(a.registry->get(b.keys.node_id()).has_value());
}

TEST(DiscoveryService, StartFailsOnlyWhenNothingRuns) {
  boost::asio::io_context io;
  ManualClock clock;
  auto keys = identity::KeyPair::generate();
  CommunityId cid = test::community_of(identity::KeyPair::generate());
  PeerRegistry registry(clock, keys.node_id(), cid);
  test::FakeFetcher fetcher;
  DiscoveryOptions opt;
  opt.mdns_enabled = false;
  opt.udp.group = "10.0.0.1";  // not a multicast group: UDP cannot start
  {
    DiscoveryService s(io, keys, registry, fetcher, make_default_manifest_verifier(clock), {}, opt);
    auto st = s.start();
    ASSERT_FALSE(st.has_value());
    EXPECT_EQ(st.error().code, ErrorCode::bad_request);
  }
  // With a static peer list something runs: the UDP failure is logged, not fatal.
  auto peer = identity::KeyPair::generate();
  PeerEndpoint ep{"10.9.9.9", 7080};
  fetcher.set_manifest(ep, test::make_manifest(peer, cid, 7080, clock));
  opt.static_peers = {ep};
  DiscoveryService s(io, keys, registry, fetcher, make_default_manifest_verifier(clock), {}, opt);
  ASSERT_TRUE(s.start().has_value());
  EXPECT_FALSE(s.udp_active());
  EXPECT_EQ(registry.size(), 1u);
  s.stop();
  io.restart();
  io.poll();
}

}  // namespace
}  // namespace hn::discovery
