// client_stream.cpp — the client half of SSE and binary streams (X01 §6, CONTRACT §5.3): the
// streamed signed POST, flow-control acks, the idle watchdog, frames handed on in order.
#include "transport/client.h"

#include "transport/detail/client_impl.h"

namespace hn::transport {

namespace {

// A stream's idle deadline without a timer per read: one timer ticks every quarter of
// `idle` (at most 1 s) and runs `on_idle` once nothing arrived for `idle`. (Re-arming the
// socket's deadline before every read cost a timerfd syscall per read on a busy stream.)
// stop() before the objects `on_idle` touches go away; the tick holds only the watchdog.
class IdleWatchdog : public std::enable_shared_from_this<IdleWatchdog> {
 public:
  IdleWatchdog(asio::any_io_executor ex, std::chrono::milliseconds idle, std::function<void()> on_idle)
      : m_timer(ex), m_idle(idle), m_on_idle(std::move(on_idle)) {}

  void start() {
    touch();
    arm();
  }
  void touch() { m_last_ms = monotonic_ms(); }
  // While held (the reader holds back on purpose), silence does not count.
  void hold(bool on) {
    m_held = on;
    touch();
  }
  bool fired() const { return m_fired; }
  void stop() {
    m_on_idle = nullptr;
    m_timer.cancel();
  }

 private:
  void arm() {
    const auto period = std::clamp(m_idle / 4, std::chrono::milliseconds(1), std::chrono::milliseconds(1000));
    m_timer.expires_after(period);
    m_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || !self->m_on_idle) return;
      if (!self->m_held && monotonic_ms() - self->m_last_ms >= self->m_idle.count()) {
        self->m_fired = true;
        auto on_idle = std::move(self->m_on_idle);
        on_idle();
        return;
      }
      self->arm();
    });
  }

  asio::steady_timer m_timer;
  std::chrono::milliseconds m_idle;
  std::function<void()> m_on_idle;
  std::int64_t m_last_ms = 0;
  bool m_held = false;
  bool m_fired = false;
};

}  // namespace

asio::awaitable<Result<Frame>> Client::async_stream(Endpoint peer, std::string capability,
                                                    Version version, Json body,
                                                    FrameCallback on_frame,
                                                    CallOptions options) {
  return Impl::async_stream_on(m_impl, std::move(peer), std::string(BUS_CALL_PATH),
                               std::move(capability), version, std::move(body),
                               std::move(on_frame), std::move(options));
}

asio::awaitable<Result<Frame>> Client::async_stream_request(Endpoint peer, std::string path,
                                                            Json body, FrameCallback on_frame,
                                                            CallOptions options) {
  return Impl::async_stream_on(m_impl, std::move(peer), std::move(path), std::string(), Version{},
                               std::move(body), std::move(on_frame), std::move(options));
}

asio::awaitable<Result<Frame>> Client::Impl::async_stream_on(std::shared_ptr<Impl> impl,
                                                             Endpoint peer, std::string path,
                                                             std::string capability,
                                                             Version version, Json body,
                                                             FrameCallback on_frame,
                                                             CallOptions options) {
  auto timeout = options.timeout.count() > 0 ? options.timeout : impl->opts.default_timeout;
  auto deadline = Clock_::now() + timeout;
  auto p = impl->prepare(peer, "POST", path, body, options, std::move(capability), version, true);
  if (!p) co_return p.take_error();
  // Streams get their own connection: it closes after the terminal frame (§5.3).
  auto connected = co_await impl->async_connect(peer, deadline);
  if (!connected) co_return connected.take_error();
  std::unique_ptr<Conn> conn = std::move(*connected);
  auto& layer = beast::get_lowest_layer(conn->stream);
  beast::error_code ec;
  layer.expires_after(remaining(deadline));
  co_await asio::async_write(conn->stream, asio::buffer(p->wire), redirect_error(use_awaitable, ec));
  if (ec) co_return net_error(ec, "stream request");
  http::response_parser<http::string_body> parser;
  parser.body_limit(impl->opts.max_response_bytes);
  layer.expires_after(remaining(deadline));
  co_await http::async_read_header(conn->stream, conn->buffer, parser,
                                   redirect_error(use_awaitable, ec));
  if (ec) co_return net_error(ec, "stream response");
  Headers headers = to_headers(parser.get().base());
  const int status = static_cast<int>(parser.get().result_int());
  auto ct = find_header(headers, "Content-Type");
  const bool binary = ct && options.binary_frames &&
                      ct->find(BINARY_FRAMES_CONTENT_TYPE) != std::string_view::npos;
  if (!ct || (!binary && ct->find("text/event-stream") == std::string_view::npos)) {
    // An error envelope (or a non-stream answer) instead of a stream.
    co_await http::async_read(conn->stream, conn->buffer, parser, redirect_error(use_awaitable, ec));
    conn->close();
    if (ec) co_return net_error(ec, "stream response");
    auto parsed = parse_json(parser.get().body());
    Json j = parsed ? std::move(*parsed) : Json();
    if (status >= 200 && status < 300) {
      // CONTRACT §5.1: the capability answered plainly (it does not stream, or the body
      // asked it not to): its signed response is the `done` frame's data.
      if (!parsed || !ct || ct->find("application/json") == std::string_view::npos) {
        co_return make_error(ErrorCode::bad_request, "expected an event stream or a JSON answer");
      }
      Status signed_ok = check_response_signature(headers, status, j, peer, p->envelope);
      if (!signed_ok) co_return signed_ok.take_error();
      co_return Frame{"done", std::move(j), 1};
    }
    co_return parse_error_response(status, j);
  }
  if (auto from = find_header(headers, HEADER_FROM); from && *from != peer.node_id.str()) {
    conn->close();
    co_return make_error(ErrorCode::invalid_signature, "stream from an unexpected node");
  }
  const std::string stream_id(find_header(headers, HEADER_STREAM_ID).value_or(p->envelope.request_id));

  // The idle deadline from here on: a watchdog, not a socket deadline per read.
  layer.expires_never();
  auto watchdog = std::make_shared<IdleWatchdog>(impl->ex, impl->opts.stream_idle_timeout,
                                                 [c = conn.get()] { c->close(); });
  watchdog->start();
  struct StopWatchdog {
    std::shared_ptr<IdleWatchdog> w;
    ~StopWatchdog() { w->stop(); }
  } stop_watchdog{watchdog};
  SseParser sse;
  BinaryFrameParser frames_in;
  FlowControl fc;
  std::vector<SseEvent> events;
  std::vector<Frame> frames;
  std::int64_t expected_seq = 1;
  std::int64_t ack_upto = 0;
  bool ack_failed = false;
  // Hands every decoded frame on in order; a terminal frame (or a failure) ends the stream.
  auto handle = [&](std::vector<Frame>& batch) -> std::optional<Result<Frame>> {
    for (auto& frame : batch) {
      if (frame.seq != expected_seq) {
        return make_error(ErrorCode::bad_request, "stream frame out of order");
      }
      ++expected_seq;
      if (frame.event == "done") return std::move(frame);
      if (frame.event == "error") return parse_error_response(500, frame.data);
      fc.on_received(frame.seq);
      if (on_frame && !on_frame(frame)) {
        return make_error(ErrorCode::partition, "stream cancelled by caller", Json{{"cancelled", true}});
      }
      if (fc.needs_ack()) {
        switch (impl->opts.stream_acks) {
          case ClientOptions::StreamAcks::in_band:
            ack_upto = fc.take_ack();
            break;
          case ClientOptions::StreamAcks::side_channel:
            asio::co_spawn(impl->ex, Impl::async_send_ack(impl, peer, stream_id, fc.take_ack()),
                           asio::detached);
            break;
          case ClientOptions::StreamAcks::none:
            (void)fc.take_ack();
            break;
        }
      }
    }
    batch.clear();
    return std::nullopt;
  };
  for (;;) {
    auto data = conn->buffer.data();
    std::string_view chunk(static_cast<const char*>(data.data()), data.size());
    Status fed;
    if (binary) {
      fed = frames_in.feed(chunk, frames);
    } else {
      fed = sse.feed(chunk, events);
    }
    conn->buffer.consume(data.size());
    if (!fed) {
      conn->close();
      co_return fed.take_error();
    }
    for (auto& ev : events) {
      auto frame = to_frame(ev);
      if (!frame) {
        conn->close();
        co_return frame.take_error();
      }
      frames.push_back(std::move(*frame));
    }
    events.clear();
    if (auto end = handle(frames)) {
      conn->close();
      co_return std::move(*end);
    }
    if (ack_upto > 0) {
      // X01 §6.3 acks travel upstream on the stream's own connection (transport.md): one
      // short line, no signature of its own — the TLS session is the one the signed
      // request opened. Written between reads, so at most one write is ever pending.
      // A failed write is no error by itself: the server may have sent the terminal frame
      // and closed meanwhile; the reads below tell (the frame, or a stream cut short).
      const std::string line = std::string(STREAM_ACK_LINE_PREFIX) + std::to_string(ack_upto) + "\n";
      ack_upto = 0;
      if (!ack_failed) {
        co_await asio::async_write(conn->stream, asio::buffer(line), redirect_error(use_awaitable, ec));
        if (ec) ack_failed = true;
        ec = {};
      }
    }
    if (options.before_read) {
      watchdog->hold(true);  // the reader holds back on purpose: not the stream's silence
      co_await options.before_read();
      watchdog->hold(false);
    }
    std::size_t n = 0;
    if (auto room = frames_in.payload_room(); !room.empty()) {
      // A payload arriving: read it straight into the frame, no copy through the buffer.
      n = co_await asio::async_read(conn->stream, asio::buffer(room.data(), room.size()),
                                    redirect_error(use_awaitable, ec));
      watchdog->touch();
      if (n > 0) {
        if (Status st = frames_in.commit_payload(n, frames); !st) {
          conn->close();
          co_return st.take_error();
        }
      }
    } else {
      auto buf = conn->buffer.prepare(16 * 1024);
      n = co_await conn->stream.async_read_some(buf, redirect_error(use_awaitable, ec));
      conn->buffer.commit(n);
      watchdog->touch();
    }
    if (ec && n == 0) {
      conn->close();
      if (watchdog->fired()) co_return make_error(ErrorCode::timeout, "stream went silent");
      co_return make_error(ErrorCode::partition, "stream ended without a terminal frame");
    }
  }
}


}  // namespace hn::transport
