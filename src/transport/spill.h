// spill.h — when quick requests leave the network thread after all. A quick worker request
// (server.h, QuickCheck) is served on the network thread, which saves the two cross-thread
// wake-ups of a hop; but then one thread serves them all. When that thread is saturated
// while the machine has cores to spare, a share of quick requests spills to the work
// executor again: the hop costs CPU, and it buys the idle cores.
//
// SpillControl is the decision (pure, for tests); LoadSampler measures what it needs.
// Thread-safety: both are used from the network thread only.
#pragma once

#include <chrono>
#include <cstdint>

namespace hn::transport {

class SpillControl {
 public:
  // Above this busy fraction of the network thread, with at least SPARE_CORES idle
  // machine-wide, the spilled share grows by STEP per window.
  static constexpr double SATURATED = 0.90;
  static constexpr double SPARE_CORES = 0.25;
  // Below this busy fraction, or with fewer than NO_SPARE_CORES idle, it shrinks by STEP.
  static constexpr double SLACK = 0.75;
  static constexpr double NO_SPARE_CORES = 0.10;
  static constexpr double STEP = 0.10;
  static constexpr double MAX_SHARE = 0.90;

  // One measurement window: the network thread's busy fraction (CPU time / wall time) and
  // the machine's idle cores over the same window (negative: unknown — never spill more).
  void update(double thread_busy, double idle_cores);
  // Whether the next quick request spills: spreads the share evenly over the requests.
  bool next_spills();
  double share() const { return m_share; }

 private:
  double m_share = 0.0;
  double m_credit = 0.0;
};

// Samples the calling thread's CPU time and the machine's idle time (/proc/stat) once per
// window and feeds SpillControl.
class LoadSampler {
 public:
  static constexpr std::chrono::milliseconds WINDOW{200};

  // Call on every quick request; samples when a window has passed.
  void tick(SpillControl& control);

 private:
  bool m_started = false;
  std::chrono::steady_clock::time_point m_wall;
  std::int64_t m_thread_ns = 0;
  std::int64_t m_idle_ticks = -1;
};

// The machine's idle + iowait time in clock ticks (USER_HZ) from /proc/stat; -1 if unreadable.
std::int64_t machine_idle_ticks();

}  // namespace hn::transport
