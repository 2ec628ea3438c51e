// state.h — M09 §3.1: the emergency mode (online / degraded / offline), one snapshot of
// the detector's view (EmergencyState) and the StateBus that hands mode changes to the
// node, which applies the effects and tells the UI (pubsub `emergency.mode.changed`).
//
// Thread-safety: StateBus is safe for concurrent use. Listeners run on the thread that
// published, after the bus's mutex is released; they may read current() but must not
// block for long.
// Invariant: current().mode only changes through publish(), which notifies every listener
// exactly once per change, in order.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace hn::emergency {

// Ordered from optimistic to pessimistic (the flap guard compares them).
enum class Mode { online = 0, degraded = 1, offline = 2 };
std::string_view to_string(Mode mode);
std::optional<Mode> parse_mode(std::string_view text);

// One target's last probe (M09 §3.1 probe_results: target → success, plus why).
struct ProbeResult {
  std::string target;
  bool ok = false;
  std::string error;        // empty when ok
  std::int64_t ms = 0;      // how long the probe took
};

// M09 §5.5: the last clock check against the time anchor's `Date` header.
struct ClockCheck {
  std::string anchor;             // the probe target asked
  std::int64_t skew_seconds = 0;  // our clock minus theirs
  std::int64_t checked_ms = 0;    // when (our clock)
  bool skewed = false;            // |skew| above the warning threshold
};

struct EmergencyState {
  Mode mode = Mode::online;
  std::int64_t since_ms = 0;       // when the mode was entered (wall clock)
  std::int64_t last_probe_ms = 0;  // when the last round finished; 0 before the first
  std::vector<ProbeResult> probe_results;
  bool flap_hold = false;          // an optimistic change is held by the flap guard
  std::optional<ClockCheck> clock;
  std::vector<std::string> withdrawn;  // capabilities taken off the bus while offline

  // {"mode", "since", "last_probe", "probes": {target: {"ok", "error"?, "ms"}},
  //  "flap_hold", "clock"?: {...}, "withdrawn": [...]}
  Json to_json() const;
};

class StateBus {
 public:
  using Listener = std::function<void(const EmergencyState& state, Mode previous)>;

  explicit StateBus(EmergencyState initial = {});

  EmergencyState current() const;
  Mode mode() const;

  // Stores `state`; when its mode differs from the current one, every listener hears of it.
  void publish(EmergencyState state);
  // Changes one part of the current state (probe results, clock, withdrawn list) without
  // a mode change.
  void update(const std::function<void(EmergencyState&)>& change);

  std::uint64_t subscribe(Listener listener);
  void unsubscribe(std::uint64_t id);

 private:
  mutable std::mutex m_mutex;
  std::mutex m_notify_mutex;  // one publish notifies at a time, so listeners see changes in order
  EmergencyState m_state;
  std::map<std::uint64_t, Listener> m_listeners;
  std::uint64_t m_next = 1;
};

}  // namespace hn::emergency
