// transitions.h — M09 §4's state machine as a pure function of probe rounds and time, so
// the table, the debounce and the flap guard are tested with a fake clock.
//
// A round's verdict (M09 §5.1): `pass` when every probe succeeded, `fail` when at least
// two failed (every probe, when fewer than two are configured), `partial` otherwise.
//
//   from      verdict held                          to
//   online    partial or fail (one round)          degraded   at once
//   degraded  fail for `debounce` (30 s)           offline
//   degraded  pass for `recovery` (10 s)           online
//   offline   pass for `recovery`                  online
//   offline   partial or pass for `recovery`       degraded   (M09 is silent; below)
//
// "Held for d" means every round since the first of the streak had that verdict and the
// latest is at least d after that first one. The offline → degraded edge is ours: without
// it one target that stays down (a blocked resolver) would keep a node that reaches the
// rest of the internet offline for ever (doc/design/emergency.md).
//
// Flap guard (M09 §4): a change toward a less pessimistic mode is held while it would be
// more than `flap_max_transitions` (3) changes within `flap_window` (60 s); changes toward
// a more pessimistic mode are never held. The held change happens on the first round after
// the window lets it (its streak kept counting meanwhile).
//
// Thread-safety: none; the detector owns one and feeds it from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

#include "config/config.h"
#include "emergency/state.h"

namespace hn::emergency {

enum class Verdict { pass, partial, fail };

// M09 §5.1: the verdict of a round with `total` probes of which `failed` failed.
Verdict classify(std::size_t total, std::size_t failed);

struct Timings {
  std::chrono::milliseconds debounce{std::chrono::seconds(30)};  // EMERGENCY_TRANSITION_DEBOUNCE_SECONDS
  std::chrono::milliseconds recovery{std::chrono::seconds(10)};  // M09 §4 "all probes pass for 10s"
  std::chrono::milliseconds flap_window{std::chrono::seconds(60)};
  std::size_t flap_max_transitions = 3;

  static Timings from(const config::EmergencyConfig& c);
};

class ModeMachine {
 public:
  ModeMachine(Timings timings, Mode initial);

  // Feeds one round's verdict at now_ms (a monotonic clock); returns the new mode when
  // the mode changed.
  std::optional<Mode> observe(Verdict verdict, std::int64_t now_ms);

  Mode mode() const { return m_mode; }
  // Whether the last observe() wanted a change the flap guard held.
  bool held() const { return m_held; }
  // Changes within the flap window ending at now_ms.
  std::size_t transitions_within_window(std::int64_t now_ms);

 private:
  std::optional<Mode> wanted(Verdict verdict, std::int64_t now_ms) const;
  bool held_for(const std::optional<std::int64_t>& since, std::chrono::milliseconds d,
                std::int64_t now_ms) const;

  Timings m_t;
  Mode m_mode;
  bool m_held = false;
  std::optional<std::int64_t> m_pass_since;      // first round of the current pass streak
  std::optional<std::int64_t> m_fail_since;      // ... fail streak
  std::optional<std::int64_t> m_not_fail_since;  // ... streak of pass or partial
  std::deque<std::int64_t> m_transitions;        // when each change happened
};

}  // namespace hn::emergency
