// trace.cpp — call trace events, the recent ring and per-capability counters.
#include "bus/trace.h"

#include "core/time.h"

namespace hn::bus {

Json CallTraceEvent::to_json() const {
  Json j{{"ts", ts},
         {"trace_id", trace_id.str()},
         {"capability", capability},
         {"version", version},
         {"from_node", from_node.str()},
         {"to_node", to_node.str()},
         {"is_local", is_local},
         {"result", result},
         {"ms", ms},
         {"tokens_in", nullptr},
         {"tokens_out", nullptr},
         {"bytes_in", bytes_in},
         {"bytes_out", bytes_out}};
  if (tokens_in) j["tokens_in"] = *tokens_in;
  if (tokens_out) j["tokens_out"] = *tokens_out;
  return j;
}

TraceHook::TraceHook(const Clock& clock, std::size_t recent_capacity)
    : m_clock(clock), m_capacity(recent_capacity == 0 ? 1 : recent_capacity) {}

void TraceHook::set_sink(TraceSink sink) {
  std::lock_guard lock(m_mutex);
  m_sink = std::move(sink);
}

void TraceHook::on_call_start(const RouteRequest& req, const CapabilityEntry& /*entry*/) {
  std::lock_guard lock(m_mutex);
  auto& c = m_counters[req.capability];
  ++c.started;
  ++c.in_flight;
}

void TraceHook::on_call_end(const RouteRequest& req, const CapabilityEntry& entry,
                            const CallOutcome& outcome) {
  CallTraceEvent ev;
  ev.ts = format_rfc3339_ms(m_clock.now_ms());
  ev.trace_id = req.trace_id;
  ev.capability = req.capability;
  ev.version = entry.descriptor.version_str();
  ev.from_node = req.caller;
  ev.to_node = entry.node_id;
  ev.is_local = entry.is_local;
  ev.result = outcome.result;
  ev.ms = outcome.latency_ms;
  ev.tokens_in = outcome.tokens_in;
  ev.tokens_out = outcome.tokens_out;
  ev.bytes_in = outcome.bytes_in;
  ev.bytes_out = outcome.bytes_out;
  {
    std::lock_guard lock(m_mutex);
    auto& c = m_counters[req.capability];
    if (c.in_flight > 0) --c.in_flight;
    if (outcome.result == "ok") ++c.ok;
    else ++c.failed;
    ++c.by_result[outcome.result];
    c.total_ms += outcome.latency_ms;
  }
  emit(std::move(ev));
}

void TraceHook::on_call_rejected(const RouteRequest& req, const Error& error) {
  CallTraceEvent ev;
  ev.ts = format_rfc3339_ms(m_clock.now_ms());
  ev.trace_id = req.trace_id;
  ev.capability = req.capability;
  ev.version = req.version_req.to_string();
  ev.from_node = req.caller;
  ev.result = std::string(to_string(error.code));
  ev.bytes_in = req.body.is_discarded() ? 0 : static_cast<std::int64_t>(req.body.dump().size());
  {
    std::lock_guard lock(m_mutex);
    auto& c = m_counters[req.capability];
    ++c.failed;
    ++c.by_result[ev.result];
  }
  emit(std::move(ev));
}

void TraceHook::emit(CallTraceEvent ev) {
  TraceSink sink;
  {
    std::lock_guard lock(m_mutex);
    sink = m_sink;
  }
  if (sink) sink(ev);
  std::lock_guard lock(m_mutex);
  m_recent.push_back(std::move(ev));  // (after the sink: one copy fewer per call)
  while (m_recent.size() > m_capacity) m_recent.pop_front();
}

std::vector<CallTraceEvent> TraceHook::recent(std::size_t n) const {
  std::lock_guard lock(m_mutex);
  const std::size_t k = std::min(n, m_recent.size());
  return std::vector<CallTraceEvent>(m_recent.end() - static_cast<std::ptrdiff_t>(k), m_recent.end());
}

std::vector<CallTraceEvent> TraceHook::newest(
    std::size_t n, const std::function<bool(const CallTraceEvent&)>& keep) const {
  std::lock_guard lock(m_mutex);
  std::vector<CallTraceEvent> out;
  for (auto it = m_recent.rbegin(); it != m_recent.rend() && out.size() < n; ++it) {
    if (!keep || keep(*it)) out.push_back(*it);
  }
  return out;
}

std::map<CapabilityName, CapabilityCounters> TraceHook::counters() const {
  std::lock_guard lock(m_mutex);
  return m_counters;
}

CapabilityCounters TraceHook::counters(const CapabilityName& capability) const {
  std::lock_guard lock(m_mutex);
  auto it = m_counters.find(capability);
  return it == m_counters.end() ? CapabilityCounters{} : it->second;
}

}  // namespace hn::bus
