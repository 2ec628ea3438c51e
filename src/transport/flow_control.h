// flow_control.h — window-based stream backpressure (X01 §6.3), pure accounting.
//
// Sender side (server): at most `window` (STREAM_WINDOW_FRAMES = 16) frames may be in
// flight unacknowledged. on_sent() assigns the next seq (1, 2, …); ack(upto) releases every
// frame ≤ upto. Terminal frames (done / error) are sent regardless of the window.
// Receiver side (client): on_received(seq) counts frames; needs_ack() turns true every
// `ack_interval` (STREAM_ACK_INTERVAL_FRAMES = 8) frames; take_ack() returns the upto to send.
//
// Acks travel on a side channel: the client POSTs {"stream_id", "seq"} to /stream/v1/ack,
// signed like any request (CONTRACT §5.1), because an HTTP/1.1 SSE response has no
// upstream. The server waits at most STREAM_ACK_TIMEOUT_SECONDS for an ack when the
// window is full, then ends the stream with a `timeout` error frame.
//
// Thread-safety: a value owned by one stream on one thread.
#pragma once

#include <cstdint>

#include "core/constants.h"
#include "core/error.h"

namespace hn::transport {

class FlowControl {
 public:
  explicit FlowControl(int window = STREAM_WINDOW_FRAMES,
                       int ack_interval = STREAM_ACK_INTERVAL_FRAMES)
      : m_window(window), m_ack_interval(ack_interval) {}

  // --- sender ---
  int window_used() const { return static_cast<int>(m_last_sent - m_acked); }
  bool can_send() const { return window_used() < m_window; }
  // Records one more frame on the wire; returns its seq.
  std::int64_t on_sent() { return ++m_last_sent; }
  std::int64_t last_sent() const { return m_last_sent; }
  std::int64_t acked() const { return m_acked; }
  // Releases frames ≤ upto. A stale ack is ignored; an ack beyond the last frame sent is a
  // peer bug → bad_request (and ignored).
  Status ack(std::int64_t upto) {
    if (upto > m_last_sent) return make_error(ErrorCode::bad_request, "ack beyond last frame");
    if (upto > m_acked) m_acked = upto;
    return {};
  }

  // --- receiver ---
  void on_received(std::int64_t seq) {
    if (seq > m_received) m_received = seq;
  }
  bool needs_ack() const { return m_received - m_ack_sent >= m_ack_interval; }
  // The upto to acknowledge now (marks it sent).
  std::int64_t take_ack() {
    m_ack_sent = m_received;
    return m_ack_sent;
  }

  int window() const { return m_window; }
  int ack_interval() const { return m_ack_interval; }

 private:
  int m_window;
  int m_ack_interval;
  std::int64_t m_last_sent = 0;
  std::int64_t m_acked = 0;
  std::int64_t m_received = 0;
  std::int64_t m_ack_sent = 0;
};

}  // namespace hn::transport
