// tracing_test.cpp — X03 §5: traces, scoped spans, ring buffer, JSON form.
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/constants.h"
#include "core/ulid.h"
#include "observability/tracing.h"

namespace hn::observability {
namespace {

constexpr std::int64_t kT0 = 1'779'783'262'000;  // 2026-05-26T08:14:22.000Z

Trace make_trace(int i, std::string capability = "llm.chat") {
  Trace t;
  t.trace_id = "T" + std::to_string(i);
  t.capability = std::move(capability);
  t.started_at_ms = kT0 + i;
  t.ended_at_ms = kT0 + i + 1;
  return t;
}

TEST(Tracing, ScopedSpansRecordTimesAndExtras) {
  ManualClock clock(kT0);
  ActiveTrace trace("llm.chat", clock);
  EXPECT_TRUE(is_valid_ulid(trace.trace_id()));
  {
    auto route = trace.span("route", {{"to", "7H4G"}});
    clock.advance_ms(3);
    route.set_extra("score", 0.5);
  }
  {
    SpanTimer generate = trace.span("generate");
    clock.advance_ms(40);
    generate.end();
    clock.advance_ms(7);
    generate.end();  // idempotent
  }
  trace.set_result("timeout");
  const Trace& t = trace.finish();
  ASSERT_EQ(t.spans.size(), 2u);
  EXPECT_EQ(t.spans[0].name, "route");
  EXPECT_EQ(t.spans[0].duration_ms(), 3);
  EXPECT_EQ(t.spans[0].extras["to"], "7H4G");
  EXPECT_EQ(t.spans[0].extras["score"], 0.5);
  EXPECT_EQ(t.spans[1].duration_ms(), 40);
  EXPECT_EQ(t.duration_ms(), 50);
  EXPECT_TRUE(t.is_error());
}

TEST(Tracing, AttachKeepsIncomingTraceId) {
  ManualClock clock(kT0);
  ActiveTrace trace("rag.query", "01HXR0000000000000000000AA", clock);
  TraceRing ring(4);
  trace.finish_into(ring);
  auto found = ring.by_trace("01HXR0000000000000000000AA");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].capability, "rag.query");
  EXPECT_EQ(found[0].result, "ok");
  EXPECT_TRUE(ring.by_trace("nope").empty());
}

TEST(TraceRing, WrapsAtCapacityKeepingNewest) {
  TraceRing ring(5);
  for (int i = 0; i < 12; ++i) ring.record(make_trace(i));
  EXPECT_EQ(ring.size(), 5u);
  auto recent = ring.recent(100);
  ASSERT_EQ(recent.size(), 5u);
  for (int k = 0; k < 5; ++k) EXPECT_EQ(recent[k].trace_id, "T" + std::to_string(11 - k));
  auto two = ring.recent(2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].trace_id, "T11");
  EXPECT_EQ(two[1].trace_id, "T10");
  EXPECT_TRUE(ring.by_trace("T6").empty());
  EXPECT_EQ(ring.by_trace("T7").size(), 1u);
  ring.clear();
  EXPECT_EQ(ring.size(), 0u);
  EXPECT_TRUE(ring.recent().empty());
}

TEST(TraceRing, DefaultCapacityIsTraceRingBuffer) {
  TraceRing ring;
  EXPECT_EQ(ring.capacity(), static_cast<std::size_t>(TRACE_RING_BUFFER));
  for (int i = 0; i < TRACE_RING_BUFFER + 3; ++i) ring.record(make_trace(i));
  EXPECT_EQ(ring.size(), static_cast<std::size_t>(TRACE_RING_BUFFER));
  EXPECT_EQ(ring.recent(1)[0].trace_id, "T" + std::to_string(TRACE_RING_BUFFER + 2));
  EXPECT_TRUE(ring.by_trace("T2").empty());
  EXPECT_EQ(ring.by_trace("T3").size(), 1u);
  EXPECT_EQ(&default_trace_ring(), &default_trace_ring());
}

TEST(TraceRing, FiltersByCapability) {
  TraceRing ring(10);
  for (int i = 0; i < 8; ++i) ring.record(make_trace(i, i % 2 == 0 ? "llm.chat" : "rag.query"));
  auto rag = ring.recent(3, "rag.query");
  ASSERT_EQ(rag.size(), 3u);
  EXPECT_EQ(rag[0].trace_id, "T7");
  EXPECT_EQ(rag[1].trace_id, "T5");
  EXPECT_EQ(rag[2].trace_id, "T3");
  EXPECT_EQ(ring.recent(100, "llm.chat").size(), 4u);
  EXPECT_TRUE(ring.recent(100, "file.get").empty());
}

TEST(TraceRing, ConcurrentRecordsAreAllCounted) {
  TraceRing ring(100000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&ring, t] {
      for (int i = 0; i < 1000; ++i) ring.record(make_trace(t * 1000 + i));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ring.size(), 4000u);
}

TEST(Tracing, JsonRoundTrip) {
  ManualClock clock(kT0 + 281);
  ActiveTrace active("llm.chat", "01HXR0000000000000000000AA", clock);
  {
    auto s = active.span("generate", {{"tokens_out", 12}});
    clock.advance_ms(12);
  }
  Trace t = active.finish();
  Json j = trace_to_json(t);
  EXPECT_EQ(j["trace_id"], "01HXR0000000000000000000AA");
  EXPECT_EQ(j["started_at"], "2026-05-26T08:14:22.281Z");
  EXPECT_EQ(j["ended_at"], "2026-05-26T08:14:22.293Z");
  EXPECT_EQ(j["duration_ms"], 12);
  EXPECT_EQ(j["result"], "ok");
  EXPECT_EQ(j["spans"][0]["name"], "generate");
  EXPECT_EQ(j["spans"][0]["extras"]["tokens_out"], 12);

  auto back = trace_from_json(j);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->trace_id, t.trace_id);
  EXPECT_EQ(back->started_at_ms, t.started_at_ms);
  EXPECT_EQ(back->ended_at_ms, t.ended_at_ms);
  ASSERT_EQ(back->spans.size(), 1u);
  EXPECT_EQ(back->spans[0].duration_ms(), 12);

  Span open{"pending", kT0, std::nullopt, Json::object()};
  Json oj = span_to_json(open);
  EXPECT_TRUE(oj["ended_at"].is_null());
  EXPECT_TRUE(oj["duration_ms"].is_null());
  auto open_back = span_from_json(oj);
  ASSERT_TRUE(open_back);
  EXPECT_FALSE(open_back->ended_at_ms);

  EXPECT_FALSE(trace_from_json(Json::array()));
  Json bad = j;
  bad["started_at"] = "yesterday";
  EXPECT_FALSE(trace_from_json(bad));
  bad = j;
  bad["spans"] = Json::array({1});
  EXPECT_FALSE(trace_from_json(bad));
}

}  // namespace
}  // namespace hn::observability
