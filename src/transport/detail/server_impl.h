// server_impl.h — the HTTPS server's private state (Server::Impl), its connections and the
// SSE stream of one request (StreamWriter), shared by server.cpp (the X01 §3.3 pipeline) and
// builtin_routes.cpp. Not part of the transport's interface: only those files include it.
//
// Thread-safety: as server.h says — everything here lives on the network thread.
#pragma once

#include "transport/server.h"

#include <map>
#include <memory>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include "core/buffer_pool.h"
#include "transport/binary_frames.h"
#include "transport/detail/asio_names.h"
#include "transport/flow_control.h"
#include "transport/replay_guard.h"
#include "transport/sse.h"

namespace hn::transport {

// A stream write goes out once this much is encoded, window room or not.
inline constexpr std::size_t STREAM_WRITE_FLUSH_BYTES = 64 * 1024;

namespace detail {

// One TLS connection.
struct Session {
  Session(tcp::socket socket, ssl::context& ctx) : stream(std::move(socket), ctx) {}
  SslStream stream;
  beast::flat_buffer buffer;
  std::string remote;
  bool loopback = false;

  void close() {
    beast::error_code ec;
    auto& layer = beast::get_lowest_layer(stream);
    layer.socket().shutdown(tcp::socket::shutdown_both, ec);
    layer.close();
  }
};

}  // namespace detail

using detail::Session;

class StreamWriter;

// ---------------------------------------------------------------------------------------
// Server state, owned through shared_ptr so in-flight coroutines keep it alive.

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(asio::any_io_executor executor, const identity::KeyPair& k, ServerOptions o,
       ServerHooks h, const Clock& c)
      : ex(executor),
        keys(k),
        opts(std::move(o)),
        hooks(std::move(h)),
        clock(c),
        acceptor(executor),
        replay(c),
        limiter(c, opts.rate_limits),
        pubsub(executor),
        own_id(k.node_id().str()) {}

  struct Route {
    Handler handler;
    RouteAuth auth;
    AsyncHandler plain;  // plain requests of an async route
    StreamChoice streams;  // async route: which requests stream (unset: the Accept header)
  };
  struct Outcome {
    enum Kind { respond, streamed, drop } kind = respond;
    Response response;
    std::string request_id;
  };

  void add_builtin_routes();
  asio::awaitable<void> async_accept_loop();
  asio::awaitable<void> async_session(std::shared_ptr<Session> s);
  asio::awaitable<Outcome> async_handle(std::shared_ptr<Session> s,
                                        http::request<http::string_body> req);
  asio::awaitable<bool> async_write_response(std::shared_ptr<Session> s, Response r,
                                             std::string request_id, bool keep_alive);
  void do_stop();

  asio::any_io_executor ex;
  identity::KeyPair keys;
  ServerOptions opts;
  ServerHooks hooks;
  const Clock& clock;
  ssl::context ssl_ctx{ssl::context::tls_server};
  tcp::acceptor acceptor;

  // The checks after a verified signature (X01 pipeline: replay, community, trust, rate
  // limits). Fills r's caller fields; an Outcome when the request is refused or dropped.
  // Runs on the network thread (the replay guard and limiter lock themselves anyway).
  std::optional<Outcome> admit(const RequestEnvelope& env, Request& r, bool loopback);
  // Starts an async route's handler; the outcome arrives through respond (any thread).
  void start_async(Request r, const AsyncHandler& plain, std::function<void(Outcome)> done);
  ReplayGuard replay;
  RateLimiter limiter;
  PubSub pubsub;
  std::string own_id;
  std::map<std::pair<std::string, std::string>, Route> routes;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  std::unordered_map<std::string, std::weak_ptr<StreamWriter>> streams;  // caller\nstream_id
  bool stopped = false;
  std::uint16_t port = 0;
};

// ---------------------------------------------------------------------------------------
// The stream of one request (CONTRACT §5.3, X01 §6): SSE, or binary frames when the client
// asked for them (binary_frames.h) — the same seq, window, acks and terminal frames.

class StreamWriter final : public SseWriter, public std::enable_shared_from_this<StreamWriter> {
 public:
  StreamWriter(std::shared_ptr<Server::Impl> server, std::shared_ptr<Session> session,
               std::string stream_id, bool binary)
      : m_server(std::move(server)),
        m_session(std::move(session)),
        m_stream_id(std::move(stream_id)),
        m_wake(m_server->ex),
        m_binary(binary) {}

  asio::awaitable<Status> async_emit(std::string event, Json data) override {
    std::vector<OutFrame> one;
    one.push_back(OutFrame{std::move(event), std::move(data)});
    return async_emit_all(std::move(one));
  }

  // Frames in order, batched into as few socket writes as the window allows.
  asio::awaitable<Status> async_emit_all(std::vector<OutFrame> frames) override {
    if (m_busy) co_return make_error(ErrorCode::internal_error, "concurrent emit on one stream");
    m_busy = true;
    Status st = co_await async_emit_inner(std::move(frames));
    m_busy = false;
    co_return st;
  }
  bool cancelled() const override { return m_cancelled; }
  bool started() const override { return m_started; }
  bool finished() const override { return m_finished; }
  const std::string& stream_id() const override { return m_stream_id; }
  bool binary() const override { return m_binary; }

  asio::awaitable<bool> async_wait_cancelled(std::chrono::milliseconds timeout) override {
    if (m_cancelled) co_return true;
    asio::steady_timer timer(m_server->ex);
    timer.expires_after(timeout);
    m_cancel_waiters.push_back(&timer);
    beast::error_code ec;
    co_await timer.async_wait(redirect_error(use_awaitable, ec));
    std::erase(m_cancel_waiters, &timer);
    co_return m_cancelled;
  }

  // An ack from the side channel (X01 §6.3).
  Status on_ack(std::int64_t upto) {
    Status st = m_fc.ack(upto);
    m_wake.cancel();
    return st;
  }

  // The client went away (or the server stops): wake everything that waits.
  void on_disconnect() {
    if (m_cancelled) return;
    m_cancelled = true;
    m_wake.cancel();
    for (auto* t : m_cancel_waiters) t->cancel();
  }

 private:
  asio::awaitable<Status> async_emit_inner(std::vector<OutFrame> frames) {
    std::string pending;  // encoded frames not yet written
    for (auto& f : frames) {
      if (m_finished) co_return make_error(ErrorCode::bad_request, "stream already ended");
      if (!is_valid_event_name(f.event)) co_return make_error(ErrorCode::bad_request, "bad event name");
      if (!f.payload.empty() && (!m_binary || is_terminal_event(f.event))) {
        co_return make_error(ErrorCode::bad_request, m_binary ? "a terminal frame carries no payload"
                                                              : "a frame with a binary payload on a text stream");
      }
      if (f.payload.size() > MAX_BINARY_FRAME_PAYLOAD_BYTES) {
        co_return make_error(ErrorCode::bad_request, "frame payload larger than allowed");
      }
      if (m_cancelled) co_return make_error(ErrorCode::partition, "client disconnected");
      if (!m_started) {
        Status st = co_await async_open();
        if (!st) co_return st;
      }
      const bool terminal = is_terminal_event(f.event);
      if (!terminal && !m_fc.can_send()) {
        // The window is full: what is encoded goes out first, so the client can ack it.
        if (!pending.empty()) {
          Status st = co_await async_write_raw(std::move(pending));
          pending.clear();
          if (!st) co_return st;
        }
        Status st = co_await async_wait_window();
        if (!st) co_return st;
      }
      auto encoded = try_canonical_json(f.data);
      if (!encoded) co_return encoded.take_error();
      if (encoded->size() > MAX_SSE_EVENT_BYTES) {
        co_return make_error(ErrorCode::bad_request, "frame larger than the SSE limit");
      }
      if (m_binary) {
        append_binary_frame_head(pending, m_fc.on_sent(), f.event, *encoded, f.payload.size());
        pending.append(reinterpret_cast<const char*>(f.payload.data()), f.payload.size());
        BufferPool::chunks().give(std::move(f.payload));  // copied: back to its pool
      } else {
        append_frame(pending, m_fc.on_sent(), f.event, *encoded);
      }
      if (terminal) m_finished = true;
      // Up to a whole window per write (X01 §6.3: window 16, ack every 8): what is encoded
      // goes out when the window fills (above), at the end of the batch, or past 64 KiB.
      // Fewer, larger writes cost less here than the overlap a half-window write buys
      // (bench/RESULTS.md: a relayed frame 9.8–14.3 → 8.3–9.9 µs).
      if (pending.size() >= STREAM_WRITE_FLUSH_BYTES) {
        Status st = co_await async_write_raw(std::move(pending));
        pending.clear();
        if (!st) co_return st;
      }
    }
    if (pending.empty()) co_return Status{};
    co_return co_await async_write_raw(std::move(pending));
  }

  // Waits for an ack that opens the window; none within STREAM_ACK_TIMEOUT_SECONDS ends
  // the stream with a `timeout` error frame (X01 §6.3).
  asio::awaitable<Status> async_wait_window() {
    while (!m_fc.can_send()) {
      m_wake.expires_after(m_server->opts.stream_ack_timeout);
      beast::error_code ec;
      co_await m_wake.async_wait(redirect_error(use_awaitable, ec));
      if (m_cancelled) co_return make_error(ErrorCode::partition, "client disconnected");
      if (!ec && !m_fc.can_send()) {
        Error timeout(ErrorCode::timeout, "no stream ack in time");
        Frame f{"error", make_error_response(timeout).body, m_fc.on_sent(), {}};
        // (A local, not a ?: temporary: GCC 12 double-destroys those inside co_await.)
        std::string wire = m_binary ? encode_binary_frame(f) : encode_frame(f);
        co_await async_write_raw(std::move(wire));
        m_finished = true;
        co_return timeout;
      }
    }
    co_return Status{};
  }

  asio::awaitable<Status> async_open() {
    m_started = true;
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: ";
    head += m_binary ? BINARY_FRAMES_CONTENT_TYPE : std::string_view("text/event-stream");
    head += "\r\nCache-Control: no-cache\r\nConnection: close\r\nServer: hearthnet\r\n";
    head += std::string(HEADER_REQUEST_ID) + ": " + m_stream_id + "\r\n";
    head += std::string(HEADER_FROM) + ": " + m_server->own_id + "\r\n";
    head += std::string(HEADER_STREAM_ID) + ": " + m_stream_id + "\r\n\r\n";
    // The stream manages its own write deadlines; a read runs for its whole life.
    beast::get_lowest_layer(m_session->stream).expires_never();
    Status st = co_await async_write_raw(std::move(head));
    if (!st) co_return st;
    asio::co_spawn(m_server->ex, async_watch(shared_from_this()), asio::detached);
    co_return Status{};
  }

  // Reads until the client closes: that is how a disconnect is noticed at once. What the
  // client writes meanwhile are in-band ack lines ("ack <upto>\n", transport.md); a line
  // that is not one is ignored, an overlong one (a misbehaving peer) ends the stream.
  static asio::awaitable<void> async_watch(std::shared_ptr<StreamWriter> self) {
    char buf[512];
    std::string line;
    for (;;) {
      beast::error_code ec;
      std::size_t n = co_await self->m_session->stream.async_read_some(
          asio::buffer(buf), redirect_error(use_awaitable, ec));
      if (ec) break;
      bool overlong = false;
      for (std::size_t i = 0; i < n; ++i) {
        if (buf[i] != '\n') {
          line.push_back(buf[i]);
          if (line.size() > STREAM_ACK_LINE_MAX) overlong = true;
          continue;
        }
        if (auto upto = parse_ack_line(line)) (void)self->on_ack(*upto);
        line.clear();
      }
      if (overlong) break;
    }
    self->on_disconnect();
  }

  asio::awaitable<Status> async_write_raw(std::string bytes) {
    asio::steady_timer deadline(m_server->ex);
    deadline.expires_after(m_server->opts.write_timeout);
    std::weak_ptr<Session> weak = m_session;
    deadline.async_wait([weak](beast::error_code ec) {
      if (!ec) {
        if (auto s = weak.lock()) s->close();
      }
    });
    beast::error_code ec;
    co_await asio::async_write(m_session->stream, asio::buffer(bytes),
                               redirect_error(use_awaitable, ec));
    deadline.cancel();
    if (ec) {
      on_disconnect();
      co_return make_error(ErrorCode::partition, "stream write failed: " + ec.message());
    }
    co_return Status{};
  }

  std::shared_ptr<Server::Impl> m_server;
  std::shared_ptr<Session> m_session;
  std::string m_stream_id;
  FlowControl m_fc;
  asio::steady_timer m_wake;
  std::vector<asio::steady_timer*> m_cancel_waiters;
  bool m_started = false;
  bool m_finished = false;
  bool m_cancelled = false;
  bool m_busy = false;
  const bool m_binary;
};

}  // namespace hn::transport
