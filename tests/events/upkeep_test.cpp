// upkeep_test.cpp — the event log's upkeep (X02 §5.4; CONTRACT §7.5): a start restores the
// newest usable snapshot and replays only what follows it, damaged or foreign snapshots are
// skipped, snapshots are due every `lag` Lamports, and retention prunes only events that are
// covered, old, acknowledged by every peer and not governance — without sync seeing a
// difference, and telling a peer that lacks a pruned event so (not_found), not silence;
// such a peer adopts the other's snapshot (signed by a member its own view trusts) and its
// views then equal the other's, while a tampered, foreign or untrusted snapshot is refused.
#include "events/upkeep.h"

#include <fstream>

#include <gtest/gtest.h>

#include "events/community_view.h"
#include "events/sync.h"
#include "events_test_util.h"

namespace hn::events {
namespace {

using test::key_from_byte;
using test::make_signed;

// Counts every event it sees, in order (a stand-in for the chat / market views).
class TallyView final : public MaterialisedView {
 public:
  std::string name() const override { return "tally"; }
  void reset() override { seen.clear(); }
  void apply(const Event& e) override { seen.push_back(e.event_id.str()); }
  Json snapshot_state() const override { return Json{{"seen", seen}}; }
  Status restore_state(const Json& s) override {
    if (!s.is_object() || !s.contains("seen") || !s["seen"].is_array()) {
      return make_error(ErrorCode::bad_request, "bad tally state");
    }
    seen = s["seen"].get<std::vector<std::string>>();
    return {};
  }
  std::vector<std::string> seen;
};

constexpr std::int64_t DAY_MS = 86'400'000;

class UpkeepTest : public test::LogFixture {
 protected:
  // A community founded by `keys`, then n chat events.
  void seed(EventLog& log, int n) {
    ASSERT_TRUE(log.append_local(EventType::community_created, {{"name", "Demo"},
                                                                {"founder_node_id", keys.node_id().str()},
                                                                {"policy", Json::object()}}));
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(log.append_local(EventType::chat_message_sent, {{"i", i}}));
    }
  }
  UpkeepOptions options(Lamport lag = 5) {
    UpkeepOptions o;
    o.snapshot_lag = lag;
    o.keep_types = CommunityView::event_types();
    return o;
  }
  SnapshotStore store() { return SnapshotStore(dir / "snapshots", community); }

  // A full, snapshot-free replay of the log: what every restored start must equal.
  struct Views {
    explicit Views(EventLog& log) : engine(log) {}
    Status register_all() {
      HN_TRY(engine.register_view(community, CommunityView::event_types()));
      return engine.register_view(tally);
    }
    ReplayEngine engine;
    CommunityView community;
    TallyView tally;
  };
};

TEST_F(UpkeepTest, SnapshotIsDueEveryLagLamportsAndCoversWhatViewsApplied) {
  auto log = open_log();
  Views v(*log);
  ASSERT_TRUE(v.register_all());
  LogUpkeep upkeep(*log, v.engine, store(), keys, options(5), clock);
  EXPECT_FALSE(upkeep.snapshot_due(4));
  EXPECT_TRUE(upkeep.snapshot_due(5));
  seed(*log, 6);  // Lamports 1..7
  auto snap = upkeep.build_snapshot_now();
  ASSERT_TRUE(snap.has_value()) << snap.error().to_string();
  ASSERT_TRUE(snap->has_value());
  EXPECT_EQ((*snap)->covers_events_up_to, 7);
  EXPECT_EQ(*store().list(), std::vector<Lamport>{7});
  EXPECT_FALSE(upkeep.snapshot_due(11));
  EXPECT_TRUE(upkeep.snapshot_due(12));
  // Nothing new: no second file.
  auto again = upkeep.build_snapshot_now();
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->has_value());
  EXPECT_EQ(upkeep.stats().built, 1);
}

TEST_F(UpkeepTest, StartRestoresNewestSnapshotAndReplaysOnlyWhatFollows) {
  {
    auto log = open_log();
    Views v(*log);
    ASSERT_TRUE(v.register_all());
    LogUpkeep upkeep(*log, v.engine, store(), keys, options(), clock);
    seed(*log, 40);
    ASSERT_TRUE(upkeep.build_snapshot_now());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->append_local(EventType::chat_message_sent, {{"late", i}}));
  }
  auto log = open_log();
  Views full(*log);
  ASSERT_TRUE(full.register_all());

  Views restored(*log);
  LogUpkeep upkeep(*log, restored.engine, store(), keys, options(), clock);
  auto report = upkeep.choose_base();
  ASSERT_TRUE(report.has_value()) << report.error().to_string();
  EXPECT_EQ(report->snapshot, std::optional<Lamport>(41));
  ASSERT_TRUE(restored.register_all());
  EXPECT_EQ(restored.community.state(), full.community.state());
  EXPECT_EQ(restored.tally.seen, full.tally.seen);
  EXPECT_EQ(full.engine.replayed_events(), 1 + 41 + 3);  // community: 1, tally: 44
  EXPECT_EQ(restored.engine.replayed_events(), 3);         // only the events after the snapshot
}

TEST_F(UpkeepTest, DamagedOrForeignSnapshotsAreSkippedAndFullReplayHappens) {
  auto log = open_log();
  {
    Views v(*log);
    ASSERT_TRUE(v.register_all());
    LogUpkeep upkeep(*log, v.engine, store(), keys, options(), clock);
    seed(*log, 10);
    ASSERT_TRUE(upkeep.build_snapshot_now());  // covers 11: stays valid
    ASSERT_TRUE(log->append_local(EventType::chat_message_sent, {{"x", 1}}));
  }
  // Newer files: one signed by another key, one cut short, one garbage; and the leftover
  // temp file of a write killed before its rename (core/file_util atomic_write_file).
  {
    Views v(*log);
    ASSERT_TRUE(v.register_all());
    auto foreign = build_snapshot(v.engine, community, key_from_byte(77), clock);
    ASSERT_TRUE(foreign.has_value());
    foreign->lamport = 12;
    sign_snapshot(*foreign, key_from_byte(77));
    ASSERT_TRUE(store().write(*foreign));
  }
  std::ofstream(store().path_for(13)) << "{\"schema_version\":1,\"community_id\":";
  std::ofstream(store().path_for(14)) << "not json at all";
  std::ofstream(dir / "snapshots" / ".15.bin.tmp-01J00000000000000000000000") << "{\"schema";

  Views restored(*log);
  LogUpkeep upkeep(*log, restored.engine, store(), keys, options(), clock);
  auto report = upkeep.choose_base();
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->snapshot, std::optional<Lamport>(11));
  EXPECT_EQ(report->skipped, 3);
  ASSERT_TRUE(restored.register_all());
  EXPECT_EQ(restored.engine.replayed_events(), 1);

  // With the good one gone too, nothing is restored: a full replay.
  std::filesystem::remove(store().path_for(11));
  Views bare(*log);
  LogUpkeep none(*log, bare.engine, store(), keys, options(), clock);
  auto r2 = none.choose_base();
  ASSERT_TRUE(r2.has_value());
  EXPECT_FALSE(r2->snapshot.has_value());
  ASSERT_TRUE(bare.register_all());
  EXPECT_EQ(bare.tally.seen.size(), 12u);
}

TEST_F(UpkeepTest, LateEventBelowTheSnapshotDropsItAndViewsMatchAFullReplay) {
  auto log = open_log();
  {
    Views v(*log);
    ASSERT_TRUE(v.register_all());
    LogUpkeep upkeep(*log, v.engine, store(), keys, options(), clock);
    seed(*log, 5);  // 1..6
    ASSERT_TRUE(upkeep.build_snapshot_now());
  }
  Views restored(*log);
  LogUpkeep upkeep(*log, restored.engine, store(), keys, options(), clock);
  ASSERT_TRUE(upkeep.choose_base());
  ASSERT_TRUE(restored.register_all());
  // A partitioned member's event sorts inside the snapshot's coverage.
  ASSERT_TRUE(log->append_received(make_signed(keys, community, EventType::chat_message_sent, 3,
                                               {{"late", true}})));
  EXPECT_FALSE(restored.engine.base_covers().has_value());
  Views full(*log);
  ASSERT_TRUE(full.register_all());
  EXPECT_EQ(restored.tally.seen, full.tally.seen);
}

TEST_F(UpkeepTest, RetentionPrunesOnlyCoveredOldAcknowledgedNonGovernanceEvents) {
  auto log = open_log();
  Views v(*log);
  ASSERT_TRUE(v.register_all());
  LogUpkeep upkeep(*log, v.engine, store(), keys, options(), clock);
  seed(*log, 10);  // Lamports 1..11, received now
  const std::string peer_key = peer.node_id().str();
  const std::vector<std::string> peers{peer_key};

  // No snapshot yet: nothing goes.
  clock.advance_ms(31 * DAY_MS);
  EXPECT_EQ(*upkeep.prune(peers), 0);
  ASSERT_TRUE(upkeep.build_snapshot_now());  // covers 11
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(log->append_local(EventType::chat_message_sent, {{"new", i}}));
  // Covered and old, but the peer never acknowledged: nothing goes.
  EXPECT_EQ(*upkeep.prune(peers), 0);
  // The peer acknowledged up to seq 6 (events 1..6).
  ASSERT_TRUE(log->record_peer_ack(peer_key, 6));
  EXPECT_EQ(*upkeep.prune(peers), 5);  // seq 2..6; community.created (seq 1) is kept
  // Acknowledged everything: only covered (≤ 11) events go; the 4 newer stay; and events
  // received within the window stay even when covered.
  ASSERT_TRUE(log->record_peer_ack(peer_key, 100));
  EXPECT_EQ(*upkeep.prune(peers), 5);  // Lamports 7..11
  EXPECT_EQ(*log->count(), 1 + 4);
  EXPECT_EQ(*log->pruned_count(), 10);
  EXPECT_EQ(upkeep.stats().pruned, 10);

  // A restart restores from the snapshot: views still hold the pruned events' effects.
  Views restored(*log);
  LogUpkeep again(*log, restored.engine, store(), keys, options(), clock);
  ASSERT_TRUE(again.choose_base());
  ASSERT_TRUE(restored.register_all());
  EXPECT_EQ(restored.tally.seen, v.tally.seen);
  EXPECT_EQ(restored.community.state(), v.community.state());
}

TEST_F(UpkeepTest, FreshEventsAreNotPrunedEvenWhenCoveredAndAcknowledged) {
  auto log = open_log();
  Views v(*log);
  ASSERT_TRUE(v.register_all());
  LogUpkeep upkeep(*log, v.engine, store(), keys, options(), clock);
  seed(*log, 5);
  ASSERT_TRUE(upkeep.build_snapshot_now());
  clock.advance_ms(29 * DAY_MS);  // inside the 30-day window
  EXPECT_EQ(*upkeep.prune({}), 0);
  clock.advance_ms(2 * DAY_MS);
  EXPECT_EQ(*upkeep.prune({}), 5);  // a node without peers needs no acknowledgement
}

TEST_F(UpkeepTest, SyncSeesNoDifferenceForPrunedKeysAndAFreshPeerIsToldNotFound) {
  auto log = open_log();
  Views v(*log);
  ASSERT_TRUE(v.register_all());
  LogUpkeep upkeep(*log, v.engine, store(), keys, options(), clock);
  seed(*log, 8);

  // A peer holding the whole log (same member key, so its author policy admits all).
  hn::test::TempDir other_dir;
  auto other = *EventLog::open(other_dir / "e.db", community, keys);
  SyncServer server_a(*log);
  InProcessSyncPeer to_a(server_a, "a");
  SyncClient client_b(*other);
  ASSERT_TRUE(client_b.run_round(to_a));
  ASSERT_EQ(*other->count(), 9);
  const auto heads_before = *server_a.serve_heads();

  ASSERT_TRUE(upkeep.build_snapshot_now());
  clock.advance_ms(31 * DAY_MS);
  ASSERT_EQ(*upkeep.prune({}), 8);
  EXPECT_EQ(*log->count(), 1);

  // Heads (count, fingerprint) are unchanged; a round moves nothing either way, and the
  // peer pushing its copies back stores nothing here.
  EXPECT_EQ(*server_a.serve_heads(), heads_before);
  auto round = client_b.run_round(to_a);
  ASSERT_TRUE(round.has_value()) << round.error().to_string();
  EXPECT_EQ(round->sent_count + round->received_count, 0);
  auto copies = *other->read_events();
  auto pushed = log->append_received_batch(copies);
  ASSERT_TRUE(pushed.has_value());
  EXPECT_EQ(pushed->accepted, 0u);
  EXPECT_EQ(pushed->duplicates, copies.size());
  EXPECT_EQ(*log->count(), 1);

  // A fresh node asking for the pruned events hears they were pruned (not_found), and the
  // next round does not ask again.
  hn::test::TempDir fresh_dir;
  auto fresh = *EventLog::open(fresh_dir / "e.db", community, keys);
  SyncClient client_c(*fresh);
  auto first = client_c.run_round(to_a);
  ASSERT_TRUE(first.has_value()) << first.error().to_string();
  EXPECT_EQ(first->pruned_count, 8);
  EXPECT_EQ(first->missing_count, 0);
  EXPECT_EQ(first->received_count, 1);
  auto second = client_c.run_round(to_a);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->pruned_count, 0);
  EXPECT_EQ(second->skipped_count, 8);
}

// An in-process peer that also serves a snapshot (GET /sync/v1/snapshot).
class SnapshotPeer final : public InProcessSyncPeer {
 public:
  SnapshotPeer(SyncServer& server, Json snapshot) : InProcessSyncPeer(server, "a"), served(std::move(snapshot)) {}
  Result<Json> snapshot() override { return served; }
  Json served;
};

TEST_F(UpkeepTest, APeerToldPrunedAdoptsTheTrustedSnapshotAndConverges) {
  auto log = open_log();
  Views a(*log);
  ASSERT_TRUE(a.register_all());
  LogUpkeep upkeep_a(*log, a.engine, store(), keys, options(), clock);
  seed(*log, 8);
  ASSERT_TRUE(upkeep_a.build_snapshot_now());
  clock.advance_ms(31 * DAY_MS);
  ASSERT_EQ(*upkeep_a.prune({}), 8);
  auto served = upkeep_a.serve_snapshot();
  ASSERT_TRUE(served.has_value()) << served.error().to_string();

  // A node joining now gets the community's events and hears the rest were pruned.
  hn::test::TempDir c_dir;
  auto c_log = *EventLog::open(c_dir / "e.db", community, keys);
  Views c(*c_log);
  ASSERT_TRUE(c.register_all());
  LogUpkeep upkeep_c(*c_log, c.engine, SnapshotStore(c_dir / "snapshots", community), keys, options(), clock);
  SyncServer server_a(*log);
  SnapshotPeer to_a(server_a, *served);
  SyncClient client_c(*c_log);
  auto round = client_c.run_round(to_a);
  ASSERT_TRUE(round.has_value()) << round.error().to_string();
  ASSERT_EQ(round->pruned_count, 8);
  ASSERT_NE(c.tally.seen, a.tally.seen);
  const auto trusted = peer_signers(c.community.state());
  ASSERT_EQ(trusted, std::vector<NodeId>{keys.node_id()});  // the founder: anchor

  // Refused, views untouched: tampered state, another community, an untrusted signer.
  const auto before = c.tally.seen;
  Json tampered = *served;
  tampered["state"]["tally"]["seen"].push_back("forged");
  to_a.served = tampered;
  auto bad = upkeep_c.bootstrap_from(to_a, trusted);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_signature);
  auto foreign = build_snapshot(a.engine, CommunityId("ed25519:other"), keys, clock);
  ASSERT_TRUE(foreign.has_value());
  auto wrong = upkeep_c.adopt_peer_snapshot(to_json(*foreign), trusted);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, ErrorCode::wrong_community);
  auto stranger_signed = build_snapshot(a.engine, community, key_from_byte(77), clock);
  ASSERT_TRUE(stranger_signed.has_value());
  auto untrusted = upkeep_c.adopt_peer_snapshot(to_json(*stranger_signed), trusted);
  ASSERT_FALSE(untrusted.has_value());
  EXPECT_EQ(untrusted.error().code, ErrorCode::invalid_signature);
  auto garbage = upkeep_c.adopt_peer_snapshot(Json{{"schema_version", 1}}, trusted);
  ASSERT_FALSE(garbage.has_value());
  EXPECT_EQ(garbage.error().code, ErrorCode::bad_request);
  EXPECT_EQ(c.tally.seen, before);
  EXPECT_FALSE(c.engine.base_covers().has_value());

  // The genuine one: every view equals the peer's; asking again brings nothing newer.
  to_a.served = *served;
  auto adopted = upkeep_c.bootstrap_from(to_a, trusted);
  ASSERT_TRUE(adopted.has_value()) << adopted.error().to_string();
  ASSERT_TRUE(adopted->has_value());
  EXPECT_EQ(**adopted, (*served)["covers_events_up_to"].get<Lamport>());
  EXPECT_EQ(c.tally.seen, a.tally.seen);
  EXPECT_EQ(c.community.state(), a.community.state());
  EXPECT_EQ(upkeep_c.stats().adopted, 1);
  auto again = upkeep_c.bootstrap_from(to_a, trusted);
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->has_value());

  // Events after the snapshot still reach the views on top of the adopted state.
  ASSERT_TRUE(log->append_local(EventType::chat_message_sent, {{"i", 99}}));
  ASSERT_TRUE(client_c.run_round(to_a));
  EXPECT_EQ(c.tally.seen, a.tally.seen);
}

TEST_F(UpkeepTest, ACleanRoundRecordsThePeersAcknowledgement) {
  auto log = open_log();
  seed(*log, 3);
  hn::test::TempDir other_dir;
  auto other = *EventLog::open(other_dir / "e.db", community, keys);
  SyncServer server_b(*other);
  InProcessSyncPeer to_b(server_b, "peer-b");
  SyncClient client_a(*log);
  auto round = client_a.run_round(to_b);
  ASSERT_TRUE(round.has_value());
  EXPECT_EQ(round->acked_seq, 4);
  EXPECT_EQ(log->peer_acks()->at("peer-b"), 4);
}

}  // namespace
}  // namespace hn::events
