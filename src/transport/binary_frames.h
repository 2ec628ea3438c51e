// binary_frames.h — the binary framing of a stream (doc/design/transport.md "Binary
// frames"): what a stream carries instead of SSE text when the client asked for it
// explicitly with `Accept: application/vnd.hearthnet.frames` (the file service's chunk path,
// doc/design/files.md). SSE stays the default; a server that does not know the type answers
// SSE, and the client reads whichever the Content-Type names.
//
// One frame on the wire:
//   u32 header_len (big-endian) | u32 payload_len (big-endian) | header | payload
// header  = canonical JSON {"data": <JSON>, "event": "<name>", "seq": N}, as an SSE frame's
//           fields (seq 1, 2, …; exactly one terminal `done` or `error`);
// payload = raw bytes that belong to the frame (a chunk's bytes), 0..MAX_BINARY_FRAME_PAYLOAD_BYTES;
//           terminal frames carry none.
// Flow control, acks (in-band "ack <upto>\n" lines), cancellation and the signed request
// that opened the stream are those of an SSE stream: only the encoding of frames differs.
//
// Thread-safety: BinaryFrameParser is a value owned by one reader; the rest are pure.
// Invariant: after a parser call fails, the parser stays failed (no partial frames).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/encoding.h"
#include "core/error.h"
#include "transport/sse.h"

namespace hn::transport {

// The media type a client names in Accept to take binary frames, and the server's
// Content-Type when it writes them.
inline constexpr std::string_view BINARY_FRAMES_CONTENT_TYPE = "application/vnd.hearthnet.frames";
// Bytes of the two length fields before each header.
inline constexpr std::size_t BINARY_FRAME_PREFIX_BYTES = 8;
// Upper bounds a reader enforces before allocating: a header is at most an SSE event's
// data limit, a payload at most the largest chunk a blob may have (16 MiB, M07).
inline constexpr std::size_t MAX_BINARY_FRAME_HEADER_BYTES = MAX_SSE_EVENT_BYTES;
inline constexpr std::size_t MAX_BINARY_FRAME_PAYLOAD_BYTES = 16 * 1024 * 1024;

// The prefix and header of one frame (its payload follows on the wire), appended to `out`.
// `canonical_data` is the frame's data already in canonical JSON.
void append_binary_frame_head(std::string& out, std::int64_t seq, std::string_view event,
                              std::string_view canonical_data, std::size_t payload_bytes);

// A whole frame (head + payload) as one string: tests and the fuzz target's seeds.
std::string encode_binary_frame(const Frame& frame);

// Reads binary frames from a byte stream split anywhere across reads.
class BinaryFrameParser {
 public:
  // Consumes bytes; appends every completed frame to `out`. bad_request for a length past
  // its bound, a header that is not {"data","event","seq"} with a valid event name and a
  // seq ≥ 1, or a terminal frame with a payload — and for every later call.
  Status feed(std::string_view bytes, std::vector<Frame>& out);
  // While a frame's payload is arriving: the rest of it, for a reader that reads the
  // socket straight into it (then commit_payload). Empty otherwise.
  std::span<std::uint8_t> payload_room();
  // After `n` bytes were written into payload_room(): completes the frame when whole.
  Status commit_payload(std::size_t n, std::vector<Frame>& out);
  bool failed() const { return m_failed; }
  // No frame is partly received (a stream may end here).
  bool at_frame_boundary() const { return !m_failed && m_state == State::prefix && m_buf.empty(); }

 private:
  Status fail(std::string message);
  Status finish_header(std::vector<Frame>& out);

  enum class State { prefix, header, payload };
  State m_state = State::prefix;
  std::string m_buf;  // prefix or header bytes received so far
  std::size_t m_header_len = 0;
  std::size_t m_payload_len = 0;
  std::size_t m_payload_have = 0;
  Frame m_frame;  // the frame whose payload is arriving
  bool m_failed = false;
};

// Every frame of a complete buffer (fuzzing and tests); bad_request as feed, and for bytes
// left over after the last whole frame.
Result<std::vector<Frame>> decode_binary_frames(std::string_view bytes);

}  // namespace hn::transport
