// emergency_mode.cpp — the node's side of M09: it owns the StateBus, runs the Detector on
// the network thread (unless `[emergency] enabled = false` or the test hook
// HEARTHNET_EMERGENCY_DETECTOR=off), and applies each mode change:
//   - offline: requires_internet capabilities leave the bus (CapabilityGate) and our
//     manifest is republished without them; event sync every 30 s plus a round at once,
//     fast UDP beacons, 30 s peer pruning (X02 §5.5, M02 §4.3, M09 §5.3);
//   - online: the capabilities come back, the normal cadence returns;
//   - every change: `emergency.mode.changed` {online, mode, since} for the local UI
//     (CONTRACT §8), a log line; status and /metrics read the StateBus.
// Degraded keeps the online cadence and capabilities (M09 §5.2 acts on offline / online).
#include <cstdlib>
#include <string>

#include <boost/asio/post.hpp>

#include "core/time.h"
#include "node/detail/node_impl.h"

namespace hn::node {
namespace asio = boost::asio;
using detail::node_log;
using emergency::Mode;

namespace {

// The test hook that keeps the detector off whatever the config says (tests/support sets
// it so that no test probes the public resolvers by accident).
bool detector_disabled_by_env() {
  const char* v = std::getenv("HEARTHNET_EMERGENCY_DETECTOR");
  return v != nullptr && std::string(v) == "off";
}

}  // namespace

Status Node::Impl::open_emergency() {
  state_bus = std::make_unique<emergency::StateBus>(
      emergency::EmergencyState{Mode::online, clock.now_ms()});
  gate = std::make_unique<emergency::CapabilityGate>(bus->registry());
  state_bus->subscribe([this](const emergency::EmergencyState& s, Mode previous) {
    on_emergency_change(s, previous);
  });
  const auto& cfg = home.config.emergency;
  if (!cfg.enabled || detector_disabled_by_env()) return {};
  HN_TRY_ASSIGN(emergency_targets, emergency::parse_probe_targets(cfg.probe_targets));
  return {};
}

void Node::Impl::start_emergency() {
  if (emergency_targets.empty()) {
    node_log().info("emergency detector off",
                    Json{{"reason", home.config.emergency.enabled ? "HEARTHNET_EMERGENCY_DETECTOR=off"
                                                                  : "[emergency] enabled = false"}});
    return;
  }
  detector = std::make_unique<emergency::Detector>(io.get_executor(), home.config.emergency,
                                                   emergency_targets, *state_bus, clock);
  detector->start();
}

void Node::Impl::set_emergency_mode(bool to_offline) {
  auto s = state_bus->current();
  s.mode = to_offline ? Mode::offline : Mode::online;
  s.since_ms = clock.now_ms();
  state_bus->publish(std::move(s));
}

void Node::Impl::on_emergency_change(const emergency::EmergencyState& s, Mode previous) {
  // M09 §5.2, on the publishing thread (the gate is thread-safe): off the bus on entering
  // offline, back on entering online.
  bool caps_changed = false;
  if (s.mode == Mode::offline) {
    auto withdrawn = gate->close();
    caps_changed = !withdrawn.empty();
    state_bus->update([&](emergency::EmergencyState& st) { st.withdrawn = std::move(withdrawn); });
  } else if (s.mode == Mode::online && gate->is_closed()) {
    caps_changed = !gate->open().empty();
    state_bus->update([](emergency::EmergencyState& st) { st.withdrawn.clear(); });
  }
  const Mode mode = s.mode;
  const std::int64_t since = s.since_ms;
  asio::post(io, [this, mode, previous, since, caps_changed] {
    if (stopping.load()) return;
    const bool to_offline = mode == Mode::offline;
    node_log().info("emergency mode",
                    Json{{"state", std::string(emergency::to_string(mode))},
                         {"previous", std::string(emergency::to_string(previous))}});
    if (offline.load() != to_offline) {
      offline = to_offline;
      if (discovery) discovery->set_emergency_mode(to_offline);
      arm_sync_timer();  // re-armed with the new period (the pending wait is cancelled)
      if (to_offline) schedule_sync();
    }
    // Peers learn at once that a withdrawn capability is gone (or back).
    if (caps_changed && publisher) (void)publisher->publish_now();
    // CONTRACT §8: the local UI learns of the change (the topic never leaves the node).
    if (service_publisher) {
      service_publisher->publish(std::string(transport::TOPIC_EMERGENCY_MODE_CHANGED),
                                 Json{{"online", !to_offline},
                                      {"mode", std::string(emergency::to_string(mode))},
                                      {"since", format_rfc3339_ms(since)}});
    }
  });
}

Json Node::Impl::emergency_status() const {
  Json j = state_bus->current().to_json();
  // `state` is what M12 §3.3 prints; the rest is the detector's view.
  j["state"] = j["mode"];
  j["detector"] = detector != nullptr;
  return j;
}

}  // namespace hn::node
