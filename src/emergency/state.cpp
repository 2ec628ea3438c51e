// state.cpp — the emergency mode's names, its JSON form and the StateBus.
#include "emergency/state.h"

#include "core/time.h"

namespace hn::emergency {

std::string_view to_string(Mode mode) {
  switch (mode) {
    case Mode::online:
      return "online";
    case Mode::degraded:
      return "degraded";
    case Mode::offline:
      return "offline";
  }
  return "online";
}

std::optional<Mode> parse_mode(std::string_view text) {
  for (Mode m : {Mode::online, Mode::degraded, Mode::offline}) {
    if (text == to_string(m)) return m;
  }
  return std::nullopt;
}

Json EmergencyState::to_json() const {
  Json probes = Json::object();
  for (const auto& p : probe_results) {
    Json one{{"ok", p.ok}, {"ms", p.ms}};
    if (!p.ok) one["error"] = p.error;
    probes[p.target] = std::move(one);
  }
  Json out{{"mode", std::string(to_string(mode))},
           {"since", format_rfc3339_ms(since_ms)},
           {"last_probe", last_probe_ms > 0 ? Json(format_rfc3339_ms(last_probe_ms)) : Json()},
           {"probes", std::move(probes)},
           {"flap_hold", flap_hold},
           {"withdrawn", withdrawn}};
  if (clock) {
    out["clock"] = Json{{"anchor", clock->anchor},
                        {"skew_seconds", clock->skew_seconds},
                        {"checked_at", format_rfc3339_ms(clock->checked_ms)},
                        {"skewed", clock->skewed}};
  }
  return out;
}

StateBus::StateBus(EmergencyState initial) : m_state(std::move(initial)) {}

EmergencyState StateBus::current() const {
  std::lock_guard lock(m_mutex);
  return m_state;
}

Mode StateBus::mode() const {
  std::lock_guard lock(m_mutex);
  return m_state.mode;
}

void StateBus::publish(EmergencyState state) {
  std::lock_guard order(m_notify_mutex);
  Mode previous;
  std::vector<Listener> listeners;
  {
    std::lock_guard lock(m_mutex);
    previous = m_state.mode;
    m_state = state;
    if (previous == state.mode) return;
    for (const auto& [id, l] : m_listeners) listeners.push_back(l);
  }
  for (const auto& l : listeners) l(state, previous);
}

void StateBus::update(const std::function<void(EmergencyState&)>& change) {
  std::lock_guard lock(m_mutex);
  change(m_state);
}

std::uint64_t StateBus::subscribe(Listener listener) {
  std::lock_guard lock(m_mutex);
  const auto id = m_next++;
  m_listeners.emplace(id, std::move(listener));
  return id;
}

void StateBus::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(m_mutex);
  m_listeners.erase(id);
}

}  // namespace hn::emergency
