// protocol_test.cpp — ReplayGuard (DESIGN.md), RateLimiter (X01 §7), SSE (CONTRACT §5.3),
// FlowControl (X01 §6.3) and TopicRing (CONTRACT §8); all pure, driven by a ManualClock.
#include <gtest/gtest.h>

#include "core/time.h"
#include "transport/envelope.h"
#include "transport/flow_control.h"
#include "transport/rate_limiter.h"
#include "transport/replay_guard.h"
#include "transport/sse.h"
#include "transport/topic_ring.h"

namespace hn::transport {
namespace {

RequestEnvelope envelope_at(const ManualClock& clock, std::int64_t offset_s, std::string id,
                            std::string from = "ed25519:a") {
  RequestEnvelope e;
  e.from = std::move(from);
  e.request_id = std::move(id);
  e.timestamp = format_rfc3339(clock.now_seconds() + offset_s);
  return e;
}

TEST(TransportReplayGuard, OldOrFutureTimestampIsExpired) {
  ManualClock clock;
  ReplayGuard guard(clock);
  EXPECT_EQ(guard.check(envelope_at(clock, -61, "a")).error().code, ErrorCode::expired);
  EXPECT_EQ(guard.check(envelope_at(clock, 61, "b")).error().code, ErrorCode::expired);
  EXPECT_TRUE(guard.check(envelope_at(clock, -60, "c")).has_value());
  EXPECT_TRUE(guard.check(envelope_at(clock, 60, "d")).has_value());
}

TEST(TransportReplayGuard, ReusedRequestIdIsRejectedWithinWindow) {
  ManualClock clock;
  ReplayGuard guard(clock);
  EXPECT_TRUE(guard.check(envelope_at(clock, 0, "id1")).has_value());
  auto again = guard.check(envelope_at(clock, 0, "id1"));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::bad_request);
  // Another caller may use the same id (ids are keyed by caller).
  EXPECT_TRUE(guard.check(envelope_at(clock, 0, "id1", "ed25519:b")).has_value());
  clock.advance_seconds(REQUEST_ID_REPLAY_WINDOW_SECONDS + 1);
  EXPECT_EQ(guard.size(), 2u);
  // Past the window the id is forgotten (a fresh timestamp is needed anyway).
  EXPECT_TRUE(guard.check(envelope_at(clock, 0, "id1")).has_value());
  EXPECT_EQ(guard.size(), 1u);
}

TEST(TransportReplayGuard, BoundedMemory) {
  ManualClock clock;
  ReplayGuard guard(clock, 2);
  EXPECT_TRUE(guard.check(envelope_at(clock, 0, "1")).has_value());
  EXPECT_TRUE(guard.check(envelope_at(clock, 0, "2")).has_value());
  EXPECT_EQ(guard.check(envelope_at(clock, 0, "3")).error().code, ErrorCode::capacity_exceeded);
}

TEST(TransportRateLimiter, SoftThenHardPerCapability) {
  ManualClock clock;
  RateLimiter rl(clock);
  for (int i = 0; i < RATE_LIMIT_SOFT_RPS_PER_CAP; ++i) {
    EXPECT_TRUE(rl.check("p", "llm.chat").allowed) << i;
  }
  auto soft = rl.check("p", "llm.chat");
  EXPECT_FALSE(soft.allowed);
  EXPECT_TRUE(soft.soft_exceeded);
  EXPECT_FALSE(soft.hard_exceeded);
  EXPECT_GT(soft.retry_after_ms, 0);
  EXPECT_LE(soft.retry_after_ms, 1000 / RATE_LIMIT_SOFT_RPS_PER_CAP);
  // Another capability of the same peer has its own bucket.
  EXPECT_TRUE(rl.check("p", "rag.query").allowed);
  // Keep hammering without waiting: soft-limited until the hard bucket is empty.
  int soft_count = 1;
  RateCheck r;
  for (;;) {
    r = rl.check("p", "llm.chat");
    if (r.hard_exceeded) break;
    EXPECT_TRUE(r.soft_exceeded);
    ++soft_count;
  }
  EXPECT_EQ(soft_count + RATE_LIMIT_SOFT_RPS_PER_CAP, RATE_LIMIT_HARD_RPS_PER_CAP);
  EXPECT_FALSE(r.allowed);
  // Time refills: after the retry delay one more call is allowed.
  clock.advance_ms(1000);
  EXPECT_TRUE(rl.check("p", "llm.chat").allowed);
}

TEST(TransportRateLimiter, RetryAfterIsHonourable) {
  ManualClock clock;
  RateLimiter rl(clock);
  for (int i = 0; i < RATE_LIMIT_SOFT_RPS_PER_CAP; ++i) ASSERT_TRUE(rl.check("p", "c").allowed);
  auto r = rl.check("p", "c");
  ASSERT_TRUE(r.soft_exceeded);
  clock.advance_ms(r.retry_after_ms);
  EXPECT_TRUE(rl.check("p", "c").allowed);
}

TEST(TransportRateLimiter, PerPeerTotalAcrossCapabilities) {
  ManualClock clock;
  RateLimiter rl(clock);
  int allowed = 0;
  for (int cap = 0; cap < 20; ++cap) {
    for (int i = 0; i < RATE_LIMIT_SOFT_RPS_PER_CAP; ++i) {
      if (rl.check("p", "cap" + std::to_string(cap)).allowed) ++allowed;
    }
  }
  EXPECT_EQ(allowed, RATE_LIMIT_SOFT_RPS_TOTAL);
  EXPECT_TRUE(rl.check("q", "cap0").allowed);  // other peers unaffected
  clock.advance_seconds(60);
  EXPECT_TRUE(rl.check("p", "cap0").allowed);
  EXPECT_LE(rl.tracked_keys(), 4u);  // idle full buckets pruned
}

TEST(TransportSse, EncodeParseRoundTrip) {
  std::string wire;
  for (int i = 1; i <= 3; ++i) {
    wire += encode_frame(Frame{"token", Json{{"text", "line\nbreak " + std::to_string(i)}}, i});
  }
  wire += encode_comment("keep-alive");
  wire += encode_frame(Frame{"done", Json{{"ms", 5}}, 4});
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.feed(wire, events).has_value());
  ASSERT_EQ(events.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    auto f = to_frame(events[static_cast<size_t>(i)]);
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->event, "token");
    EXPECT_EQ(f->seq, i + 1);
    EXPECT_EQ(f->data["text"], "line\nbreak " + std::to_string(i + 1));
  }
  auto done = to_frame(events[3]);
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(is_terminal_event(done->event));
  EXPECT_EQ(done->data["ms"], 5);
}

TEST(TransportSse, SplitAtEveryByteAndLineEndings) {
  std::string wire = "\xEF\xBB\xBFid: 1\r\nevent: chunk\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\n"
                     ": comment\rid: 2\revent: done\rdata: {}\r\r"
                     "id: 3\nevent: error\ndata:{\"error\":\"timeout\"}\n\n";
  for (size_t step = 1; step <= 4; ++step) {
    SseParser parser;
    std::vector<SseEvent> events;
    for (size_t i = 0; i < wire.size(); i += step) {
      ASSERT_TRUE(parser.feed(std::string_view(wire).substr(i, step), events).has_value());
    }
    ASSERT_EQ(events.size(), 3u) << step;
    EXPECT_EQ(events[0].event, "chunk");
    EXPECT_EQ(events[0].data, "{\"a\":\n1}");
    EXPECT_EQ(events[0].id, "1");
    EXPECT_EQ(events[1].event, "done");
    EXPECT_EQ(events[1].id, "2");
    EXPECT_EQ(events[2].data, "{\"error\":\"timeout\"}");
    EXPECT_EQ(to_frame(events[0])->data["a"], 1);
  }
}

TEST(TransportSse, LimitsAndBadFrames) {
  SseParser parser(16);
  std::vector<SseEvent> events;
  EXPECT_FALSE(parser.feed("data: 0123456789abcdefXYZ", events).has_value());
  EXPECT_TRUE(parser.failed());
  EXPECT_FALSE(parser.feed("\n\n", events).has_value());
  EXPECT_FALSE(to_frame(SseEvent{"token", "{}", ""}).has_value());
  EXPECT_FALSE(to_frame(SseEvent{"token", "{}", "-1"}).has_value());
  EXPECT_FALSE(to_frame(SseEvent{"token", "{", "1"}).has_value());
  EXPECT_FALSE(to_frame(SseEvent{"bad name", "{}", "1"}).has_value());
  // An event without data lines is not dispatched.
  SseParser p2;
  ASSERT_TRUE(p2.feed("event: x\n\n", events).has_value());
  EXPECT_TRUE(events.empty());
}

TEST(TransportSse, AckLinesAndBatchedFrames) {
  EXPECT_EQ(parse_ack_line("ack 8"), 8);
  EXPECT_EQ(parse_ack_line("ack 16\r"), 16);
  EXPECT_EQ(parse_ack_line("ack 0"), 0);
  for (const char* bad : {"", "ack", "ack ", "ack -1", "ack 1x", "ACK 8", "nack 8", " ack 8",
                          "ack 9999999999999999999"}) {
    EXPECT_FALSE(parse_ack_line(bad).has_value()) << bad;
  }
  // append_frame writes what encode_frame writes, frame after frame.
  std::string batch;
  append_frame(batch, 1, "token", canonical_json(Json{{"b", 2}, {"a", 1}}));
  append_frame(batch, 2, "done", "{}");
  EXPECT_EQ(batch, encode_frame(Frame{"token", Json{{"a", 1}, {"b", 2}}, 1}) +
                       encode_frame(Frame{"done", Json::object(), 2}));
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.feed(batch, events).has_value());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(to_frame(events[1])->event, "done");
}

TEST(TransportFlowControl, WindowBlocksUntilAck) {
  FlowControl fc;
  for (int i = 1; i <= STREAM_WINDOW_FRAMES; ++i) {
    ASSERT_TRUE(fc.can_send());
    EXPECT_EQ(fc.on_sent(), i);
  }
  EXPECT_FALSE(fc.can_send());
  EXPECT_EQ(fc.window_used(), STREAM_WINDOW_FRAMES);
  EXPECT_TRUE(fc.ack(STREAM_ACK_INTERVAL_FRAMES).has_value());
  EXPECT_TRUE(fc.can_send());
  EXPECT_EQ(fc.window_used(), STREAM_WINDOW_FRAMES - STREAM_ACK_INTERVAL_FRAMES);
  EXPECT_TRUE(fc.ack(3).has_value());  // stale: ignored
  EXPECT_EQ(fc.acked(), STREAM_ACK_INTERVAL_FRAMES);
  EXPECT_FALSE(fc.ack(1000).has_value());
}

TEST(TransportFlowControl, ReceiverAcksEveryInterval) {
  FlowControl fc;
  int acks = 0;
  for (int seq = 1; seq <= 40; ++seq) {
    fc.on_received(seq);
    if (fc.needs_ack()) {
      ++acks;
      EXPECT_EQ(fc.take_ack(), seq);
      EXPECT_EQ(seq % STREAM_ACK_INTERVAL_FRAMES, 0);
    }
  }
  EXPECT_EQ(acks, 40 / STREAM_ACK_INTERVAL_FRAMES);
}

TEST(TransportTopicRing, SequenceGapAndBound) {
  TopicRing ring(4);
  EXPECT_TRUE(ring.since(0).messages.empty());
  for (int i = 1; i <= 6; ++i) EXPECT_EQ(ring.push(Json{{"n", i}}), i);
  EXPECT_EQ(ring.size(), 4u);
  auto all = ring.since(0);
  EXPECT_TRUE(all.gap);
  ASSERT_EQ(all.messages.size(), 4u);
  EXPECT_EQ(all.messages.front().seq, 3);
  auto tail = ring.since(4);
  EXPECT_FALSE(tail.gap);
  ASSERT_EQ(tail.messages.size(), 2u);
  EXPECT_EQ(tail.messages[0].payload["n"], 5);
  EXPECT_TRUE(ring.since(6).messages.empty());
  EXPECT_EQ(ring.since(99).messages.size(), 4u);  // stale subscriber restarts
  EXPECT_EQ(ring.since(0, 2).messages.size(), 2u);
  EXPECT_TRUE(is_valid_topic("chat.message.ed25519:abc-_"));
  EXPECT_FALSE(is_valid_topic(""));
  EXPECT_FALSE(is_valid_topic("a b"));
}

}  // namespace
}  // namespace hn::transport
