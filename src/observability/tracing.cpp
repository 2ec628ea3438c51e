// tracing.cpp — traces, spans and the trace ring buffer (X03 §5).
#include "observability/tracing.h"

#include <algorithm>

#include "core/time.h"
#include "core/ulid.h"

namespace hn::observability {

namespace {

std::optional<std::int64_t> duration_between(std::int64_t start,
                                             const std::optional<std::int64_t>& end) {
  if (!end) return std::nullopt;
  return std::max<std::int64_t>(0, *end - start);
}

Json time_or_null(const std::optional<std::int64_t>& ms) {
  return ms ? Json(format_rfc3339_ms(*ms)) : Json(nullptr);
}

Result<std::int64_t> parse_time(const Json& j, const char* key) {
  HN_TRY_ASSIGN(std::string text, get_string(j, key));
  auto ms = parse_rfc3339_ms(text);
  if (!ms) return make_error(ErrorCode::bad_request, std::string("bad timestamp in ") + key);
  return *ms;
}

Result<std::optional<std::int64_t>> parse_optional_time(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<std::int64_t>{};
  HN_TRY_ASSIGN(std::int64_t ms, parse_time(j, key));
  return std::optional<std::int64_t>(ms);
}

}  // namespace

std::optional<std::int64_t> Span::duration_ms() const {
  return duration_between(started_at_ms, ended_at_ms);
}

std::optional<std::int64_t> Trace::duration_ms() const {
  return duration_between(started_at_ms, ended_at_ms);
}

Json span_to_json(const Span& span) {
  Json j = Json::object();
  j["name"] = span.name;
  j["started_at"] = format_rfc3339_ms(span.started_at_ms);
  j["ended_at"] = time_or_null(span.ended_at_ms);
  auto d = span.duration_ms();
  j["duration_ms"] = d ? Json(*d) : Json(nullptr);
  j["extras"] = span.extras.is_object() ? span.extras : Json::object();
  return j;
}

Json trace_to_json(const Trace& trace) {
  Json j = Json::object();
  j["trace_id"] = trace.trace_id;
  j["capability"] = trace.capability;
  j["started_at"] = format_rfc3339_ms(trace.started_at_ms);
  j["ended_at"] = time_or_null(trace.ended_at_ms);
  auto d = trace.duration_ms();
  j["duration_ms"] = d ? Json(*d) : Json(nullptr);
  j["result"] = trace.result;
  Json spans = Json::array();
  for (const auto& s : trace.spans) spans.push_back(span_to_json(s));
  j["spans"] = std::move(spans);
  return j;
}

Result<Span> span_from_json(const Json& j) {
  if (!j.is_object()) return make_error(ErrorCode::bad_request, "span is not an object");
  Span s;
  HN_TRY_ASSIGN(s.name, get_string(j, "name"));
  HN_TRY_ASSIGN(s.started_at_ms, parse_time(j, "started_at"));
  HN_TRY_ASSIGN(s.ended_at_ms, parse_optional_time(j, "ended_at"));
  auto it = j.find("extras");
  if (it != j.end() && !it->is_null()) {
    if (!it->is_object()) return make_error(ErrorCode::bad_request, "span extras not an object");
    s.extras = *it;
  }
  return s;
}

Result<Trace> trace_from_json(const Json& j) {
  if (!j.is_object()) return make_error(ErrorCode::bad_request, "trace is not an object");
  Trace t;
  HN_TRY_ASSIGN(t.trace_id, get_string(j, "trace_id"));
  HN_TRY_ASSIGN(t.capability, get_string(j, "capability"));
  HN_TRY_ASSIGN(t.started_at_ms, parse_time(j, "started_at"));
  HN_TRY_ASSIGN(t.ended_at_ms, parse_optional_time(j, "ended_at"));
  HN_TRY_ASSIGN(t.result, get_string(j, "result"));
  HN_TRY_ASSIGN(Json spans, get_array(j, "spans"));
  for (const auto& s : spans) {
    HN_TRY_ASSIGN(Span span, span_from_json(s));
    t.spans.push_back(std::move(span));
  }
  return t;
}

// ---- ScopedSpan -------------------------------------------------------------------------

ScopedSpan::ScopedSpan(ActiveTrace& trace, std::string name, Json extras) : m_trace(&trace) {
  m_span.name = std::move(name);
  m_span.started_at_ms = trace.clock().now_ms();
  m_span.extras = extras.is_object() ? std::move(extras) : Json::object();
}

ScopedSpan::~ScopedSpan() { end(); }

ScopedSpan::ScopedSpan(ScopedSpan&& other) noexcept
    : m_trace(other.m_trace), m_span(std::move(other.m_span)) {
  other.m_trace = nullptr;
}

void ScopedSpan::set_extra(const std::string& key, Json value) {
  m_span.extras[key] = std::move(value);
}

void ScopedSpan::end() {
  if (m_trace == nullptr) return;
  m_span.ended_at_ms = m_trace->clock().now_ms();
  ActiveTrace* trace = m_trace;
  m_trace = nullptr;
  trace->add_span(std::move(m_span));
}

// ---- ActiveTrace ------------------------------------------------------------------------

ActiveTrace::ActiveTrace(std::string capability, const Clock& clock)
    : ActiveTrace(std::move(capability), new_ulid(), clock) {}

ActiveTrace::ActiveTrace(std::string capability, std::string trace_id, const Clock& clock)
    : m_clock(clock) {
  m_trace.trace_id = std::move(trace_id);
  m_trace.capability = std::move(capability);
  m_trace.started_at_ms = clock.now_ms();
}

ScopedSpan ActiveTrace::span(std::string name, Json extras) {
  return ScopedSpan(*this, std::move(name), std::move(extras));
}

void ActiveTrace::add_span(Span span) { m_trace.spans.push_back(std::move(span)); }

const Trace& ActiveTrace::finish() {
  if (!m_trace.ended_at_ms) m_trace.ended_at_ms = m_clock.now_ms();
  return m_trace;
}

void ActiveTrace::finish_into(TraceRing& ring) { ring.record(finish()); }

// ---- TraceRing --------------------------------------------------------------------------

TraceRing::TraceRing(std::size_t capacity) : m_capacity(std::max<std::size_t>(1, capacity)) {}

void TraceRing::record(Trace trace) {
  std::lock_guard lock(m_mutex);
  if (m_slots.size() < m_capacity) {
    m_slots.push_back(std::move(trace));
    return;
  }
  m_slots[m_next] = std::move(trace);
  m_next = (m_next + 1) % m_capacity;
}

std::vector<Trace> TraceRing::recent(std::size_t n,
                                     std::optional<std::string_view> capability) const {
  std::lock_guard lock(m_mutex);
  std::vector<Trace> out;
  const std::size_t size = m_slots.size();
  // Newest is just before m_next (once full) or at the back (while filling).
  const std::size_t newest_end = size < m_capacity ? size : m_next;
  for (std::size_t i = 0; i < size && out.size() < n; ++i) {
    const std::size_t idx = (newest_end + size - 1 - i) % size;
    const Trace& t = m_slots[idx];
    if (capability && t.capability != *capability) continue;
    out.push_back(t);
  }
  return out;
}

std::vector<Trace> TraceRing::by_trace(std::string_view trace_id) const {
  std::lock_guard lock(m_mutex);
  std::vector<Trace> out;
  const std::size_t size = m_slots.size();
  const std::size_t oldest = size < m_capacity ? 0 : m_next;
  for (std::size_t i = 0; i < size; ++i) {
    const Trace& t = m_slots[(oldest + i) % size];
    if (t.trace_id == trace_id) out.push_back(t);
  }
  return out;
}

std::size_t TraceRing::size() const {
  std::lock_guard lock(m_mutex);
  return m_slots.size();
}

void TraceRing::clear() {
  std::lock_guard lock(m_mutex);
  m_slots.clear();
  m_next = 0;
}

TraceRing& default_trace_ring() {
  static TraceRing ring;
  return ring;
}

}  // namespace hn::observability
