// udp_test.cpp — UDP multicast announcer + listener over the host's multicast loopback
// (M02 §3.4, §4.4): two nodes in one process find each other on a random high port;
// hostile datagrams are dropped and counted. Skipped when the sandbox has no multicast.
#include "discovery/udp.h"

#include <gtest/gtest.h>

#include "discovery_test_util.h"

namespace hn::discovery {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;

struct Node {
  identity::KeyPair keys = identity::KeyPair::generate();
  std::vector<Sighting> seen;
  std::shared_ptr<UdpListener> listener;
  std::shared_ptr<UdpAnnouncer> announcer;
};

struct DiscoveryUdp : ::testing::Test {
  void SetUp() override {
    config.port = test::random_port();
    if (!test::multicast_works(config.group, config.port)) {
      GTEST_SKIP() << "IPv4 multicast loopback is not available here (no multicast-capable "
                      "route; see scripts/start-avahi for `ip link set lo multicast on`)";
    }
  }
  void TearDown() override {
    for (auto* n : {&a, &b}) {
      if (n->listener) n->listener->stop();
      if (n->announcer) n->announcer->stop();
    }
    io.restart();
    io.poll();
  }
  Status start_node(Node& n, const std::string& community, std::uint16_t https_port) {
    n.listener = UdpListener::create(io, n.keys.node_id(), community,
                                     [&n](const Sighting& s) { n.seen.push_back(s); }, config);
    HN_TRY(n.listener->start());
    n.announcer = UdpAnnouncer::create(io, n.keys, community, https_port, {"llm.chat"},
                                       [] { return std::size_t{0}; }, config);
    return Status{};
  }
  static bool saw(const Node& n, const NodeId& id) {
    for (const auto& s : n.seen) {
      if (s.node_id == id) return true;
    }
    return false;
  }

  asio::io_context io;
  UdpConfig config;
  Node a, b;
  const std::string community = "ed25519:COMM-UNIT-TEST-0001";
};

TEST_F(DiscoveryUdp, TwoNodesOnOneHostFindEachOther) {
  ASSERT_TRUE(start_node(a, community, 7101).has_value());
  ASSERT_TRUE(start_node(b, community, 7102).has_value());  // same port: SO_REUSEPORT
  ASSERT_TRUE(a.announcer->start().has_value());
  ASSERT_TRUE(b.announcer->start().has_value());
  ASSERT_TRUE(test::run_until(io, [&] { return saw(a, b.keys.node_id()) && saw(b, a.keys.node_id()); }));
  EXPECT_FALSE(saw(a, a.keys.node_id()));  // own beacons are ignored
  EXPECT_FALSE(saw(b, b.keys.node_id()));
  for (const auto& s : a.seen) {
    EXPECT_EQ(s.source, PeerSource::udp);
    EXPECT_EQ(s.endpoint.port, 7102);  // the beacon's HTTPS port, the sender's address
    EXPECT_FALSE(s.endpoint.host.empty());
  }
  ASSERT_TRUE(test::run_until(io, [&] { return a.listener->stats().own > 0; }));
  EXPECT_GE(a.announcer->sent_count(), 1u);
}

TEST_F(DiscoveryUdp, BeaconLeadsToVerifiedRegistryEntry) {
  ManualClock clock(SystemClock::instance().now_ms());
  auto root = identity::KeyPair::generate();
  CommunityId cid = test::community_of(root);
  std::string cshort = short_community_id(cid);
  PeerRegistry registry(clock, a.keys.node_id(), cid);
  // The fake transport serves b's manifest on b's HTTPS port, whatever the host.
  auto b_manifest = test::make_manifest(b.keys, cid, 7202, clock);
  FunctionManifestFetcher fetcher([&](const PeerEndpoint& ep, ManifestFetcher::Callback cb) {
    if (ep.port == 7202) return cb(b_manifest.to_json());
    cb(make_error(ErrorCode::manifest_fetch_failed, "refused"));
  });
  auto intake = PeerIntake::create(registry, fetcher, make_default_manifest_verifier(clock));
  a.listener = UdpListener::create(io, a.keys.node_id(), cshort, intake->sink(), config, clock);
  ASSERT_TRUE(a.listener->start().has_value());
  b.announcer = UdpAnnouncer::create(io, b.keys, cshort, 7202, {"llm.chat"},
                                     [] { return std::size_t{0}; }, config, clock);
  ASSERT_TRUE(b.announcer->start().has_value());
  ASSERT_TRUE(test::run_until(io, [&] { return registry.size() == 1; }));
  auto rec = registry.get(b.keys.node_id());
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->source, PeerSource::udp);
  EXPECT_EQ(rec->endpoints[0].port, 7202);
  EXPECT_TRUE(rec->manifest.has_value());
}

TEST_F(DiscoveryUdp, HostileDatagramsAreDroppedAndCounted) {
  ASSERT_TRUE(start_node(a, community, 7101).has_value());
  udp::socket tx(io);
  tx.open(udp::v4());
  tx.set_option(asio::ip::multicast::enable_loopback(true));
  udp::endpoint group(asio::ip::make_address_v4(config.group), config.port);
  auto send = [&](const std::string& d) { tx.send_to(asio::buffer(d), group); };
  auto other = identity::KeyPair::generate();
  auto good = encode_beacon(other, community, 7300, {}, SystemClock::instance().now_seconds());
  auto tampered = *parse_json(good);
  tampered["port"] = 7301;
  send("garbage \x01\x02");
  send(std::string(1500, 'x'));
  send(canonical_json(tampered));
  send(encode_beacon(other, "ed25519:SOME-OTHER-COMM-0000", 7300, {}, SystemClock::instance().now_seconds()));
  send(encode_beacon(other, community, 7300, {}, 1000));  // replayed from long ago
  send(good);
  ASSERT_TRUE(test::run_until(io, [&] { return a.listener->stats().received >= 6; }));
  auto st = a.listener->stats();
  EXPECT_EQ(st.malformed, 2u);
  EXPECT_EQ(st.bad_signature, 1u);
  EXPECT_EQ(st.foreign, 1u);
  EXPECT_EQ(st.stale, 1u);
  EXPECT_EQ(st.accepted, 1u);
  ASSERT_EQ(a.seen.size(), 1u);
  EXPECT_EQ(a.seen[0].endpoint.port, 7300);
}

TEST_F(DiscoveryUdp, PortHeldWithoutReuseIsSocketInUse) {
  udp::socket holder(io);
  holder.open(udp::v4());
  holder.bind(udp::endpoint(asio::ip::address_v4::any(), config.port));
  auto l = UdpListener::create(io, a.keys.node_id(), community, {}, config);
  auto st = l->start();
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::socket_in_use);
}

TEST_F(DiscoveryUdp, BadGroupIsBadRequest) {
  UdpConfig bad = config;
  bad.group = "10.0.0.1";  // not multicast
  auto l = UdpListener::create(io, a.keys.node_id(), community, {}, bad);
  ASSERT_FALSE(l->start().has_value());
  EXPECT_EQ(l->start().error().code, ErrorCode::bad_request);
  auto an = UdpAnnouncer::create(io, a.keys, community, 1, {}, {}, bad);
  EXPECT_EQ(an->start().error().code, ErrorCode::bad_request);
}

}  // namespace
}  // namespace hn::discovery
