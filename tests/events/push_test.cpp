// push_test.cpp — pushed events (events/push.h, issue #13 §1): the wire form is parsed
// strictly and round-trips; a push is stored with the sync checks and reports what was new
// (so only that is relayed); the outbox batches under load, keeps one batch in flight per
// peer, never claims a node saw an event it was not sent, and bounds its queues.
#include "events/push.h"

#include <gtest/gtest.h>

#include "events_test_util.h"

namespace hn::events {
namespace {

using test::key_from_byte;
using test::make_signed;

class PushTest : public test::LogFixture {
 protected:
  Event event(Lamport l) {
    return make_signed(keys, community, EventType::chat_message_sent, l, Json{{"text", "hi"}});
  }
  static std::shared_ptr<const std::vector<NodeId>> seen(std::vector<NodeId> ids) {
    std::sort(ids.begin(), ids.end());
    return std::make_shared<const std::vector<NodeId>>(std::move(ids));
  }
  NodeId node(std::uint8_t b) { return key_from_byte(b).node_id(); }
};

TEST_F(PushTest, RequestRoundTripsAndSortsSeenBy) {
  PushRequest r{community, {event(1), event(2)}, {node(9), node(3), node(9)}};
  auto parsed = parse_push_request(to_json(r));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
  ASSERT_EQ(parsed->events.size(), 2u);
  ASSERT_EQ(parsed->seen_by.size(), 2u);  // distinct
  EXPECT_TRUE(std::is_sorted(parsed->seen_by.begin(), parsed->seen_by.end()));
  EXPECT_EQ(to_json(*parse_push_request(to_json(*parsed))), to_json(*parsed));
}

TEST_F(PushTest, MalformedRequestsAreBadRequest) {
  const Json good = to_json(PushRequest{community, {event(1)}, {node(3)}});
  auto with = [&](const char* key, Json value) {
    Json j = good;
    if (value.is_discarded()) {
      j.erase(key);
    } else {
      j[key] = std::move(value);
    }
    return parse_push_request(j);
  };
  auto expect_bad = [](const Result<PushRequest>& r) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::bad_request) << r.error().to_string();
  };
  expect_bad(with("seen_by", Json(Json::value_t::discarded)));
  expect_bad(with("seen_by", "x"));
  expect_bad(with("seen_by", Json::array({"not-a-node"})));
  expect_bad(with("seen_by", Json::array({1})));
  expect_bad(with("events", Json::array()));
  expect_bad(with("events", "x"));
  expect_bad(with("community_id", 5));
  expect_bad(parse_push_request(Json::array()));
  expect_bad(parse_push_request(Json("text")));
  Json many = good;
  many["seen_by"] = Json::array();
  for (std::size_t i = 0; i <= PUSH_MAX_SEEN_BY; ++i) many["seen_by"].push_back(node(3).str());
  EXPECT_FALSE(parse_push_request(many).has_value());
}

TEST_F(PushTest, ServeStoresWithTheSyncChecksAndReportsWhatWasNew) {
  auto receiver_keys = key_from_byte(7);
  auto log = EventLog::open(dir / "receiver.db", community, receiver_keys).value();
  SyncServer server(*log);
  const Event a = event(1), b = event(2);
  Event forged = event(3);
  forged.data = Json{{"text", "changed after signing"}};

  auto first = serve_push(server, PushRequest{community, {a, b, forged}, {}});
  ASSERT_TRUE(first.has_value()) << first.error().to_string();
  EXPECT_EQ(first->reply.accepted, 2);
  EXPECT_EQ(first->reply.rejected, 1);
  ASSERT_EQ(first->stored.size(), 2u);
  EXPECT_EQ(first->stored[0].event_id, a.event_id);
  // The same push again: duplicates, nothing new, nothing to relay.
  auto again = serve_push(server, PushRequest{community, {a, b}, {}});
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->reply.duplicates, 2);
  EXPECT_TRUE(again->stored.empty());
  EXPECT_EQ(*log->count(), 2);
  // Another community's push is refused whole.
  auto other = serve_push(server, PushRequest{CommunityId(node(5).str()), {event(4)}, {}});
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code, ErrorCode::wrong_community);
}

TEST_F(PushTest, OutboxBatchesWhileABatchIsInFlight) {
  PushOutbox box(/*max_batch=*/3, /*max_queued=*/100, /*min_gap_ms=*/0);
  const NodeId p = node(3), q = node(4);
  auto s = seen({node(1), p, q});
  box.add(std::make_shared<const Event>(event(1)), s, {p, q});
  EXPECT_EQ(box.ready().size(), 2u);
  auto first = box.take(p);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->events.size(), 1u);
  EXPECT_EQ(first->seen_by, *s);
  // While p's batch is out, new events wait for it — then go together, max_batch at a time.
  for (Lamport l = 2; l <= 6; ++l) box.add(std::make_shared<const Event>(event(l)), s, {p});
  EXPECT_FALSE(box.take(p).has_value());
  box.finish(p);
  auto second = box.take(p);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->events.size(), 3u);
  EXPECT_EQ(second->events[0].lamport, 2);
  box.finish(p);
  EXPECT_EQ(box.take(p)->events.size(), 2u);
  box.finish(p);
  EXPECT_FALSE(box.take(p).has_value());
  EXPECT_EQ(box.stats().queued, 1);  // q's
}

TEST_F(PushTest, OutboxSeenByIsTheIntersectionAndQueuesAreBounded) {
  PushOutbox box(/*max_batch=*/10, /*max_queued=*/4, /*min_gap_ms=*/0);
  const NodeId p = node(3);
  box.add(std::make_shared<const Event>(event(1)), seen({node(1), node(2), p}), {p});
  box.add(std::make_shared<const Event>(event(2)), seen({node(1), p}), {p});
  auto batch = box.take(p);
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->seen_by, *seen({node(1), p}));
  box.finish(p);
  for (Lamport l = 1; l <= 6; ++l) box.add(std::make_shared<const Event>(event(l)), seen({}), {p});
  EXPECT_EQ(box.stats().queued, 4);
  EXPECT_EQ(box.stats().dropped, 2);
  EXPECT_EQ(box.take(p)->events.front().lamport, 3);  // the oldest went first
  box.drop_peer(p);
  EXPECT_EQ(box.stats().dropped, 2);  // nothing was left queued
  EXPECT_EQ(box.stats().in_flight, 1);
  box.finish(p);
  EXPECT_EQ(box.stats().in_flight, 0);
}

TEST_F(PushTest, OutboxPacesBatchesToOnePeer) {
  PushOutbox box(/*max_batch=*/10, /*max_queued=*/100, /*min_gap_ms=*/150);
  const NodeId p = node(3);
  box.add(std::make_shared<const Event>(event(1)), seen({}), {p});
  ASSERT_TRUE(box.take(p, 1000).has_value());  // idle: at once
  box.finish(p);
  box.add(std::make_shared<const Event>(event(2)), seen({}), {p});
  box.add(std::make_shared<const Event>(event(3)), seen({}), {p});
  EXPECT_FALSE(box.take(p, 1100).has_value());  // too soon: they gather
  EXPECT_EQ(box.next_due_ms(), 1150);
  EXPECT_TRUE(box.arm_wakeup());
  EXPECT_FALSE(box.arm_wakeup());  // one timer at a time
  box.wakeup_fired();
  auto batch = box.take(p, 1150);
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->events.size(), 2u);
  EXPECT_FALSE(box.next_due_ms().has_value());  // nothing waits
}

TEST_F(PushTest, MergeSeenByAddsSelfAndTargets) {
  auto merged = merge_seen_by({node(5), node(3)}, node(1), {node(3), node(4)});
  EXPECT_EQ(merged, *seen({node(1), node(3), node(4), node(5)}));
}

}  // namespace
}  // namespace hn::events
