// binary_frames.cpp — the binary stream framing (binary_frames.h).
#include "transport/binary_frames.h"

#include <algorithm>
#include <cstring>

#include "core/buffer_pool.h"

namespace hn::transport {
namespace {

void put_u32(std::string& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 4);
}

std::uint32_t get_u32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) |
         std::uint32_t{u[3]};
}

}  // namespace

void append_binary_frame_head(std::string& out, std::int64_t seq, std::string_view event,
                              std::string_view canonical_data, std::size_t payload_bytes) {
  // Canonical JSON of {"data","event","seq"}: keys in this order, no whitespace; the event
  // name needs no escaping (is_valid_event_name).
  std::string header;
  header.reserve(canonical_data.size() + event.size() + 40);
  header += "{\"data\":";
  header += canonical_data;
  header += ",\"event\":\"";
  header += event;
  header += "\",\"seq\":";
  header += std::to_string(seq);
  header += '}';
  put_u32(out, static_cast<std::uint32_t>(header.size()));
  put_u32(out, static_cast<std::uint32_t>(payload_bytes));
  out += header;
}

std::string encode_binary_frame(const Frame& frame) {
  std::string out;
  append_binary_frame_head(out, frame.seq, frame.event, canonical_json(frame.data),
                           frame.payload.size());
  out.append(reinterpret_cast<const char*>(frame.payload.data()), frame.payload.size());
  return out;
}

Status BinaryFrameParser::fail(std::string message) {
  m_failed = true;
  m_buf.clear();
  m_frame = Frame{};
  return make_error(ErrorCode::bad_request, "binary frame: " + message);
}

Status BinaryFrameParser::finish_header(std::vector<Frame>& out) {
  auto parsed = parse_json(m_buf);
  m_buf.clear();
  if (!parsed || !parsed->is_object() || parsed->size() != 3) {
    return fail("header must be a JSON object {data, event, seq}");
  }
  Json& h = *parsed;
  const auto event = h.find("event");
  const auto seq = h.find("seq");
  const auto data = h.find("data");
  if (event == h.end() || !event->is_string() ||
      !is_valid_event_name(event->get_ref<const std::string&>())) {
    return fail("\"event\" must be an event name");
  }
  if (seq == h.end() || !seq->is_number_integer() || seq->get<std::int64_t>() < 1) {
    return fail("\"seq\" must be an integer >= 1");
  }
  if (data == h.end()) return fail("\"data\" is missing");
  Frame f;
  f.event = event->get<std::string>();
  f.seq = seq->get<std::int64_t>();
  f.data = std::move(*data);
  if (is_terminal_event(f.event) && m_payload_len > 0) {
    return fail("a terminal frame carries no payload");
  }
  if (m_payload_len == 0) {
    out.push_back(std::move(f));
    m_state = State::prefix;
    return {};
  }
  m_frame = std::move(f);
  m_frame.payload = BufferPool::chunks().take(m_payload_len);  // every byte is read into it
  m_payload_have = 0;
  m_state = State::payload;
  return {};
}

Status BinaryFrameParser::feed(std::string_view bytes, std::vector<Frame>& out) {
  if (m_failed) return make_error(ErrorCode::bad_request, "binary frame stream already failed");
  while (!bytes.empty()) {
    switch (m_state) {
      case State::prefix: {
        const std::size_t take = std::min(BINARY_FRAME_PREFIX_BYTES - m_buf.size(), bytes.size());
        m_buf.append(bytes.substr(0, take));
        bytes.remove_prefix(take);
        if (m_buf.size() < BINARY_FRAME_PREFIX_BYTES) break;
        m_header_len = get_u32(m_buf.data());
        m_payload_len = get_u32(m_buf.data() + 4);
        m_buf.clear();
        if (m_header_len < 2 || m_header_len > MAX_BINARY_FRAME_HEADER_BYTES) {
          return fail("header length out of bounds");
        }
        if (m_payload_len > MAX_BINARY_FRAME_PAYLOAD_BYTES) return fail("payload larger than allowed");
        m_buf.reserve(m_header_len);
        m_state = State::header;
        break;
      }
      case State::header: {
        const std::size_t take = std::min(m_header_len - m_buf.size(), bytes.size());
        m_buf.append(bytes.substr(0, take));
        bytes.remove_prefix(take);
        if (m_buf.size() == m_header_len) HN_TRY(finish_header(out));
        break;
      }
      case State::payload: {
        const std::size_t take = std::min(m_payload_len - m_payload_have, bytes.size());
        std::memcpy(m_frame.payload.data() + m_payload_have, bytes.data(), take);
        bytes.remove_prefix(take);
        HN_TRY(commit_payload(take, out));
        break;
      }
    }
  }
  return {};
}

std::span<std::uint8_t> BinaryFrameParser::payload_room() {
  if (m_failed || m_state != State::payload) return {};
  return std::span<std::uint8_t>(m_frame.payload).subspan(m_payload_have);
}

Status BinaryFrameParser::commit_payload(std::size_t n, std::vector<Frame>& out) {
  if (m_failed) return make_error(ErrorCode::bad_request, "binary frame stream already failed");
  if (m_state != State::payload || n > m_payload_len - m_payload_have) {
    return fail("payload bytes beyond the frame");
  }
  m_payload_have += n;
  if (m_payload_have == m_payload_len) {
    out.push_back(std::move(m_frame));
    m_frame = Frame{};
    m_state = State::prefix;
  }
  return {};
}

Result<std::vector<Frame>> decode_binary_frames(std::string_view bytes) {
  BinaryFrameParser parser;
  std::vector<Frame> frames;
  HN_TRY(parser.feed(bytes, frames));
  if (!parser.at_frame_boundary()) return make_error(ErrorCode::bad_request, "binary frame: truncated");
  return frames;
}

}  // namespace hn::transport
