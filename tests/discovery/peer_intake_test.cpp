// peer_intake_test.cpp — the first-contact flow (M02 §4.1), refresh (§4.2), static
// bootstrap peers, maintenance and the manifest publisher, with a fake fetcher and a
// ManualClock.
#include "discovery/peer_intake.h"

#include <gtest/gtest.h>

#include "core/time.h"
#include "discovery/manifest_publisher.h"
#include "discovery/static_peers.h"
#include "discovery_test_util.h"
#include "observability/standard_metrics.h"

namespace hn::discovery {
namespace {

using test::FakeFetcher;
using test::make_manifest;

struct DiscoveryIntake : ::testing::Test {
  ManualClock clock;
  identity::KeyPair self = identity::KeyPair::generate();
  identity::KeyPair root = identity::KeyPair::generate();
  CommunityId community = test::community_of(root);
  PeerRegistry registry{clock, self.node_id(), community};
  FakeFetcher fetcher;
  std::set<NodeId> non_members;
  std::shared_ptr<PeerIntake> intake = PeerIntake::create(
      registry, fetcher, make_default_manifest_verifier(clock),
      [this](const NodeId& n, const CommunityId&) -> Status {
        if (non_members.count(n)) return make_error(ErrorCode::not_member, "not a member");
        return {};
      });

  Sighting udp_sighting(const identity::KeyPair& k, PeerEndpoint ep) {
    Sighting s;
    s.endpoint = std::move(ep);
    s.source = PeerSource::udp;
    s.node_id = k.node_id();
    s.node_short = k.short_id();
    return s;
  }
};

TEST_F(DiscoveryIntake, NewPeerIsFetchedVerifiedAndUpserted) {
  auto peer = identity::KeyPair::generate();
  PeerEndpoint ep{"192.168.1.20", 7080};
  fetcher.set_manifest(ep, make_manifest(peer, community, 7080, clock));
  std::vector<PeerEventKind> events;
  registry.subscribe([&](const PeerEvent& e) { events.push_back(e.kind); });

  intake->on_sighting(udp_sighting(peer, ep));
  auto rec = registry.get(peer.node_id());
  ASSERT_TRUE(rec.has_value());
  ASSERT_TRUE(rec->manifest.has_value());
  EXPECT_EQ(rec->node_id, peer.short_id());
  EXPECT_EQ(rec->community_id, community);
  EXPECT_EQ(rec->display_name, "test-node");
  EXPECT_EQ(rec->source, PeerSource::udp);
  ASSERT_GE(rec->endpoints.size(), 2u);
  EXPECT_EQ(rec->endpoints[0].host, "192.168.1.20");  // where we reached it first
  EXPECT_EQ(rec->endpoints[1].host, "10.0.0.9");      // then the manifest's own
  EXPECT_EQ(events, std::vector<PeerEventKind>{PeerEventKind::added});
  EXPECT_EQ(intake->stats().accepted, 1u);
}

TEST_F(DiscoveryIntake, KnownFreshPeerIsOnlyTouched) {
  auto peer = identity::KeyPair::generate();
  PeerEndpoint ep{"192.168.1.20", 7080};
  fetcher.set_manifest(ep, make_manifest(peer, community, 7080, clock));
  intake->on_sighting(udp_sighting(peer, ep));
  clock.advance_seconds(5);
  intake->on_sighting(udp_sighting(peer, ep));
  EXPECT_EQ(fetcher.calls(), 1u);
  EXPECT_EQ(registry.get(peer.node_id())->last_seen_ms, clock.now_ms());
}

TEST_F(DiscoveryIntake, ChangedEndpointTriggersRefetch) {
  auto peer = identity::KeyPair::generate();
  PeerEndpoint a{"192.168.1.20", 7080};
  PeerEndpoint b{"192.168.1.21", 7080};
  fetcher.set_manifest(a, make_manifest(peer, community, 7080, clock));
  fetcher.set_manifest(b, make_manifest(peer, community, 7080, clock));
  intake->on_sighting(udp_sighting(peer, a));
  intake->on_sighting(udp_sighting(peer, b));
  EXPECT_EQ(fetcher.calls(), 2u);
  EXPECT_EQ(registry.get(peer.node_id())->endpoints[0].host, "192.168.1.21");
}

TEST_F(DiscoveryIntake, ManifestNearExpiryIsRefetched) {
  auto peer = identity::KeyPair::generate();
  PeerEndpoint ep{"192.168.1.20", 7080};
  fetcher.set_manifest(ep, make_manifest(peer, community, 7080, clock));
  intake->on_sighting(udp_sighting(peer, ep));
  clock.advance_seconds(21);  // 9 s left of the 30 s TTL: inside the 10 s window
  fetcher.set_manifest(ep, make_manifest(peer, community, 7080, clock));
  intake->on_sighting(udp_sighting(peer, ep));
  EXPECT_EQ(fetcher.calls(), 2u);
  EXPECT_EQ(registry.get(peer.node_id())->manifest->issued_at, format_rfc3339(clock.now_seconds()));
}

TEST_F(DiscoveryIntake, ForeignCommunityIsDroppedAndRemoved) {
  auto peer = identity::KeyPair::generate();
  auto other_root = identity::KeyPair::generate();
  PeerEndpoint ep{"192.168.1.20", 7080};
  fetcher.set_manifest(ep, make_manifest(peer, community, 7080, clock));
  intake->on_sighting(udp_sighting(peer, ep));
  ASSERT_TRUE(registry.get(peer.node_id()).has_value());
  // The peer moves to another community: its next manifest removes it (M02 §4.1).
  clock.advance_seconds(25);
  fetcher.set_manifest(ep, make_manifest(peer, test::community_of(other_root), 7080, clock));
  intake->on_sighting(udp_sighting(peer, ep));
  EXPECT_FALSE(registry.get(peer.node_id()).has_value());
  EXPECT_EQ(intake->stats().foreign, 1u);
}

TEST_F(DiscoveryIntake, NonMemberIsDropped) {
  auto peer = identity::KeyPair::generate();
  non_members.insert(peer.node_id());
  PeerEndpoint ep{"192.168.1.20", 7080};
  fetcher.set_manifest(ep, make_manifest(peer, community, 7080, clock));
  intake->on_sighting(udp_sighting(peer, ep));
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_EQ(intake->stats().not_member, 1u);
}

TEST_F(DiscoveryIntake, InvalidManifestIsRefusedWithBackoff) {
  auto peer = identity::KeyPair::generate();
  PeerEndpoint ep{"192.168.1.20", 7080};
  Json forged = make_manifest(peer, community, 7080, clock).to_json();
  forged["display_name"] = "evil";  // signature no longer matches
  fetcher.set(ep, forged);
  intake->on_sighting(udp_sighting(peer, ep));
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_EQ(intake->stats().manifest_invalid, 1u);
  clock.advance_seconds(5);
  intake->on_sighting(udp_sighting(peer, ep));  // inside the backoff
  EXPECT_EQ(fetcher.calls(), 1u);
  clock.advance_seconds(11);
  fetcher.set_manifest(ep, make_manifest(peer, community, 7080, clock));
  intake->on_sighting(udp_sighting(peer, ep));
  EXPECT_EQ(fetcher.calls(), 2u);
  EXPECT_EQ(registry.size(), 1u);
}

// X03 §4.2: a forged peer manifest counts in
// hearthnet_signature_failures_total{reason="peer_manifest"}; an expired one is no signature failure.
TEST_F(DiscoveryIntake, ForgedManifestCountsAsSignatureFailure) {
  const auto* counter = observability::standard_metrics().signature_failures_total;
  const double before = counter->value({"peer_manifest"});
  auto peer = identity::KeyPair::generate();
  PeerEndpoint ep{"192.168.1.20", 7080};
  Json forged = make_manifest(peer, community, 7080, clock).to_json();
  forged["display_name"] = "evil";  // signature no longer matches
  fetcher.set(ep, forged);
  intake->on_sighting(udp_sighting(peer, ep));
  EXPECT_EQ(intake->stats().manifest_invalid, 1u);
  EXPECT_EQ(counter->value({"peer_manifest"}) - before, 1.0);

  auto other = identity::KeyPair::generate();
  PeerEndpoint ep2{"192.168.1.21", 7080};
  fetcher.set_manifest(ep2, make_manifest(other, community, 7080, clock));
  clock.advance_seconds(40);
  intake->on_sighting(udp_sighting(other, ep2));
  EXPECT_EQ(intake->stats().manifest_invalid, 2u);
  EXPECT_EQ(counter->value({"peer_manifest"}) - before, 1.0);
}

TEST_F(DiscoveryIntake, ExpiredManifestIsRefused) {
  auto peer = identity::KeyPair::generate();
  PeerEndpoint ep{"192.168.1.20", 7080};
  fetcher.set_manifest(ep, make_manifest(peer, community, 7080, clock));
  clock.advance_seconds(40);
  intake->on_sighting(udp_sighting(peer, ep));
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_EQ(intake->stats().manifest_invalid, 1u);
}

TEST_F(DiscoveryIntake, ManifestOfAnotherNodeIsRefused) {
  auto peer = identity::KeyPair::generate();
  auto impostor = identity::KeyPair::generate();
  PeerEndpoint ep{"192.168.1.20", 7080};
  fetcher.set_manifest(ep, make_manifest(impostor, community, 7080, clock));
  intake->on_sighting(udp_sighting(peer, ep));
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_EQ(intake->stats().mismatched, 1u);
}

TEST_F(DiscoveryIntake, FetchFailureIsCountedNotFatal) {
  auto peer = identity::KeyPair::generate();
  intake->on_sighting(udp_sighting(peer, PeerEndpoint{"192.168.1.99", 7080}));
  EXPECT_EQ(intake->stats().fetch_failures, 1u);
  EXPECT_EQ(registry.size(), 0u);
}

TEST_F(DiscoveryIntake, OneFetchInFlightPerEndpoint) {
  auto peer = identity::KeyPair::generate();
  PeerEndpoint ep{"192.168.1.20", 7080};
  fetcher.set_manifest(ep, make_manifest(peer, community, 7080, clock));
  fetcher.set_defer(true);
  intake->on_sighting(udp_sighting(peer, ep));
  intake->on_sighting(udp_sighting(peer, ep));
  EXPECT_EQ(fetcher.calls(), 1u);
  EXPECT_EQ(registry.size(), 0u);
  fetcher.complete_all();
  EXPECT_EQ(registry.size(), 1u);
}

TEST_F(DiscoveryIntake, UnsignedSightingUsesEndpointOwner) {
  // mDNS gives only the short id: after the first fetch the endpoint is known.
  auto peer = identity::KeyPair::generate();
  PeerEndpoint ep{"192.168.1.20", 7080};
  fetcher.set_manifest(ep, make_manifest(peer, community, 7080, clock));
  Sighting s;
  s.endpoint = ep;
  s.source = PeerSource::mdns;
  s.node_short = peer.short_id();
  intake->on_sighting(s);
  intake->on_sighting(s);
  EXPECT_EQ(fetcher.calls(), 1u);
  s.changed = true;  // a TXT update forces a refetch (M02 §4.2)
  intake->on_sighting(s);
  EXPECT_EQ(fetcher.calls(), 2u);
  s.node_short = "ed25519:AAAA-BBBB-CCCC-DDDD";  // TXT names another node
  intake->on_sighting(s);
  EXPECT_EQ(intake->stats().mismatched, 1u);
}

TEST_F(DiscoveryIntake, RefreshExpiringRefetchesOnlyDuePeers) {
  auto a = identity::KeyPair::generate();
  auto b = identity::KeyPair::generate();
  PeerEndpoint ea{"192.168.1.20", 7080};
  PeerEndpoint eb{"192.168.1.21", 7080};
  fetcher.set_manifest(ea, make_manifest(a, community, 7080, clock));
  intake->on_sighting(udp_sighting(a, ea));
  clock.advance_seconds(15);
  fetcher.set_manifest(eb, make_manifest(b, community, 7080, clock));
  intake->on_sighting(udp_sighting(b, eb));
  clock.advance_seconds(6);  // a: 9 s left, b: 24 s left
  fetcher.set_manifest(ea, make_manifest(a, community, 7080, clock));
  EXPECT_EQ(intake->refresh_expiring(), 1u);
  EXPECT_EQ(fetcher.calls(), 3u);
}

TEST_F(DiscoveryIntake, PeersThatStopAnsweringArePrunedByMaintenance) {
  boost::asio::io_context io;
  auto peer = identity::KeyPair::generate();
  PeerEndpoint ep{"192.168.1.20", 7080};
  fetcher.set_manifest(ep, make_manifest(peer, community, 7080, clock));
  intake->on_sighting(udp_sighting(peer, ep));
  fetcher.clear(ep);  // the peer is gone
  DiscoveryMaintenance maintenance(io, intake);
  clock.advance_seconds(30);
  maintenance.run_once();  // refetch fails, peer stays for now
  EXPECT_EQ(registry.size(), 1u);
  clock.advance_seconds(61);
  maintenance.run_once();  // 91 s unseen: pruned (M02 §4.2)
  EXPECT_EQ(registry.size(), 0u);
}

TEST_F(DiscoveryIntake, StaticPeersFeedTheRegistry) {
  boost::asio::io_context io;
  auto a = identity::KeyPair::generate();
  auto b = identity::KeyPair::generate();
  auto list = StaticPeers::parse_list({"10.1.0.1:7080", "peer-b.lan:7443", "10.1.0.3:7080"});
  ASSERT_TRUE(list.has_value());
  fetcher.set_manifest((*list)[0], make_manifest(a, community, 7080, clock));
  fetcher.set_manifest((*list)[1], make_manifest(b, community, 7443, clock));
  fetcher.set_manifest((*list)[2], make_manifest(self, community, 7080, clock));  // ourselves
  auto statics = StaticPeers::create(io, *list, intake->sink());
  statics->start();
  EXPECT_EQ(registry.size(), 2u);
  EXPECT_EQ(registry.get(a.node_id())->source, PeerSource::static_peer);
  EXPECT_EQ(registry.get(b.node_id())->endpoints[0].host, "peer-b.lan");
  EXPECT_EQ(fetcher.calls(), 3u);
  clock.advance_seconds(5);
  statics->poll_once();  // fresh manifests: touched, not refetched
  EXPECT_EQ(fetcher.calls(), 3u);
  statics->stop();
  io.run();  // the cancelled timer releases its handler
  EXPECT_FALSE(StaticPeers::parse_list({"10.1.0.1:7080", "nonsense"}).has_value());
}

TEST_F(DiscoveryIntake, PublisherPushesOnStartOnChangeAndSurvivesBuildErrors) {
  boost::asio::io_context io;
  bool fail = false;
  int builds = 0;
  auto publisher = ManifestPublisher::create(io, [&]() -> Result<identity::NodeManifest> {
    ++builds;
    if (fail) return make_error(ErrorCode::internal_error, "no");
    return make_manifest(self, community, 7080, clock, {"llm.chat", "rag.query"});
  });
  std::vector<std::vector<std::string>> pushed;
  publisher->add_sink([&](const identity::NodeManifest& m) { pushed.push_back(capability_names(m)); });
  publisher->watch_registry(registry);
  publisher->start();
  ASSERT_EQ(pushed.size(), 1u);
  EXPECT_EQ(pushed[0], (std::vector<std::string>{"llm.chat", "rag.query"}));
  ASSERT_TRUE(publisher->current().has_value());

  // Registry changes are coalesced into one publish on the io_context.
  auto peer = identity::KeyPair::generate();
  PeerEndpoint ep{"192.168.1.20", 7080};
  fetcher.set_manifest(ep, make_manifest(peer, community, 7080, clock));
  intake->on_sighting(udp_sighting(peer, ep));
  registry.remove(peer.node_id());
  io.poll();
  EXPECT_EQ(pushed.size(), 2u);

  fail = true;
  EXPECT_FALSE(publisher->publish_now().has_value());
  EXPECT_EQ(pushed.size(), 2u);
  EXPECT_TRUE(publisher->current().has_value());  // the old manifest stays served
  publisher->stop();
  registry.upsert(registry.all().empty() ? PeerRecord{} : registry.all()[0]);
  io.run();
  EXPECT_EQ(publisher->publish_count(), 2u);
}

}  // namespace
}  // namespace hn::discovery
