// health.h — per-(node, capability, version) rolling health and quarantine (M03 §3.3, §5.7).
//
// Each key keeps a ring of the last HEALTH_WINDOW_CALLS outcomes (success, latency). Once at
// least HEALTH_MIN_SAMPLES outcomes are in the window and the success rate falls below
// HEALTH_QUARANTINE_THRESHOLD, the key is quarantined for HEALTH_QUARANTINE_SECONDS. After
// that, exactly one probe call is admitted (admit() hands it to one caller); a probe
// success resets the history and makes the key healthy, a probe failure quarantines it
// again at once. While the probe is in flight every other caller is refused.
//
// HEALTH_MIN_SAMPLES (5) is our choice — the spec leaves it open: one unlucky first call must
// not take a young provider out for a minute, while five straight failures surely should.
//
// Thread-safety: all members are safe for concurrent use (one internal mutex).
// Invariants: window size ≤ HEALTH_WINDOW_CALLS; at most one probe in flight per key.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "bus/capability.h"
#include "core/clock.h"
#include "core/constants.h"

namespace hn::bus {

// Samples needed in the window before the success rate can quarantine a key.
inline constexpr int HEALTH_MIN_SAMPLES = 5;

// How a call was let through to a provider.
enum class Admission {
  normal,    // the key is healthy
  probe,     // the single probe after a quarantine expired
  rejected,  // quarantined (or its probe is taken): do not call
};

// A read-out of one key's health.
struct HealthStats {
  int samples = 0;
  double success_rate = 1.0;  // over the window; 1.0 when empty
  double p50_latency_ms = 0.0;
  double p99_latency_ms = 0.0;
  bool quarantined = false;          // in quarantine (probe pending or not)
  std::int64_t quarantined_until_ms = 0;
  bool probe_available = false;      // quarantine over, probe not yet taken
};

class HealthTracker {
 public:
  explicit HealthTracker(const Clock& clock, int window = HEALTH_WINDOW_CALLS,
                         int min_samples = HEALTH_MIN_SAMPLES);

  // Whether the router must skip the key: quarantine running, or its probe already taken.
  bool is_quarantined(const EntryKey& key) const;
  // Claims the right to call the provider now; Admission::probe claims the single probe.
  Admission admit(const EntryKey& key);
  // Records an outcome of a call admitted as `how` (M03 §5.7).
  void record(const EntryKey& key, bool success, double latency_ms,
              Admission how = Admission::normal);
  // The call ended without an outcome attributable to the provider (caller error,
  // cancellation, capacity): a claimed probe is handed back unused.
  void release(const EntryKey& key, Admission how);
  // Clears the key's history and quarantine.
  void reset(const EntryKey& key);
  // Drops every key of a node (peer left).
  void forget_node(const NodeId& node);
  HealthStats stats(const EntryKey& key) const;
  // hearthnet_quarantines_total.
  std::uint64_t quarantines_total() const;

 private:
  struct Sample {
    bool success = true;
    double latency_ms = 0.0;
  };
  struct Slot {
    std::vector<Sample> ring;  // capacity m_window
    std::size_t next = 0;      // insertion index once full
    bool quarantined = false;
    std::int64_t quarantined_until_ms = 0;
    bool probe_in_flight = false;
  };

  void push(Slot& slot, bool success, double latency_ms) const;
  static double success_rate(const Slot& slot);
  void quarantine(const EntryKey& key, Slot& slot);

  const Clock& m_clock;
  const int m_window;
  const int m_min_samples;
  mutable std::mutex m_mutex;
  mutable std::vector<double> m_scratch;  // stats(): latencies to select from (under m_mutex)
  std::map<EntryKey, Slot> m_slots;
  std::uint64_t m_quarantines_total = 0;
};

}  // namespace hn::bus
