// tracing.h — per-request traces (X03 §5): a Trace (ULID trace id, capability, spans) is
// built while a request runs — ActiveTrace plus RAII ScopedSpan — and, once finished,
// recorded in a TraceRing of TRACE_RING_BUFFER entries that /trace/recent reads (M12 §3.7).
//
// Times are wall-clock milliseconds from an injected Clock (tests use ManualClock); a
// duration is clamped at 0 should the wall clock step back.
//
// Thread-safety: TraceRing is safe for concurrent use. ActiveTrace and ScopedSpan belong to
// one request and are not synchronised; a ScopedSpan must not outlive its ActiveTrace.
// Invariants: TraceRing holds at most capacity() traces and, when full, drops the oldest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/constants.h"
#include "core/error.h"
#include "core/json.h"

namespace hn::observability {

// IMPLEMENTATION_REFERENCE §2 Span.
struct Span {
  std::string name;
  std::int64_t started_at_ms = 0;
  std::optional<std::int64_t> ended_at_ms;
  Json extras = Json::object();

  std::optional<std::int64_t> duration_ms() const;
};

// IMPLEMENTATION_REFERENCE §2 Trace; result is "ok" or a wire error code.
struct Trace {
  std::string trace_id;  // ULID (X03 §5.3)
  std::string capability;
  std::int64_t started_at_ms = 0;
  std::optional<std::int64_t> ended_at_ms;
  std::string result = "ok";
  std::vector<Span> spans;

  std::optional<std::int64_t> duration_ms() const;
  bool is_error() const { return result != "ok"; }
};

// JSON forms for /trace/recent: times as RFC 3339 with milliseconds, plus duration_ms.
Json span_to_json(const Span& span);
Json trace_to_json(const Trace& trace);
// Parses trace_to_json output (outside bytes, e.g. the CLI reading /trace/recent).
Result<Span> span_from_json(const Json& j);
Result<Trace> trace_from_json(const Json& j);

class ActiveTrace;
class TraceRing;

// Opens a span on construction and closes it (recording it in the trace) on destruction
// or end(). Movable, not copyable.
class ScopedSpan {
 public:
  ScopedSpan(ActiveTrace& trace, std::string name, Json extras = Json::object());
  ~ScopedSpan();
  ScopedSpan(ScopedSpan&& other) noexcept;
  ScopedSpan& operator=(ScopedSpan&&) = delete;
  ScopedSpan(const ScopedSpan&) = delete;
  ScopedSpan& operator=(const ScopedSpan&) = delete;

  // Adds or replaces one extra field of the span.
  void set_extra(const std::string& key, Json value);
  // Closes the span now (idempotent).
  void end();

 private:
  ActiveTrace* m_trace;
  Span m_span;
};

// Alias under the name the task brief uses.
using SpanTimer = ScopedSpan;

// A trace under construction (X03 §5.1 new_trace / attach / span / detach).
class ActiveTrace {
 public:
  // new_trace(capability): a fresh ULID trace id.
  ActiveTrace(std::string capability, const Clock& clock);
  // attach: continue a trace whose id came with the request (X-HearthNet-Request-Id,
  // CONTRACT §5.1).
  ActiveTrace(std::string capability, std::string trace_id, const Clock& clock);

  const std::string& trace_id() const { return m_trace.trace_id; }
  const std::string& capability() const { return m_trace.capability; }
  const Clock& clock() const { return m_clock; }

  // Opens a sub-span; it closes when the returned object goes out of scope.
  [[nodiscard]] ScopedSpan span(std::string name, Json extras = Json::object());
  // Appends a finished span.
  void add_span(Span span);
  // "ok" (default) or a wire error code.
  void set_result(std::string result) { m_trace.result = std::move(result); }

  // Closes the trace (detach) and returns it; later calls return the same trace.
  const Trace& finish();
  // finish() and record into ring.
  void finish_into(TraceRing& ring);

 private:
  const Clock& m_clock;
  Trace m_trace;
};

class TraceRing {
 public:
  explicit TraceRing(std::size_t capacity = static_cast<std::size_t>(TRACE_RING_BUFFER));

  // Stores a completed trace, dropping the oldest when full.
  void record(Trace trace);
  // The newest n traces, newest first; only those of `capability` when given
  // (X03 §5.1 get_recent, M12 §3.7 --capability).
  std::vector<Trace> recent(std::size_t n = 100,
                            std::optional<std::string_view> capability = std::nullopt) const;
  // Every stored trace with this id, oldest first.
  std::vector<Trace> by_trace(std::string_view trace_id) const;

  std::size_t size() const;
  std::size_t capacity() const { return m_capacity; }
  void clear();

 private:
  const std::size_t m_capacity;
  mutable std::mutex m_mutex;
  std::vector<Trace> m_slots;  // ring storage, grows up to m_capacity
  std::size_t m_next = 0;      // slot the next record() writes once full
};

// The process-wide ring (/trace/recent reads it).
TraceRing& default_trace_ring();

}  // namespace hn::observability
