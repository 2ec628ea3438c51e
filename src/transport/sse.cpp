// sse.cpp — SSE frame encoding and incremental parsing (CONTRACT §5.3).
#include "transport/sse.h"

#include <charconv>

namespace hn::transport {

bool is_terminal_event(std::string_view event) { return event == "done" || event == "error"; }

bool is_valid_event_name(std::string_view event) {
  if (event.empty() || event.size() > 64) return false;
  for (char c : event) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string encode_frame(const Frame& frame) {
  std::string out;
  // Canonical JSON never contains a raw newline (strings escape control characters).
  append_frame(out, frame.seq, frame.event, canonical_json(frame.data));
  return out;
}

void append_frame(std::string& out, std::int64_t seq, std::string_view event,
                  std::string_view canonical_data) {
  out += "id: ";
  out += std::to_string(seq);
  out += "\nevent: ";
  out += event;
  out += "\ndata: ";
  out += canonical_data;
  out += "\n\n";
}

std::optional<std::int64_t> parse_ack_line(std::string_view line) {
  constexpr std::string_view prefix = "ack ";
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() <= prefix.size() || line.substr(0, prefix.size()) != prefix) return std::nullopt;
  line.remove_prefix(prefix.size());
  if (line.size() > 18) return std::nullopt;  // beyond any real sequence number
  std::int64_t v = 0;
  for (char c : line) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string encode_comment(std::string_view text) {
  std::string out = ": ";
  for (char c : text) out.push_back(c == '\n' || c == '\r' ? ' ' : c);
  out += "\n\n";
  return out;
}

SseParser::SseParser(std::size_t max_event_bytes) : m_max(max_event_bytes) {}

Status SseParser::feed(std::string_view chunk, std::vector<SseEvent>& out) {
  if (m_failed) return make_error(ErrorCode::bad_request, "SSE stream already failed");
  for (size_t i = 0; i < chunk.size(); ++i) {
    char c = chunk[i];
    if (m_at_start) {
      // A UTF-8 BOM may open the stream; it arrives as three bytes, possibly split.
      static constexpr std::string_view bom = "\xEF\xBB\xBF";
      if (m_line.size() < 3 && c == bom[m_line.size()]) {
        m_line.push_back(c);
        if (m_line.size() == 3) {
          m_line.clear();
          m_at_start = false;
        }
        continue;
      }
      m_at_start = false;
      // Not a BOM: the bytes held so far are ordinary line content, handled below.
    }
    if (c == '\n' && m_last_was_cr) {
      m_last_was_cr = false;
      continue;
    }
    m_last_was_cr = false;
    if (c == '\r' || c == '\n') {
      m_last_was_cr = (c == '\r');
      process_line(m_line, out);
      m_line.clear();
      if (m_data.size() > m_max) {
        m_failed = true;
        return make_error(ErrorCode::bad_request, "SSE event too large");
      }
      continue;
    }
    m_line.push_back(c);
    if (m_line.size() > m_max) {
      m_failed = true;
      return make_error(ErrorCode::bad_request, "SSE line too long");
    }
  }
  return {};
}

void SseParser::process_line(std::string_view line, std::vector<SseEvent>& out) {
  if (line.empty()) {
    if (m_has_data) {
      SseEvent ev;
      ev.event = m_event.empty() ? "message" : m_event;
      ev.data = std::move(m_data);
      ev.id = m_id;
      out.push_back(std::move(ev));
    }
    m_event.clear();
    m_data.clear();
    m_has_data = false;
    return;
  }
  if (line.front() == ':') return;  // comment
  auto colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "event") {
    m_event = std::string(value);
  } else if (field == "data") {
    if (m_has_data) m_data.push_back('\n');
    m_data.append(value);
    m_has_data = true;
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) m_id = std::string(value);
  }
  // "retry" and unknown fields are ignored, as EventSource does.
}

Result<Frame> to_frame(const SseEvent& event) {
  Frame f;
  f.event = event.event;
  if (!is_valid_event_name(f.event)) return make_error(ErrorCode::bad_request, "bad SSE event name");
  const char* begin = event.id.data();
  const char* end = begin + event.id.size();
  auto [ptr, ec] = std::from_chars(begin, end, f.seq);
  if (event.id.empty() || ec != std::errc() || ptr != end || f.seq < 0) {
    return make_error(ErrorCode::bad_request, "SSE frame without a valid seq id");
  }
  HN_TRY_ASSIGN(f.data, parse_json(event.data));
  return f;
}

}  // namespace hn::transport
