// spill_test.cpp — SpillControl: quick requests spill to the pool only while the network
// thread is saturated and the machine has idle cores; the share grows and shrinks by steps
// with hysteresis, and is spread evenly over requests. LoadSampler reads real clocks.
#include "transport/spill.h"

#include <gtest/gtest.h>

#include <thread>

namespace hn::transport {
namespace {

int spills_in(SpillControl& c, int requests) {
  int n = 0;
  for (int i = 0; i < requests; ++i) n += c.next_spills() ? 1 : 0;
  return n;
}

TEST(Spill, NothingSpillsUntilTheThreadIsSaturatedWithCoresToSpare) {
  SpillControl c;
  EXPECT_EQ(spills_in(c, 100), 0);
  c.update(0.99, 0.05);  // saturated, but the machine is busy too: hopping only adds CPU
  EXPECT_EQ(c.share(), 0.0);
  c.update(0.50, 1.50);  // cores to spare, but the thread keeps up
  EXPECT_EQ(c.share(), 0.0);
  c.update(0.97, -1.0);  // idle time unknown: never more
  EXPECT_EQ(c.share(), 0.0);
  EXPECT_EQ(spills_in(c, 100), 0);
}

TEST(Spill, ShareGrowsInStepsAndIsSpreadOverRequests) {
  SpillControl c;
  c.update(0.95, 0.40);
  EXPECT_DOUBLE_EQ(c.share(), SpillControl::STEP);
  EXPECT_EQ(spills_in(c, 100), 10);
  c.update(0.95, 0.40);
  c.update(0.95, 0.40);
  EXPECT_NEAR(c.share(), 0.3, 1e-9);
  // Evenly: no two spills in a row at 30 %.
  bool last = false, twice = false;
  for (int i = 0; i < 100; ++i) {
    const bool s = c.next_spills();
    twice = twice || (s && last);
    last = s;
  }
  EXPECT_FALSE(twice);
  for (int i = 0; i < 20; ++i) c.update(1.0, 3.0);
  EXPECT_DOUBLE_EQ(c.share(), SpillControl::MAX_SHARE);  // never all: the thread stays warm
}

TEST(Spill, ShareHoldsInTheBandAndShrinksWithSlackOrNoSpareCores) {
  SpillControl c;
  for (int i = 0; i < 4; ++i) c.update(0.95, 0.5);
  const double held = c.share();
  c.update(0.80, 0.5);   // between SLACK and SATURATED: hold
  c.update(0.95, 0.15);  // between NO_SPARE_CORES and SPARE_CORES: hold
  EXPECT_DOUBLE_EQ(c.share(), held);
  c.update(0.60, 0.5);  // slack
  EXPECT_NEAR(c.share(), held - SpillControl::STEP, 1e-9);
  c.update(0.95, 0.02);  // the spilled work used up the spare cores
  EXPECT_NEAR(c.share(), held - 2 * SpillControl::STEP, 1e-9);
  for (int i = 0; i < 20; ++i) c.update(0.1, 0.0);
  EXPECT_EQ(c.share(), 0.0);
  EXPECT_EQ(spills_in(c, 100), 0);
}

TEST(Spill, SamplerSeesABusyThreadAndTheMachinesIdleTime) {
  EXPECT_GE(machine_idle_ticks(), 0);  // Linux /proc/stat
  SpillControl c;
  LoadSampler s;
  // Spin on this thread for a few windows: busy ≈ 1. Whether it spills then depends on the
  // machine's idle cores, which this test does not control — only that the share moved
  // within its bounds and that an idle thread brings it back to zero.
  const auto end = std::chrono::steady_clock::now() + 5 * LoadSampler::WINDOW;
  while (std::chrono::steady_clock::now() < end) s.tick(c);
  EXPECT_GE(c.share(), 0.0);
  EXPECT_LE(c.share(), SpillControl::MAX_SHARE);
  for (int i = 0; i < 12; ++i) {
    std::this_thread::sleep_for(LoadSampler::WINDOW + std::chrono::milliseconds(5));
    s.tick(c);
  }
  EXPECT_EQ(c.share(), 0.0);
}

}  // namespace
}  // namespace hn::transport
