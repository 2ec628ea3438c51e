// stream_parsers.cpp — SSE and NDJSON line handling.
#include "services/llm/http/stream_parsers.h"

namespace hn::services::llm::http {
namespace {

Error too_long(std::size_t max_line) {
  return make_error(ErrorCode::internal_error,
                    "backend stream: a line longer than " + std::to_string(max_line) + " bytes");
}

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r") == std::string_view::npos; }

}  // namespace

Status SseParser::feed(std::string_view bytes) {
  if (m_error) return *m_error;
  for (char c : bytes) {
    if (c == '\n' && m_last_was_cr) {  // the LF of a CRLF: its line was dispatched at the CR
      m_last_was_cr = false;
      continue;
    }
    m_last_was_cr = c == '\r';
    if (c == '\r' || c == '\n') {
      std::string text;
      text.swap(m_partial);
      if (auto s = line(text); !s) {
        m_error = s.error();
        return s;
      }
      continue;
    }
    if (m_partial.size() >= m_max_line) {
      m_error = too_long(m_max_line);
      return *m_error;
    }
    m_partial.push_back(c);
  }
  return {};
}

Status SseParser::line(std::string_view text) {
  if (text.empty()) {  // dispatch
    if (!m_has_data) {
      m_event.clear();
      return {};
    }
    SseEvent ev{std::move(m_event), std::move(m_data)};
    m_event.clear();
    m_data.clear();
    m_has_data = false;
    return m_sink(ev);
  }
  if (text.front() == ':') return {};  // a comment (keep-alive)
  auto colon = text.find(':');
  std::string_view field = text.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  if (value.starts_with(' ')) value.remove_prefix(1);
  if (field == "event") {
    m_event = std::string(value);
  } else if (field == "data") {
    if (m_has_data) m_data.push_back('\n');
    if (m_data.size() + value.size() > m_max_line) return too_long(m_max_line);
    m_data.append(value);
    m_has_data = true;
  }
  return {};  // id, retry and unknown fields are ignored
}

Status SseParser::finish() {
  if (m_error) return *m_error;
  if (!m_partial.empty()) {
    std::string text;
    text.swap(m_partial);
    HN_TRY(line(text));
  }
  return line("");
}

Status LineSplitter::feed(std::string_view bytes) {
  if (m_error) return *m_error;
  while (!bytes.empty()) {
    auto nl = bytes.find('\n');
    std::string_view piece = bytes.substr(0, nl);
    if (m_partial.size() + piece.size() > m_max_line) {
      m_error = too_long(m_max_line);
      return *m_error;
    }
    m_partial.append(piece);
    if (nl == std::string_view::npos) break;
    bytes.remove_prefix(nl + 1);
    std::string text;
    text.swap(m_partial);
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (blank(text)) continue;
    if (auto s = m_sink(text); !s) {
      m_error = s.error();
      return s;
    }
  }
  return {};
}

Status LineSplitter::finish() {
  if (m_error) return *m_error;
  std::string text;
  text.swap(m_partial);
  if (blank(text)) return {};
  return m_sink(text);
}

}  // namespace hn::services::llm::http
