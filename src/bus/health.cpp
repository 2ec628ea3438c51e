// health.cpp — rolling windows and the quarantine/probe state machine (M03 §5.7).
#include "bus/health.h"

#include <algorithm>
#include <cmath>

namespace hn::bus {

HealthTracker::HealthTracker(const Clock& clock, int window, int min_samples)
    : m_clock(clock), m_window(std::max(window, 1)), m_min_samples(std::max(min_samples, 1)) {}

bool HealthTracker::is_quarantined(const EntryKey& key) const {
  std::lock_guard lock(m_mutex);
  auto it = m_slots.find(key);
  if (it == m_slots.end() || !it->second.quarantined) return false;
  return it->second.probe_in_flight || m_clock.now_ms() < it->second.quarantined_until_ms;
}

Admission HealthTracker::admit(const EntryKey& key) {
  std::lock_guard lock(m_mutex);
  auto it = m_slots.find(key);
  if (it == m_slots.end() || !it->second.quarantined) return Admission::normal;
  Slot& slot = it->second;
  if (slot.probe_in_flight || m_clock.now_ms() < slot.quarantined_until_ms) {
    return Admission::rejected;
  }
  slot.probe_in_flight = true;
  return Admission::probe;
}

void HealthTracker::push(Slot& slot, bool success, double latency_ms) const {
  Sample s{success, latency_ms};
  if (slot.ring.size() < static_cast<std::size_t>(m_window)) {
    slot.ring.push_back(s);
  } else {
    slot.ring[slot.next] = s;
    slot.next = (slot.next + 1) % slot.ring.size();
  }
}

double HealthTracker::success_rate(const Slot& slot) {
  if (slot.ring.empty()) return 1.0;
  auto ok = std::count_if(slot.ring.begin(), slot.ring.end(), [](const Sample& s) { return s.success; });
  return static_cast<double>(ok) / static_cast<double>(slot.ring.size());
}

void HealthTracker::quarantine(const EntryKey& /*key*/, Slot& slot) {
  slot.quarantined = true;
  slot.probe_in_flight = false;
  slot.quarantined_until_ms = m_clock.now_ms() + HEALTH_QUARANTINE_SECONDS * 1000LL;
  ++m_quarantines_total;
}

void HealthTracker::record(const EntryKey& key, bool success, double latency_ms, Admission how) {
  std::lock_guard lock(m_mutex);
  Slot& slot = m_slots[key];
  if (how == Admission::probe && slot.quarantined) {
    if (success) {
      slot = Slot{};  // history resets (M03 §5.7)
      push(slot, true, latency_ms);
    } else {
      push(slot, false, latency_ms);
      quarantine(key, slot);  // immediate re-quarantine
    }
    return;
  }
  push(slot, success, latency_ms);
  // A straggler that was admitted before the quarantine began only adds its sample.
  if (!slot.quarantined && static_cast<int>(slot.ring.size()) >= m_min_samples &&
      success_rate(slot) < HEALTH_QUARANTINE_THRESHOLD) {
    quarantine(key, slot);
  }
}

void HealthTracker::release(const EntryKey& key, Admission how) {
  if (how != Admission::probe) return;
  std::lock_guard lock(m_mutex);
  auto it = m_slots.find(key);
  if (it != m_slots.end()) it->second.probe_in_flight = false;
}

void HealthTracker::reset(const EntryKey& key) {
  std::lock_guard lock(m_mutex);
  m_slots.erase(key);
}

void HealthTracker::forget_node(const NodeId& node) {
  std::lock_guard lock(m_mutex);
  std::erase_if(m_slots, [&](const auto& kv) { return kv.first.node_id == node; });
}

HealthStats HealthTracker::stats(const EntryKey& key) const {
  std::lock_guard lock(m_mutex);
  HealthStats out;
  auto it = m_slots.find(key);
  if (it == m_slots.end()) return out;
  const Slot& slot = it->second;
  out.samples = static_cast<int>(slot.ring.size());
  out.success_rate = success_rate(slot);
  out.quarantined = slot.quarantined;
  out.quarantined_until_ms = slot.quarantined ? slot.quarantined_until_ms : 0;
  out.probe_available = slot.quarantined && !slot.probe_in_flight &&
                        m_clock.now_ms() >= slot.quarantined_until_ms;
  if (!slot.ring.empty()) {
    // Nearest-rank percentiles by selection, not a full sort: the router asks on every call.
    // (A scratch buffer under the lock; p99 selects only among what lies above p50.)
    auto& lat = m_scratch;
    lat.clear();
    for (const auto& s : slot.ring) lat.push_back(s.latency_ms);
    auto rank = [&](double p) {
      auto idx = static_cast<std::size_t>(std::ceil(p * static_cast<double>(lat.size())));
      return std::min(idx == 0 ? 0 : idx - 1, lat.size() - 1);
    };
    const std::size_t i50 = rank(0.50), i99 = rank(0.99);
    std::nth_element(lat.begin(), lat.begin() + static_cast<std::ptrdiff_t>(i50), lat.end());
    out.p50_latency_ms = lat[i50];
    if (i99 > i50) {
      std::nth_element(lat.begin() + static_cast<std::ptrdiff_t>(i50) + 1,
                       lat.begin() + static_cast<std::ptrdiff_t>(i99), lat.end());
    }
    out.p99_latency_ms = lat[i99];
  }
  return out;
}

std::uint64_t HealthTracker::quarantines_total() const {
  std::lock_guard lock(m_mutex);
  return m_quarantines_total;
}

}  // namespace hn::bus
