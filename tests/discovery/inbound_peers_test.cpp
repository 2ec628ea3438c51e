// inbound_peers_test.cpp — members that dial us become peers (inbound_peers.h): the noted
// endpoint goes through the first-contact flow, is kept by re-sightings while the member
// keeps calling, is forgotten `keep` after its last call (then pruned as usual), and cannot
// name another node's server. Fake fetcher, ManualClock.
#include "discovery/inbound_peers.h"

#include <gtest/gtest.h>

#include "discovery_test_util.h"

namespace hn::discovery {
namespace {

using test::FakeFetcher;
using test::make_manifest;

struct InboundPeersTest : ::testing::Test {
  ManualClock clock;
  boost::asio::io_context io;
  identity::KeyPair self = identity::KeyPair::generate();
  identity::KeyPair root = identity::KeyPair::generate();
  CommunityId community = test::community_of(root);
  PeerRegistry registry{clock, self.node_id(), community};
  FakeFetcher fetcher;
  std::shared_ptr<PeerIntake> intake =
      PeerIntake::create(registry, fetcher, make_default_manifest_verifier(clock));
  std::shared_ptr<InboundPeers> inbound = InboundPeers::create(
      io, intake->sink(), clock,
      InboundPeersOptions{.poll_interval = std::chrono::seconds(30),
                          .keep = std::chrono::minutes(15),
                          .max_entries = 2});
};

TEST_F(InboundPeersTest, ACallerBecomesAPeerAndStaysWhileItCalls) {
  auto b = identity::KeyPair::generate();
  const PeerEndpoint ep{"10.213.0.2", 7443};
  fetcher.set_manifest(ep, make_manifest(b, community, 7443, clock));

  inbound->note(b.node_id(), ep);
  auto rec = registry.get(b.node_id());
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->source, PeerSource::inbound);
  EXPECT_EQ(rec->endpoints.front().host, "10.213.0.2");
  EXPECT_EQ(rec->endpoints.front().port, 7443);
  EXPECT_EQ(fetcher.calls(), 1u);

  // Later calls from the same place fetch nothing more.
  inbound->note(b.node_id(), ep);
  EXPECT_EQ(fetcher.calls(), 1u);
  EXPECT_EQ(inbound->size(), 1u);

  // Re-sightings keep it in the registry past the 90 s a silent peer lives (its manifest,
  // valid 30 s, is republished meanwhile and refetched).
  for (int i = 0; i < 6; ++i) {
    clock.advance_seconds(30);
    fetcher.set_manifest(ep, make_manifest(b, community, 7443, clock));
    inbound->poll_once();
    registry.prune_stale();
  }
  EXPECT_TRUE(registry.get(b.node_id()).has_value());
}

TEST_F(InboundPeersTest, AMemberThatStopsCallingIsForgottenAndPruned) {
  auto b = identity::KeyPair::generate();
  const PeerEndpoint ep{"10.213.0.2", 7443};
  fetcher.set_manifest(ep, make_manifest(b, community, 7443, clock));
  inbound->note(b.node_id(), ep);
  ASSERT_TRUE(registry.get(b.node_id()).has_value());

  clock.advance_seconds(15 * 60 + 1);  // no call for `keep`
  inbound->poll_once();
  EXPECT_EQ(inbound->size(), 0u);
  clock.advance_seconds(91);
  registry.prune_stale();
  EXPECT_FALSE(registry.get(b.node_id()).has_value());
}

TEST_F(InboundPeersTest, ACallerCannotNameAnotherNodesServer) {
  auto b = identity::KeyPair::generate();
  auto c = identity::KeyPair::generate();
  const PeerEndpoint c_server{"10.213.0.3", 7443};
  fetcher.set_manifest(c_server, make_manifest(c, community, 7443, clock));
  // b says it listens where c does: the manifest there is not b's.
  inbound->note(b.node_id(), c_server);
  EXPECT_FALSE(registry.get(b.node_id()).has_value());
  EXPECT_FALSE(registry.get(c.node_id()).has_value());
  EXPECT_EQ(intake->stats().mismatched, 1u);
}

TEST_F(InboundPeersTest, AMovedCallerIsSightedAtItsNewPlaceAndEntriesAreBounded) {
  auto b = identity::KeyPair::generate();
  const PeerEndpoint old_ep{"10.213.0.2", 7443}, new_ep{"10.213.0.2", 7444};
  fetcher.set_manifest(old_ep, make_manifest(b, community, 7443, clock));
  fetcher.set_manifest(new_ep, make_manifest(b, community, 7444, clock));
  inbound->note(b.node_id(), old_ep);
  inbound->note(b.node_id(), new_ep);
  EXPECT_EQ(fetcher.calls(), 2u);
  EXPECT_EQ(registry.get(b.node_id())->endpoints.front().port, 7444);
  EXPECT_EQ(inbound->size(), 1u);
  // No port or no host: nothing to dial, ignored.
  inbound->note(identity::KeyPair::generate().node_id(), PeerEndpoint{"10.213.0.4", 0});
  inbound->note(identity::KeyPair::generate().node_id(), PeerEndpoint{"", 7443});
  EXPECT_EQ(inbound->size(), 1u);
  // max_entries (2 here): a third member waits until one expires.
  inbound->note(identity::KeyPair::generate().node_id(), PeerEndpoint{"10.213.0.5", 7443});
  inbound->note(identity::KeyPair::generate().node_id(), PeerEndpoint{"10.213.0.6", 7443});
  EXPECT_EQ(inbound->size(), 2u);
}

TEST_F(InboundPeersTest, TheTimerResightsUntilStopped) {
  auto b = identity::KeyPair::generate();
  const PeerEndpoint ep{"10.213.0.2", 7443};
  fetcher.set_manifest(ep, make_manifest(b, community, 7443, clock));
  auto fast = InboundPeers::create(io, intake->sink(), clock,
                                   InboundPeersOptions{.poll_interval = std::chrono::milliseconds(1)});
  fast->note(b.node_id(), ep);
  const auto sightings = intake->stats().sightings;
  fast->start();
  io.run_for(std::chrono::milliseconds(50));
  EXPECT_GT(intake->stats().sightings, sightings);
  fast->stop();
  io.restart();
  io.run();  // the cancelled timer releases its handler
}

}  // namespace
}  // namespace hn::discovery
