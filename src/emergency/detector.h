// detector.h — M09 §3.2: the probe loop. Every round probes all targets at once (each
// bounded by probe_timeout_seconds), feeds the verdict to the ModeMachine (transition
// table, debounce, flap guard: transitions.h) and publishes the result on the StateBus —
// a mode change to its listeners (the node applies the effects), the probe results and
// the clock check silently. Rounds follow each other every probe_interval_online_seconds
// while online and probe_interval_offline_seconds otherwise (EMERGENCY_PROBE_INTERVAL_*).
// Clock sanity (M09 §5.5): once per online period, after clock_check_after_seconds
// online, an extra HEAD to the time anchor (the first https target) compares its `Date`
// with our clock; a difference above clock_skew_warn_seconds is logged as a warning and
// kept in the state. We never set the clock.
//
// Thread-safety: construct, start() and shutdown() on the executor's thread (or before it
// runs); the loop runs on that executor only. The StateBus and the clock must outlive
// shutdown(); after it nothing is published.
#pragma once

#include <memory>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "config/config.h"
#include "core/clock.h"
#include "emergency/state.h"
#include "emergency/targets.h"

namespace hn::emergency {

class Detector {
 public:
  // `targets` as parse_probe_targets() made them from config.probe_targets.
  Detector(boost::asio::any_io_executor executor, config::EmergencyConfig config,
           std::vector<ProbeTarget> targets, StateBus& state, const Clock& clock);
  ~Detector();
  Detector(const Detector&) = delete;
  Detector& operator=(const Detector&) = delete;

  // Starts the loop; the first round begins at once.
  void start();
  // Stops the loop: no round starts after this, the one in flight is dropped.
  void shutdown();

 private:
  struct Loop;
  std::shared_ptr<Loop> m_loop;
};

}  // namespace hn::emergency
