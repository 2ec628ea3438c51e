// stream_parsers.h — incremental parsers for the two streaming body formats inference
// servers answer with: Server-Sent Events (OpenAI-compatible servers, Anthropic, HF TGI;
// the WHATWG event-stream rules: `event:`/`data:` fields, multi-line data joined by "\n",
// comments, CR/LF/CRLF line ends, an event dispatched at a blank line) and NDJSON (Ollama:
// one JSON document a line). Bytes arrive in arbitrary pieces; both keep the unfinished
// line between feeds and refuse a line longer than max_line (bad bytes from a backend give
// an error, never unbounded memory).
//
// Thread-safety: one parser per stream, used by one thread.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace hn::services::llm::http {

inline constexpr std::size_t STREAM_MAX_LINE = 4 * 1024 * 1024;

// One dispatched server-sent event.
struct SseEvent {
  std::string event;  // "" when the event named none ("message")
  std::string data;
};

class SseParser {
 public:
  using Sink = std::function<Status(const SseEvent&)>;
  explicit SseParser(Sink sink, std::size_t max_line = STREAM_MAX_LINE)
      : m_sink(std::move(sink)), m_max_line(max_line) {}
  // Feeds bytes; calls the sink for each complete event. An error (the sink's, or a line
  // too long) stops parsing; later feeds return it again.
  Status feed(std::string_view bytes);
  // The stream ended: an event still pending without its blank line is dispatched (servers
  // that close right after the last data line).
  Status finish();

 private:
  Status line(std::string_view text);
  Sink m_sink;
  std::size_t m_max_line;
  std::string m_partial;
  std::string m_event;
  std::string m_data;
  bool m_has_data = false;
  bool m_last_was_cr = false;
  std::optional<Error> m_error;
};

class LineSplitter {
 public:
  using Sink = std::function<Status(std::string_view line)>;
  explicit LineSplitter(Sink sink, std::size_t max_line = STREAM_MAX_LINE)
      : m_sink(std::move(sink)), m_max_line(max_line) {}
  // Calls the sink with each complete non-blank line (without its "\n" / "\r\n").
  Status feed(std::string_view bytes);
  // A last line without its newline.
  Status finish();

 private:
  Sink m_sink;
  std::size_t m_max_line;
  std::string m_partial;
  std::optional<Error> m_error;
};

}  // namespace hn::services::llm::http
