// trace.h — one structured event per capability call (M03 §3.6) and per-capability
// counters. Events go to a pluggable sink (the node plugs in X03's trace ring / metrics);
// the hook also keeps a small ring of recent events for CapabilityBus::recent_traces.
//
// Thread-safety: safe for concurrent use. The sink is called without the internal mutex
// held, on the calling thread; it must be thread-safe itself.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bus/capability.h"
#include "core/clock.h"

namespace hn::bus {

inline constexpr std::size_t TRACE_RECENT_CAPACITY = 256;  // the bus-local ring

// M03 §3.6 CallTraceEvent.
struct CallTraceEvent {
  std::string ts;          // RFC 3339 with milliseconds (CONTRACT §1.1 allows it for tracing)
  TraceId trace_id;        // ULID
  CapabilityName capability;
  std::string version;     // the version of the provider that served ("1.0"), or requested
  NodeId from_node;
  NodeId to_node;          // empty when routing failed
  bool is_local = false;
  std::string result;      // "ok" | error code name | "cancelled"
  double ms = 0.0;
  std::optional<std::int64_t> tokens_in;
  std::optional<std::int64_t> tokens_out;
  std::int64_t bytes_in = 0;
  std::int64_t bytes_out = 0;

  Json to_json() const;
};

// Counters for one capability name.
struct CapabilityCounters {
  std::uint64_t started = 0;
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;                       // every non-ok result
  std::int64_t in_flight = 0;
  double total_ms = 0.0;
  std::map<std::string, std::uint64_t> by_result;  // "ok", "timeout", …
};

// What on_call_end needs besides the request and the entry.
struct CallOutcome {
  std::string result = "ok";
  double latency_ms = 0.0;
  std::int64_t bytes_in = 0;
  std::int64_t bytes_out = 0;
  std::optional<std::int64_t> tokens_in;
  std::optional<std::int64_t> tokens_out;
};

using TraceSink = std::function<void(const CallTraceEvent&)>;

class TraceHook {
 public:
  explicit TraceHook(const Clock& clock, std::size_t recent_capacity = TRACE_RECENT_CAPACITY);

  // Replaces the sink (empty = none).
  void set_sink(TraceSink sink);

  void on_call_start(const RouteRequest& req, const CapabilityEntry& entry);
  void on_call_end(const RouteRequest& req, const CapabilityEntry& entry, const CallOutcome& outcome);
  // A call that never reached a provider (not_found, partition, unauthorized, bad_request…).
  void on_call_rejected(const RouteRequest& req, const Error& error);

  // Newest last; at most n.
  std::vector<CallTraceEvent> recent(std::size_t n) const;
  // Up to n recent events, newest first, only those `keep` accepts (no others are copied).
  std::vector<CallTraceEvent> newest(std::size_t n,
                                     const std::function<bool(const CallTraceEvent&)>& keep = {}) const;
  std::map<CapabilityName, CapabilityCounters> counters() const;
  CapabilityCounters counters(const CapabilityName& capability) const;

 private:
  void emit(CallTraceEvent ev);

  const Clock& m_clock;
  const std::size_t m_capacity;
  mutable std::mutex m_mutex;
  TraceSink m_sink;
  std::deque<CallTraceEvent> m_recent;
  std::map<CapabilityName, CapabilityCounters> m_counters;
};

}  // namespace hn::bus
