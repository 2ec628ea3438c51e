// health_test.cpp — rolling window, quarantine threshold, single probe (M03 §3.3, §5.7).
#include "bus/health.h"

#include <gtest/gtest.h>

namespace hn::bus {
namespace {

const EntryKey KEY{NodeId("ed25519:node-a"), "diag.echo", Version{1, 0}};

TEST(BusHealth, NoQuarantineBelowMinimumSamples) {
  ManualClock clock;
  HealthTracker h(clock);
  for (int i = 0; i < HEALTH_MIN_SAMPLES - 1; ++i) h.record(KEY, false, 10);
  EXPECT_FALSE(h.is_quarantined(KEY));
  EXPECT_EQ(h.admit(KEY), Admission::normal);
  h.record(KEY, false, 10);
  EXPECT_TRUE(h.is_quarantined(KEY));
  EXPECT_EQ(h.quarantines_total(), 1u);
}

TEST(BusHealth, QuarantinesAtThreshold) {
  ManualClock clock;
  HealthTracker h(clock);
  // 5 ok + 5 failed = 0.5, not below the threshold.
  for (int i = 0; i < 5; ++i) h.record(KEY, true, 10);
  for (int i = 0; i < 5; ++i) h.record(KEY, false, 10);
  EXPECT_DOUBLE_EQ(h.stats(KEY).success_rate, 0.5);
  EXPECT_FALSE(h.is_quarantined(KEY));
  h.record(KEY, false, 10);  // 5/11 < 0.5
  EXPECT_TRUE(h.is_quarantined(KEY));
  EXPECT_EQ(h.admit(KEY), Admission::rejected);
  EXPECT_EQ(h.stats(KEY).quarantined_until_ms, clock.now_ms() + HEALTH_QUARANTINE_SECONDS * 1000);
}

TEST(BusHealth, WindowDropsOldSamples) {
  ManualClock clock;
  HealthTracker h(clock, /*window=*/10);
  for (int i = 0; i < 2; ++i) h.record(KEY, false, 10);
  for (int i = 0; i < 3; ++i) h.record(KEY, true, 10);
  EXPECT_DOUBLE_EQ(h.stats(KEY).success_rate, 0.6);
  for (int i = 0; i < 10; ++i) h.record(KEY, true, 10);
  EXPECT_DOUBLE_EQ(h.stats(KEY).success_rate, 1.0);  // the two failures dropped off
  EXPECT_EQ(h.stats(KEY).samples, 10);
  EXPECT_FALSE(h.is_quarantined(KEY));
}

TEST(BusHealth, ExactlyOneProbeAfterQuarantineThenHealthyOnSuccess) {
  ManualClock clock;
  HealthTracker h(clock);
  for (int i = 0; i < 5; ++i) h.record(KEY, false, 10);
  ASSERT_TRUE(h.is_quarantined(KEY));
  clock.advance_seconds(HEALTH_QUARANTINE_SECONDS - 1);
  EXPECT_EQ(h.admit(KEY), Admission::rejected);
  clock.advance_seconds(1);
  EXPECT_FALSE(h.is_quarantined(KEY));
  EXPECT_TRUE(h.stats(KEY).probe_available);
  EXPECT_EQ(h.admit(KEY), Admission::probe);
  // While the probe is out, everyone else is refused.
  EXPECT_TRUE(h.is_quarantined(KEY));
  EXPECT_EQ(h.admit(KEY), Admission::rejected);
  h.record(KEY, true, 7, Admission::probe);
  EXPECT_FALSE(h.is_quarantined(KEY));
  EXPECT_EQ(h.admit(KEY), Admission::normal);
  auto st = h.stats(KEY);
  EXPECT_EQ(st.samples, 1);  // history reset, probe sample kept
  EXPECT_DOUBLE_EQ(st.success_rate, 1.0);
  EXPECT_FALSE(st.quarantined);
}

TEST(BusHealth, ProbeFailureRequarantinesImmediately) {
  ManualClock clock;
  HealthTracker h(clock);
  for (int i = 0; i < 5; ++i) h.record(KEY, false, 10);
  clock.advance_seconds(HEALTH_QUARANTINE_SECONDS);
  ASSERT_EQ(h.admit(KEY), Admission::probe);
  h.record(KEY, false, 10, Admission::probe);
  EXPECT_TRUE(h.is_quarantined(KEY));
  EXPECT_EQ(h.admit(KEY), Admission::rejected);
  EXPECT_EQ(h.stats(KEY).quarantined_until_ms, clock.now_ms() + HEALTH_QUARANTINE_SECONDS * 1000);
  EXPECT_EQ(h.quarantines_total(), 2u);
  clock.advance_seconds(HEALTH_QUARANTINE_SECONDS);
  EXPECT_EQ(h.admit(KEY), Admission::probe);
}

TEST(BusHealth, ReleasedProbeIsAvailableAgain) {
  ManualClock clock;
  HealthTracker h(clock);
  for (int i = 0; i < 5; ++i) h.record(KEY, false, 10);
  clock.advance_seconds(HEALTH_QUARANTINE_SECONDS);
  ASSERT_EQ(h.admit(KEY), Admission::probe);
  h.release(KEY, Admission::probe);
  EXPECT_EQ(h.admit(KEY), Admission::probe);
}

TEST(BusHealth, LatencyPercentilesAndReset) {
  ManualClock clock;
  HealthTracker h(clock);
  for (int i = 1; i <= 100; ++i) h.record(KEY, true, i);
  auto st = h.stats(KEY);
  EXPECT_DOUBLE_EQ(st.p50_latency_ms, 50);
  EXPECT_DOUBLE_EQ(st.p99_latency_ms, 99);
  h.reset(KEY);
  EXPECT_EQ(h.stats(KEY).samples, 0);
  h.record(KEY, true, 1);
  h.forget_node(KEY.node_id);
  EXPECT_EQ(h.stats(KEY).samples, 0);
}

}  // namespace
}  // namespace hn::bus
