// event_log_test.cpp — the SQLite event log (X02 §3.3, §4, §5; CONTRACT §7.3, §7.4).
#include "events/event_log.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "events_test_util.h"
#include "observability/standard_metrics.h"

namespace hn::events {
namespace {

using test::make_signed;

class EventLogTest : public test::LogFixture {};

TEST_F(EventLogTest, AppendLocalPersistsAndSigns) {
  auto log = open_log();
  auto e = log->append_local(EventType::market_post_created, Json{{"title", "Leiter"}});
  ASSERT_TRUE(e.has_value()) << e.error().to_string();
  EXPECT_EQ(e->lamport, 1);
  EXPECT_EQ(e->author, keys.node_id());
  EXPECT_EQ(e->community_id, community);
  EXPECT_TRUE(is_valid_ulid(e->event_id.str()));
  EXPECT_TRUE(verify_event_signature(*e).has_value());
  auto stored = log->get(e->event_id);
  ASSERT_TRUE(stored.has_value());
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ(**stored, *e);
  EXPECT_TRUE(*log->has(e->event_id));
  EXPECT_FALSE(*log->has(EventId(new_ulid())));
  EXPECT_EQ(*log->count(), 1);
  EXPECT_EQ(log->head()->lamport, 1);
  EXPECT_EQ(log->head()->event_id, e->event_id);
}

TEST_F(EventLogTest, AppendLocalRejectsNonObjectData) {
  auto log = open_log();
  auto r = log->append_local(EventType::chat_message_sent, Json::array());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::bad_request);
  EXPECT_EQ(log->clock(), 0);
}

// CONTRACT §7.3: send = ++lamport; receive: lamport = max(lamport, received) + 1.
TEST_F(EventLogTest, LamportTickAndObserveRule) {
  auto log = open_log();
  EXPECT_EQ(log->clock(), 0);
  EXPECT_EQ(log->append_local(EventType::chat_message_sent, Json::object())->lamport, 1);
  EXPECT_EQ(log->clock(), 1);
  ASSERT_EQ(*log->append_received(make_signed(peer, community, EventType::chat_message_sent, 10, {})),
            AppendOutcome::appended);
  EXPECT_EQ(log->clock(), 11);  // max(1, 10) + 1
  ASSERT_EQ(*log->append_received(make_signed(peer, community, EventType::chat_message_sent, 3, {})),
            AppendOutcome::appended);
  EXPECT_EQ(log->clock(), 12);  // max(11, 3) + 1
  EXPECT_EQ(log->append_local(EventType::chat_message_sent, Json::object())->lamport, 13);
  EXPECT_EQ(log->head()->lamport, 13);
}

TEST_F(EventLogTest, LamportClockDirectly) {
  auto db = detail::Db::open((dir / "clock.db").string(), true);
  ASSERT_TRUE(db.has_value());
  ASSERT_TRUE(db->exec("CREATE TABLE events(community_id TEXT, lamport INTEGER);"
                       "CREATE TABLE clock(community_id TEXT PRIMARY KEY, lamport INTEGER NOT NULL);")
                  .has_value());
  {
    auto clock = LamportClock::load(*db, community);
    ASSERT_TRUE(clock.has_value());
    EXPECT_EQ(clock->current(), 0);
    EXPECT_EQ(*clock->tick(), 1);
    EXPECT_EQ(*clock->observe(7), 8);
    EXPECT_EQ(*clock->observe(2), 9);
  }
  auto again = LamportClock::load(*db, community);
  EXPECT_EQ(again->current(), 9);
  auto exhausted = again->observe(MAX_LAMPORT);
  ASSERT_FALSE(exhausted.has_value());
  EXPECT_EQ(exhausted.error().code, ErrorCode::out_of_order);
}

TEST_F(EventLogTest, ReopenKeepsHeadAndLamport) {
  Head head;
  {
    auto log = open_log();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->append_local(EventType::chat_message_sent, Json::object()));
    ASSERT_TRUE(log->append_received(make_signed(peer, community, EventType::chat_message_sent, 100, {})));
    head = *log->head();
    EXPECT_EQ(head.lamport, 100);
    EXPECT_EQ(log->clock(), 101);
  }
  auto log = open_log();
  EXPECT_EQ(*log->head(), head);
  EXPECT_EQ(log->clock(), 101);
  EXPECT_EQ(*log->count(), 6);
  EXPECT_EQ(log->append_local(EventType::chat_message_sent, Json::object())->lamport, 102);
}

TEST_F(EventLogTest, SynchronousFullOpensAndAppends) {
  EventLogOptions options;
  options.synchronous = Synchronous::full;
  auto log = open_log(options);
  ASSERT_TRUE(log->append_local(EventType::chat_message_sent, Json::object()));
  EXPECT_EQ(*log->count(), 1);
}

// Acknowledged = committed: a process killed with SIGKILL right after append returns
// loses nothing (WAL, synchronous=NORMAL; see event_log.h).
TEST_F(EventLogTest, KillNineAfterAppendLosesNothing) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto log = EventLog::open(dir / "events.db", community, keys, {});
    if (!log) _exit(2);
    for (int i = 0; i < 20; ++i) {
      if (!(*log)->append_local(EventType::chat_message_sent, Json{{"i", i}})) _exit(3);
    }
    if (!(*log)->append_received(make_signed(peer, community, EventType::chat_message_sent, 50, {}))) _exit(4);
    kill(getpid(), SIGKILL);
    _exit(5);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  auto log = open_log();
  EXPECT_EQ(*log->count(), 21);
  EXPECT_EQ(log->head()->lamport, 50);
  EXPECT_EQ(log->clock(), 51);
  EXPECT_TRUE(log->check_integrity().has_value());
}

// WAL checkpoints run on their own thread, never inside an append's COMMIT: past
// WalCheckpointer::DUE_PAGES of WAL the thread checkpoints; appends acknowledged across
// those checkpoints survive kill -9 all the same.
TEST_F(EventLogTest, WalCheckpointsRunOnTheirOwnThreadAndLoseNothingOnKillNine) {
  const std::string pad(3000, 'x');  // about a page of WAL each
  constexpr int N = 1500;
  {
    auto log = open_log();
    for (int i = 0; i < N; ++i) {
      ASSERT_TRUE(log->append_local(EventType::chat_message_sent, Json{{"i", i}, {"pad", pad}}));
    }
    EXPECT_TRUE(hn::test::eventually([&] { return log->wal_checkpoints() >= 1; }));
  }
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto log = EventLog::open(dir / "events.db", community, keys, {});
    if (!log) _exit(2);
    for (int i = 0; i < N; ++i) {
      if (!(*log)->append_local(EventType::chat_message_sent, Json{{"i", N + i}, {"pad", pad}})) _exit(3);
    }
    kill(getpid(), SIGKILL);
    _exit(5);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  auto log = open_log();
  EXPECT_EQ(*log->count(), 2 * N);
  EXPECT_TRUE(log->check_integrity().has_value());
}

TEST_F(EventLogTest, DuplicateReceivedIsIdempotent) {
  auto log = open_log();
  int calls = 0;
  auto sub = log->subscribe([&](const Event&) { ++calls; });
  auto e = make_signed(peer, community, EventType::market_post_created, 5, Json{{"t", 1}});
  EXPECT_EQ(*log->append_received(e), AppendOutcome::appended);
  const Lamport clock_after = log->clock();
  EXPECT_EQ(*log->append_received(e), AppendOutcome::duplicate);
  EXPECT_EQ(*log->append_received(e), AppendOutcome::duplicate);
  EXPECT_EQ(*log->count(), 1);
  EXPECT_EQ(log->clock(), clock_after);
  EXPECT_EQ(calls, 1);
}

TEST_F(EventLogTest, SameIdDifferentContentIsOutOfOrder) {
  auto log = open_log();
  auto e = make_signed(peer, community, EventType::market_post_created, 5, Json{{"t", 1}});
  ASSERT_TRUE(log->append_received(e));
  auto other = make_signed(peer, community, EventType::market_post_created, 6, Json{{"t", 2}}, e.event_id.str());
  const auto clock_before = log->clock();
  auto r = log->append_received(other);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::out_of_order);
  EXPECT_EQ((*log->get(e.event_id))->lamport, 5);
  EXPECT_EQ(log->clock(), clock_before);  // a refused event does not move the clock
}

// The clock a batch observes is saved once, with the batch's transaction: a reopened log
// has the same value (X02 §3.2), not just the highest stored Lamport.
TEST_F(EventLogTest, BatchClockSurvivesReopen) {
  std::vector<Event> batch;
  for (int i = 0; i < 100; ++i) {
    batch.push_back(make_signed(peer, community, EventType::chat_message_sent, 3 * i + 1, {}));
  }
  Lamport clock = 0;
  {
    auto log = open_log();
    auto r = log->append_received_batch(batch);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_EQ(r->accepted, 100u);
    clock = log->clock();
    EXPECT_EQ(clock, 3 * 99 + 1 + 1);  // max(c, L) + 1 in input order ends at the last L + 1
  }
  auto reopened = open_log();
  EXPECT_EQ(reopened->clock(), clock);
  auto next = reopened->append_local(EventType::chat_message_sent, Json::object());
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->lamport, clock + 1);
}

TEST_F(EventLogTest, FlippedByteIsInvalidSignatureAndNotStored) {
  auto log = open_log();
  auto e = make_signed(peer, community, EventType::chat_message_sent, 4, Json{{"body", "hallo"}});
  std::string text = canonical_json(to_json(e));
  const auto pos = text.find("hallo");
  text[pos] = 'H';
  auto parsed = parse_event(*parse_json(text));
  ASSERT_TRUE(parsed.has_value());
  auto r = log->append_received(*parsed);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_signature);
  EXPECT_EQ(*log->count(), 0);
  EXPECT_EQ(log->clock(), 0);
}

TEST_F(EventLogTest, UnknownTypeIsSchemaUnknown) {
  auto log = open_log();
  auto e = make_signed(peer, community, static_cast<EventType>(42), 4, {});
  auto r = log->append_received(e);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::schema_unknown);
  auto v2 = make_signed(peer, community, EventType::chat_message_sent, 4, {});
  v2.schema_version = 2;
  ASSERT_TRUE(sign_event(v2, peer));
  EXPECT_EQ(log->append_received(v2).error().code, ErrorCode::schema_unknown);
  EXPECT_EQ(*log->count(), 0);
}

TEST_F(EventLogTest, WrongCommunityIsRejected) {
  auto log = open_log();
  auto r = log->append_received(make_signed(peer, CommunityId("ed25519:other"), EventType::chat_message_sent, 4, {}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::wrong_community);
}

TEST_F(EventLogTest, LamportZeroIsOutOfOrder) {
  auto log = open_log();
  auto r = log->append_received(make_signed(peer, community, EventType::chat_message_sent, 0, {}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::out_of_order);
}

TEST_F(EventLogTest, AuthorPolicyRevokedAndUnknown) {
  auto log = open_log();
  auto stranger = test::key_from_byte(3);
  log->set_author_policy([&](const Event& e) {
    if (e.author == peer.node_id()) return AuthorVerdict::revoked_author;
    if (e.author == stranger.node_id()) return AuthorVerdict::unknown_author;
    return AuthorVerdict::ok;
  });
  auto r = log->append_received(make_signed(peer, community, EventType::chat_message_sent, 4, {}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::revoked_author);
  r = log->append_received(make_signed(stranger, community, EventType::chat_message_sent, 4, {}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::unknown_author);
  EXPECT_TRUE(log->append_received(make_signed(keys, community, EventType::chat_message_sent, 4, {})));
  EXPECT_EQ(*log->count(), 1);
}

// CONTRACT §7.4: lamport ascending, ties broken by event_id ascending.
TEST_F(EventLogTest, ReplayOrderAndFilters) {
  auto log = open_log();
  std::vector<Event> events;
  const std::vector<std::pair<Lamport, std::string>> spec = {
      {5, "01J00000000000000000000003"}, {2, "01J00000000000000000000009"},
      {5, "01J00000000000000000000001"}, {9, "01J00000000000000000000002"},
      {2, "01J00000000000000000000004"}, {7, "01J00000000000000000000005"}};
  for (const auto& [l, id] : spec) {
    auto type = l == 9 ? EventType::market_post_created : EventType::chat_message_sent;
    events.push_back(make_signed(peer, community, type, l, Json{{"l", l}}, id));
  }
  std::shuffle(events.begin(), events.end(), std::mt19937(42));
  for (const auto& e : events) ASSERT_TRUE(log->append_received(e));

  auto all = log->read_events();
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 6u);
  EXPECT_TRUE(std::is_sorted(all->begin(), all->end(), replay_order_less));
  EXPECT_EQ((*all)[0].event_id.str(), "01J00000000000000000000004");
  EXPECT_EQ((*all)[2].event_id.str(), "01J00000000000000000000001");

  ReplayOptions from5;
  from5.from_lamport = 5;
  EXPECT_EQ(log->read_events(from5)->size(), 4u);
  ReplayOptions typed;
  typed.types = {EventType::market_post_created};
  auto market = log->read_events(typed);
  ASSERT_EQ(market->size(), 1u);
  EXPECT_EQ((*market)[0].lamport, 9);
  ReplayOptions limited;
  limited.limit = 2;
  limited.to_lamport = 7;
  EXPECT_EQ(log->read_events(limited)->size(), 2u);

  auto heads = log->heads_by_type();
  ASSERT_TRUE(heads.has_value());
  EXPECT_EQ(heads->at(EventType::chat_message_sent), 7);
  EXPECT_EQ(heads->at(EventType::market_post_created), 9);
  EXPECT_EQ(heads->size(), 2u);
  EXPECT_EQ(log->head()->event_id.str(), "01J00000000000000000000002");
}

TEST_F(EventLogTest, SubscribeGetsCommittedEvents) {
  auto log = open_log();
  std::vector<Event> seen;
  std::vector<Event> market_only;
  bool visible_when_called = true;
  auto sub = log->subscribe([&](const Event& e) {
    seen.push_back(e);
    visible_when_called = visible_when_called && *log->has(e.event_id);  // committed first
  });
  auto market = log->subscribe([&](const Event& e) { market_only.push_back(e); },
                               {EventType::market_post_created});
  auto a = log->append_local(EventType::chat_message_sent, Json::object());
  ASSERT_TRUE(log->append_received(make_signed(peer, community, EventType::market_post_created, 3, {})));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], *a);
  EXPECT_TRUE(visible_when_called);
  EXPECT_EQ(market_only.size(), 1u);
  // A rejected event is never delivered.
  (void)log->append_received(make_signed(peer, CommunityId("x"), EventType::chat_message_sent, 3, {}));
  EXPECT_EQ(seen.size(), 2u);
  sub.reset();
  ASSERT_TRUE(log->append_local(EventType::chat_message_sent, Json::object()));
  EXPECT_EQ(seen.size(), 2u);
}

TEST_F(EventLogTest, SubscriberMayAppendReentrantly) {
  auto log = open_log();
  std::vector<EventType> seen;
  auto sub = log->subscribe([&](const Event& e) {
    seen.push_back(e.event_type);
    if (e.event_type == EventType::chat_message_sent) {
      (void)log->append_local(EventType::chat_message_delivered, Json::object());
    }
  });
  ASSERT_TRUE(log->append_local(EventType::chat_message_sent, Json::object()));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1], EventType::chat_message_delivered);
}

// X03 §4.2: a received (synced) event whose signature fails counts in
// hearthnet_signature_failures_total{reason="sync_event"}; a valid one does not.
TEST_F(EventLogTest, ReceivedEventWithBadSignatureCountsAsSignatureFailure) {
  auto log = open_log();
  const auto* counter = observability::standard_metrics().signature_failures_total;
  const double before = counter->value({"sync_event"});
  std::vector<Event> batch;
  batch.push_back(make_signed(peer, community, EventType::chat_message_sent, 10, {}));
  for (int i = 0; i < 2; ++i) {
    auto tampered = make_signed(peer, community, EventType::chat_message_sent, 11 + i, Json{{"a", 1}});
    tampered.data["a"] = 2;
    batch.push_back(tampered);
  }
  auto r = log->append_received_batch(batch);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->rejected, 2u);
  EXPECT_EQ(counter->value({"sync_event"}) - before, 2.0);
  auto tampered = make_signed(peer, community, EventType::chat_message_sent, 20, Json{{"a", 1}});
  tampered.data["a"] = 3;
  EXPECT_FALSE(log->append_received(tampered));
  EXPECT_EQ(counter->value({"sync_event"}) - before, 3.0);
}

// Decision: valid events of a batch land in one transaction; invalid ones are reported
// per event and never stored.
TEST_F(EventLogTest, BatchAppendReportsPerEvent) {
  auto log = open_log();
  auto stored = make_signed(peer, community, EventType::chat_message_sent, 1, {});
  ASSERT_TRUE(log->append_received(stored));
  std::vector<Event> batch;
  batch.push_back(make_signed(peer, community, EventType::chat_message_sent, 10, {}));
  auto tampered = make_signed(peer, community, EventType::chat_message_sent, 11, Json{{"a", 1}});
  tampered.data["a"] = 2;
  batch.push_back(tampered);
  batch.push_back(stored);                                // already had it
  batch.push_back(make_signed(peer, community, EventType::chat_message_sent, 4, {}));
  batch.push_back(batch[0]);                              // duplicate within the batch
  batch.push_back(make_signed(peer, CommunityId("x"), EventType::chat_message_sent, 4, {}));

  int delivered = 0;
  auto sub = log->subscribe([&](const Event&) { ++delivered; });
  auto r = log->append_received_batch(batch);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_EQ(r->results.size(), 6u);
  EXPECT_EQ(*r->results[0], AppendOutcome::appended);
  EXPECT_EQ(r->results[1].error().code, ErrorCode::invalid_signature);
  EXPECT_EQ(*r->results[2], AppendOutcome::duplicate);
  EXPECT_EQ(*r->results[3], AppendOutcome::appended);
  EXPECT_EQ(*r->results[4], AppendOutcome::duplicate);
  EXPECT_EQ(r->results[5].error().code, ErrorCode::wrong_community);
  EXPECT_EQ(r->accepted, 2u);
  EXPECT_EQ(r->duplicates, 2u);
  EXPECT_EQ(r->rejected, 2u);
  EXPECT_EQ(r->new_head, 10);
  EXPECT_EQ(*log->count(), 3);
  EXPECT_EQ(delivered, 2);
  // observe applied in input order: 1 → max(2,10)+1=11 → max(11,4)+1=12.
  EXPECT_EQ(log->clock(), 12);
}

TEST_F(EventLogTest, LargeBatchVerifiedInParallelRejectsExactlyTheTampered) {
  // Batches of PARALLEL_VERIFY_MIN_BATCH or more verify on every core; the verdict of each
  // event must still land in its own slot.
  auto log = open_log();
  std::vector<Event> batch;
  for (int i = 0; i < 300; ++i) {
    batch.push_back(make_signed(peer, community, EventType::chat_message_sent, i + 1,
                                Json{{"i", i}}));
  }
  const std::set<int> tampered = {0, 7, 150, 151, 299};
  for (int i : tampered) batch[static_cast<size_t>(i)].data["i"] = -1;
  auto r = log->append_received_batch(batch);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  for (int i = 0; i < 300; ++i) {
    const auto& result = r->results[static_cast<size_t>(i)];
    if (tampered.count(i)) {
      ASSERT_FALSE(result.has_value()) << i;
      EXPECT_EQ(result.error().code, ErrorCode::invalid_signature) << i;
    } else {
      EXPECT_TRUE(result.has_value()) << i;
    }
  }
  EXPECT_EQ(r->accepted, 295u);
  EXPECT_EQ(*log->count(), 295);
}

TEST_F(EventLogTest, GarbageDbFileIsDbCorrupt) {
  {
    std::ofstream f(dir / "events.db", std::ios::binary);
    for (int i = 0; i < 512; ++i) f << "this is not a sqlite database ";
  }
  auto log = EventLog::open(dir / "events.db", community, keys);
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().code, ErrorCode::db_corrupt) << log.error().to_string();
}

TEST_F(EventLogTest, DamagedPagesAreDbCorrupt) {
  {
    auto log = open_log();
    for (int i = 0; i < 300; ++i) {
      ASSERT_TRUE(log->append_local(EventType::chat_message_sent, Json{{"body", std::string(200, 'x')}}));
    }
    EXPECT_TRUE(log->check_integrity().has_value());
  }  // closing checkpoints the WAL into the main file
  {
    std::fstream f(dir / "events.db", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 * 3);
    const std::string junk(4096 * 4, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto log = EventLog::open(dir / "events.db", community, keys);
  if (!log) {
    EXPECT_EQ(log.error().code, ErrorCode::db_corrupt) << log.error().to_string();
    return;
  }
  auto st = (*log)->check_integrity();
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::db_corrupt);
}

TEST_F(EventLogTest, ReceivedEventWithBadShapeIsBadRequest) {
  auto log = open_log();
  auto e = make_signed(peer, community, EventType::chat_message_sent, 4, {});
  e.data = Json::array();
  ASSERT_TRUE(sign_event(e, peer));
  auto r = log->append_received(e);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::bad_request);
  e = make_signed(peer, community, EventType::chat_message_sent, 4, {});
  e.event_id = EventId("not-a-ulid");
  ASSERT_TRUE(sign_event(e, peer));
  EXPECT_EQ(log->append_received(e).error().code, ErrorCode::bad_request);
  EXPECT_EQ(*log->count(), 0);
}

TEST_F(EventLogTest, RangeQueriesAndFingerprints) {
  auto log_a = open_log();
  auto other_dir = hn::test::TempDir();
  auto log_b = *EventLog::open(other_dir / "b.db", community, peer);
  std::vector<Event> events;
  for (Lamport l = 1; l <= 8; ++l) {
    events.push_back(make_signed(peer, community, EventType::chat_message_sent, l, Json{{"l", l}}));
  }
  for (const auto& e : events) ASSERT_TRUE(log_a->append_received(e));
  std::reverse(events.begin(), events.end());
  ASSERT_TRUE(log_b->append_received_batch(events));

  auto ids = log_a->ids_in_range(3, 5);
  ASSERT_TRUE(ids.has_value());
  ASSERT_EQ(ids->size(), 3u);
  EXPECT_EQ((*ids)[0].first, 3);
  EXPECT_EQ((*ids)[2].first, 5);

  auto fa = *log_a->range_fingerprint(1, 8);
  auto fb = *log_b->range_fingerprint(1, 8);
  EXPECT_EQ(fa, fb);
  EXPECT_EQ(fa.count, 8);
  EXPECT_EQ(fa.hex().size(), 64u);
  // Composable: fp(1..8) = fp(1..3) xor fp(4..8).
  auto lo = *log_a->range_fingerprint(1, 3);
  auto hi = *log_a->range_fingerprint(4, 8);
  for (std::size_t i = 0; i < lo.digest.size(); ++i) lo.digest[i] ^= hi.digest[i];
  EXPECT_EQ(lo.digest, fa.digest);
  // A missing event changes the fingerprint.
  ASSERT_TRUE(log_b->append_local(EventType::chat_message_sent, Json::object()));
  EXPECT_NE(*log_b->range_fingerprint(1, 100), *log_a->range_fingerprint(1, 100));
  EXPECT_EQ(log_a->range_fingerprint(50, 60)->count, 0);
}

TEST_F(EventLogTest, ConcurrentWritersKeepOneTotalOrder) {
  auto log = open_log();
  std::atomic<int> delivered{0};
  auto sub = log->subscribe([&](const Event&) { ++delivered; });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if (t % 2 == 0) {
          ASSERT_TRUE(log->append_local(EventType::chat_message_sent, Json{{"t", t}}));
        } else {
          ASSERT_TRUE(log->append_received(
              make_signed(peer, community, EventType::chat_message_sent, 1 + i, Json{{"t", t}})));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(*log->count(), 100);
  EXPECT_EQ(delivered.load(), 100);
  auto all = *log->read_events();
  std::set<Lamport> local_lamports;
  for (const auto& e : all) {
    if (e.author == keys.node_id()) {
      EXPECT_TRUE(local_lamports.insert(e.lamport).second);
    }
  }
  EXPECT_EQ(local_lamports.size(), 50u);
}

}  // namespace
}  // namespace hn::events
