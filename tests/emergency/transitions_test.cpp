// transitions_test.cpp — M09 §4 with a fake clock: the transition table, the debounce
// (degraded → offline only after ≥ 2 failures for 30 s), recovery (all pass for 10 s) and
// the flap guard (> 3 transitions in 60 s → stay pessimistic). M09 §8
// test_state_transitions_with_synthetic_probes, test_anti_flap_holds_pessimistic_state.
#include "emergency/transitions.h"

#include <gtest/gtest.h>

namespace hn::emergency {
namespace {

constexpr std::int64_t S = 1000;  // one second in ms

TEST(Classify, AllPassPartialAndTwoFailures) {
  EXPECT_EQ(classify(4, 0), Verdict::pass);
  EXPECT_EQ(classify(4, 1), Verdict::partial);
  EXPECT_EQ(classify(4, 2), Verdict::fail);
  EXPECT_EQ(classify(4, 4), Verdict::fail);
  // With one target, its failure is all there is (M09 §5.1's "≥ 2" cannot apply).
  EXPECT_EQ(classify(1, 1), Verdict::fail);
  EXPECT_EQ(classify(2, 1), Verdict::partial);
}

TEST(ModeMachine, OneFailureDegradesAtOnce) {
  ModeMachine m(Timings{}, Mode::online);
  EXPECT_EQ(m.observe(Verdict::pass, 0), std::nullopt);
  EXPECT_EQ(m.observe(Verdict::partial, 10 * S), Mode::degraded);
  ModeMachine m2(Timings{}, Mode::online);
  EXPECT_EQ(m2.observe(Verdict::fail, 0), Mode::degraded);  // never straight to offline
}

TEST(ModeMachine, OfflineOnlyAfterFailuresHeldForTheDebounce) {
  ModeMachine m(Timings{}, Mode::online);
  ASSERT_EQ(m.observe(Verdict::fail, 0), Mode::degraded);
  for (std::int64_t t = 2; t < 30; t += 2) {
    EXPECT_EQ(m.observe(Verdict::fail, t * S), std::nullopt) << t;
  }
  EXPECT_EQ(m.observe(Verdict::fail, 30 * S), Mode::offline);
  EXPECT_EQ(m.mode(), Mode::offline);
}

TEST(ModeMachine, ABreakInTheFailuresRestartsTheDebounce) {
  ModeMachine m(Timings{}, Mode::online);
  ASSERT_EQ(m.observe(Verdict::fail, 0), Mode::degraded);
  EXPECT_EQ(m.observe(Verdict::fail, 20 * S), std::nullopt);
  EXPECT_EQ(m.observe(Verdict::partial, 22 * S), std::nullopt);  // one target back
  EXPECT_EQ(m.observe(Verdict::fail, 24 * S), std::nullopt);
  EXPECT_EQ(m.observe(Verdict::fail, 53 * S), std::nullopt);      // 29 s since 24
  EXPECT_EQ(m.observe(Verdict::fail, 54 * S), Mode::offline);
}

TEST(ModeMachine, RecoveryNeedsEveryProbeToPassForTenSeconds) {
  ModeMachine m(Timings{}, Mode::offline);
  EXPECT_EQ(m.observe(Verdict::pass, 0), std::nullopt);
  EXPECT_EQ(m.observe(Verdict::pass, 8 * S), std::nullopt);
  EXPECT_EQ(m.observe(Verdict::pass, 10 * S), Mode::online);
  // From degraded too.
  ModeMachine d(Timings{}, Mode::degraded);
  EXPECT_EQ(d.observe(Verdict::pass, 0), std::nullopt);
  EXPECT_EQ(d.observe(Verdict::partial, 5 * S), std::nullopt);
  EXPECT_EQ(d.observe(Verdict::pass, 6 * S), std::nullopt);
  EXPECT_EQ(d.observe(Verdict::pass, 15 * S), std::nullopt);  // 9 s since the streak began
  EXPECT_EQ(d.observe(Verdict::pass, 16 * S), Mode::online);
}

TEST(ModeMachine, OfflineTurnsDegradedWhenFewerThanTwoFailForTheRecoveryTime) {
  ModeMachine m(Timings{}, Mode::offline);
  EXPECT_EQ(m.observe(Verdict::partial, 0), std::nullopt);
  EXPECT_EQ(m.observe(Verdict::partial, 9 * S), std::nullopt);
  EXPECT_EQ(m.observe(Verdict::partial, 10 * S), Mode::degraded);
}

TEST(ModeMachine, FlapGuardHoldsThePessimisticModeUntilTheWindowPasses) {
  Timings t;
  t.recovery = std::chrono::seconds(2);
  ModeMachine m(t, Mode::online);
  // Four changes in 20 s: online → degraded → online → degraded, then one more wanted.
  ASSERT_EQ(m.observe(Verdict::partial, 0), Mode::degraded);            // 1
  ASSERT_EQ(m.observe(Verdict::pass, 1 * S), std::nullopt);
  ASSERT_EQ(m.observe(Verdict::pass, 3 * S), Mode::online);             // 2
  ASSERT_EQ(m.observe(Verdict::partial, 4 * S), Mode::degraded);        // 3
  ASSERT_EQ(m.observe(Verdict::pass, 5 * S), std::nullopt);
  // A fourth change within 60 s would be a fourth transition: > 3 would follow, held.
  EXPECT_EQ(m.observe(Verdict::pass, 7 * S), std::nullopt);
  EXPECT_TRUE(m.held());
  EXPECT_EQ(m.mode(), Mode::degraded);
  EXPECT_EQ(m.observe(Verdict::pass, 40 * S), std::nullopt);
  EXPECT_TRUE(m.held());
  // once the first change is 60 s old the held change happens (its streak kept counting).
  EXPECT_EQ(m.observe(Verdict::pass, 60 * S), Mode::online);
  EXPECT_FALSE(m.held());
}

TEST(ModeMachine, FlapGuardLetsAPessimisticChangeThrough) {
  Timings t;
  t.recovery = std::chrono::seconds(1);
  t.debounce = std::chrono::seconds(0);
  ModeMachine m(t, Mode::online);
  ASSERT_EQ(m.observe(Verdict::partial, 0), Mode::degraded);
  ASSERT_EQ(m.observe(Verdict::pass, 1 * S), std::nullopt);
  ASSERT_EQ(m.observe(Verdict::pass, 2 * S), Mode::online);
  ASSERT_EQ(m.observe(Verdict::partial, 3 * S), Mode::degraded);
  EXPECT_EQ(m.transitions_within_window(3 * S), 3u);
  EXPECT_EQ(m.observe(Verdict::fail, 4 * S), Mode::offline);  // the fourth, toward worse
  EXPECT_EQ(m.observe(Verdict::pass, 5 * S), std::nullopt);
  EXPECT_EQ(m.observe(Verdict::pass, 6 * S), std::nullopt);
  EXPECT_TRUE(m.held());
}

TEST(Timings, FromConfig) {
  config::EmergencyConfig c;
  c.debounce_seconds = 3;
  c.recovery_seconds = 2;
  c.flap_window_seconds = 20;
  const auto t = Timings::from(c);
  EXPECT_EQ(t.debounce, std::chrono::seconds(3));
  EXPECT_EQ(t.recovery, std::chrono::seconds(2));
  EXPECT_EQ(t.flap_window, std::chrono::seconds(20));
  const auto d = Timings::from(config::EmergencyConfig{});
  EXPECT_EQ(d.debounce, std::chrono::seconds(EMERGENCY_TRANSITION_DEBOUNCE_SECONDS));
}

}  // namespace
}  // namespace hn::emergency
