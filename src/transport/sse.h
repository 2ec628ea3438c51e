// sse.h — Server-Sent Events frames of CONTRACT §5.3: the encoder the server writes and an
// incremental parser for the client (WHATWG EventSource parsing rules: LF, CR or CRLF line
// ends, split anywhere across reads, comments, multi-line data, a leading BOM).
//
// Our frames carry their sequence number in the standard SSE `id:` field (DESIGN.md
// "SSE frames carry a seq"):  id: <seq>\nevent: <name>\ndata: <canonical JSON>\n\n
// Sequence numbers start at 1 and increase by 1. Every stream ends with exactly one
// terminal frame, `done` or `error` (§5.3).
//
// Thread-safety: SseParser is a value owned by one reader; the rest are pure functions.
// Invariant: after SseParser::feed fails, the parser stays failed (no partial events).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/encoding.h"
#include "core/error.h"
#include "core/json.h"

namespace hn::transport {

// Upper bound on one line / one event's data, protecting the reader's memory.
inline constexpr std::size_t MAX_SSE_EVENT_BYTES = 4 * 1024 * 1024;

// X01 §6.2 Frame.
struct Frame {
  std::string event;  // "token", "chunk", "progress", "ack", "done", "error", ...
  Json data;
  std::int64_t seq = 0;
  Bytes payload;  // raw bytes of a binary frame (binary_frames.h); always empty over SSE
};

// Whether an event name ends a stream (§5.3).
bool is_terminal_event(std::string_view event);
// Whether an event name is safe to put on the wire ([A-Za-z0-9_.-], 1..64 chars).
bool is_valid_event_name(std::string_view event);
// "id: <seq>\nevent: <event>\ndata: <canonical JSON>\n\n".
std::string encode_frame(const Frame& frame);
// The same frame with its data already in canonical JSON, appended to `out` (a writer
// that batches several frames into one socket write).
void append_frame(std::string& out, std::int64_t seq, std::string_view event,
                  std::string_view canonical_data);
// An in-band ack line without its "\n" ("ack <upto>", transport.md): upto ≥ 0, or
// nullopt for anything else (ignored by the server).
std::optional<std::int64_t> parse_ack_line(std::string_view line);
// ": <text>\n\n" — a comment, used as a keep-alive.
std::string encode_comment(std::string_view text);

// One dispatched SSE event, before JSON decoding.
struct SseEvent {
  std::string event = "message";
  std::string data;
  std::string id;
};

class SseParser {
 public:
  explicit SseParser(std::size_t max_event_bytes = MAX_SSE_EVENT_BYTES);
  // Consumes a chunk; appends every completed event to `out`. bad_request once a line or
  // event exceeds the limit (and for every later call).
  Status feed(std::string_view chunk, std::vector<SseEvent>& out);
  bool failed() const { return m_failed; }

 private:
  void process_line(std::string_view line, std::vector<SseEvent>& out);

  std::size_t m_max;
  std::string m_line;
  std::string m_event;
  std::string m_data;
  std::string m_id;
  bool m_has_data = false;
  bool m_last_was_cr = false;
  bool m_at_start = true;
  bool m_failed = false;
};

// Decodes an event into a Frame: data must be JSON, id a non-negative integer
// (bad_request otherwise).
Result<Frame> to_frame(const SseEvent& event);

}  // namespace hn::transport
