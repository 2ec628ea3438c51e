// peer_registry_test.cpp — PeerRegistry (M02 §3.1, §4.2, §4.3) on a ManualClock.
#include "discovery/peer_registry.h"

#include <gtest/gtest.h>

#include <vector>

#include "identity/keys.h"

namespace hn::discovery {
namespace {

PeerRecord record_for(const identity::KeyPair& k, const CommunityId& c) {
  PeerRecord r;
  r.node_id = k.short_id();
  r.node_id_full = k.node_id();
  r.display_name = "peer";
  r.community_id = c;
  r.endpoints = {identity::Endpoint{"https", "192.168.1.5", 7080}};
  r.source = PeerSource::udp;
  return r;
}

struct Fixture : ::testing::Test {
  ManualClock clock;
  identity::KeyPair self = identity::KeyPair::generate();
  CommunityId community{"ed25519:community"};
  PeerRegistry registry{clock, self.node_id(), community};
};

using DiscoveryPeerRegistry = Fixture;

TEST_F(DiscoveryPeerRegistry, UpsertReturnsTrueFirstTime) {
  auto k = identity::KeyPair::generate();
  EXPECT_TRUE(registry.upsert(record_for(k, community)));
  EXPECT_FALSE(registry.upsert(record_for(k, community)));
  ASSERT_EQ(registry.size(), 1u);
  auto got = registry.get(k.node_id());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->last_seen_ms, clock.now_ms());
  EXPECT_EQ(got->endpoints.front().port, 7080);
}

TEST_F(DiscoveryPeerRegistry, OwnNodeIsNeverStored) {
  EXPECT_FALSE(registry.upsert(record_for(self, community)));
  EXPECT_EQ(registry.size(), 0u);
}

TEST_F(DiscoveryPeerRegistry, RemoveGetAllForCommunity) {
  auto a = identity::KeyPair::generate();
  auto b = identity::KeyPair::generate();
  CommunityId other{"ed25519:other"};
  registry.upsert(record_for(a, community));
  registry.upsert(record_for(b, other));
  EXPECT_EQ(registry.all().size(), 2u);
  ASSERT_EQ(registry.for_community(community).size(), 1u);
  EXPECT_EQ(registry.for_community(community)[0].node_id_full, a.node_id());
  EXPECT_TRUE(registry.remove(a.node_id()));
  EXPECT_FALSE(registry.remove(a.node_id()));
  EXPECT_FALSE(registry.get(a.node_id()).has_value());
  EXPECT_EQ(registry.size(), 1u);
}

TEST_F(DiscoveryPeerRegistry, PruneStaleAfter90Seconds) {
  auto a = identity::KeyPair::generate();
  auto b = identity::KeyPair::generate();
  registry.upsert(record_for(a, community));
  clock.advance_seconds(60);
  registry.upsert(record_for(b, community));
  clock.advance_seconds(30);  // a: 90 s old (not yet stale), b: 30 s
  EXPECT_EQ(registry.prune_stale(), 0u);
  clock.advance_seconds(1);  // a: 91 s
  EXPECT_EQ(registry.prune_stale(), 1u);
  EXPECT_FALSE(registry.get(a.node_id()).has_value());
  EXPECT_TRUE(registry.get(b.node_id()).has_value());
}

TEST_F(DiscoveryPeerRegistry, TouchKeepsPeerAlive) {
  auto a = identity::KeyPair::generate();
  registry.upsert(record_for(a, community));
  clock.advance_seconds(80);
  EXPECT_TRUE(registry.touch(a.node_id()));
  clock.advance_seconds(80);
  EXPECT_EQ(registry.prune_stale(), 0u);
  EXPECT_FALSE(registry.touch(self.node_id()));
}

TEST_F(DiscoveryPeerRegistry, AggressivePruningAt30Seconds) {
  auto a = identity::KeyPair::generate();
  registry.upsert(record_for(a, community));
  EXPECT_EQ(registry.stale_age_seconds(), 90);
  registry.set_pruning_aggressive(true);  // M09 offline, M02 §4.3
  EXPECT_EQ(registry.stale_age_seconds(), 30);
  clock.advance_seconds(30);
  EXPECT_EQ(registry.prune_stale(), 0u);
  clock.advance_seconds(1);
  EXPECT_EQ(registry.prune_stale(), 1u);
  registry.set_pruning_aggressive(false);
  EXPECT_EQ(registry.stale_age_seconds(), 90);
}

TEST_F(DiscoveryPeerRegistry, SubscribeSeesAddedUpdatedRemoved) {
  std::vector<std::pair<PeerEventKind, NodeId>> events;
  auto id = registry.subscribe(
      [&](const PeerEvent& e) { events.emplace_back(e.kind, e.peer.node_id_full); });
  auto a = identity::KeyPair::generate();
  auto rec = record_for(a, community);
  registry.upsert(rec);
  clock.advance_seconds(5);
  registry.upsert(rec);  // only last_seen changes: no event
  rec.display_name = "renamed";
  registry.upsert(rec);
  registry.remove(a.node_id());
  registry.upsert(rec);
  clock.advance_seconds(100);
  registry.prune_stale();
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].first, PeerEventKind::added);
  EXPECT_EQ(events[1].first, PeerEventKind::updated);
  EXPECT_EQ(events[2].first, PeerEventKind::removed);
  EXPECT_EQ(events[3].first, PeerEventKind::added);
  EXPECT_EQ(events[4].first, PeerEventKind::removed);
  EXPECT_EQ(events[0].second, a.node_id());
  registry.unsubscribe(id);
  registry.upsert(rec);
  EXPECT_EQ(events.size(), 5u);
}

TEST_F(DiscoveryPeerRegistry, SubscriberMayCallBackIntoRegistry) {
  std::size_t seen_size = 0;
  registry.subscribe([&](const PeerEvent&) { seen_size = registry.size(); });
  registry.upsert(record_for(identity::KeyPair::generate(), community));
  EXPECT_EQ(seen_size, 1u);
}

TEST(DiscoveryPeerSource, Names) {
  EXPECT_EQ(to_string(PeerSource::mdns), "mdns");
  EXPECT_EQ(to_string(PeerSource::udp), "udp");
  EXPECT_EQ(to_string(PeerSource::relay), "relay");
  EXPECT_EQ(to_string(PeerSource::static_peer), "static");
  EXPECT_EQ(to_string(PeerEventKind::updated), "updated");
}

}  // namespace
}  // namespace hn::discovery
