// client.cpp — signed HTTPS client with pooling, pinning and SSE streams (X01 §5, §6).
#include "transport/client.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "observability/standard_metrics.h"
#include "transport/binary_frames.h"
#include "transport/flow_control.h"

namespace hn::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SslStream = beast::ssl_stream<beast::tcp_stream>;
using asio::redirect_error;
using asio::use_awaitable;
using Clock_ = std::chrono::steady_clock;

namespace {

struct Conn {
  Conn(asio::any_io_executor ex, ssl::context& ctx) : stream(ex, ctx) {}
  SslStream stream;
  beast::flat_buffer buffer;
  std::int64_t last_used_ms = 0;
  bool reused = false;
  void close() {
    beast::error_code ec;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(stream).close();
  }
};

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

// An HTTP/1.1 request as one buffer: request line, Host, User-Agent, `fields`,
// Content-Length for a body, Connection: close unless kept alive. A method that is not a
// token or a target with spaces or control characters is refused (they would split the
// request); our own header values never hold CR or LF.
Result<std::string> serialize_request(std::string_view method, std::string_view target,
                                      const Endpoint& peer, const Headers& fields,
                                      std::string_view body, bool keep_alive) {
  const bool method_ok = !method.empty() && std::all_of(method.begin(), method.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || c == '-';
  });
  const bool target_ok = !target.empty() && std::none_of(target.begin(), target.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
  });
  if (!method_ok || !target_ok) {
    return make_error(ErrorCode::bad_request, "request method or target not sendable");
  }
  std::string out;
  out.reserve(512 + body.size());
  out.append(method);
  out.push_back(' ');
  out.append(target);
  out.append(" HTTP/1.1\r\nHost: ");
  out.append(peer.host);
  out.push_back(':');
  out.append(std::to_string(peer.port));
  out.append("\r\nUser-Agent: hearthnet\r\n");
  for (const auto& [name, value] : fields) {
    if (value.find_first_of("\r\n") != std::string::npos) {
      return make_error(ErrorCode::bad_request, "header " + name + " holds a line break");
    }
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
  }
  if (!body.empty() || method_has_body(method)) {
    out.append("Content-Length: ");
    out.append(std::to_string(body.size()));
    out.append("\r\n");
  }
  if (!keep_alive) out.append("Connection: close\r\n");
  out.append("\r\n");
  out.append(body);
  return out;
}

std::string peer_key(const Endpoint& p) {
  return p.host + ":" + std::to_string(p.port) + "/" + p.node_id.str();
}

std::chrono::milliseconds remaining(Clock_::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock_::now());
  return left.count() > 0 ? left : std::chrono::milliseconds(1);
}

Error net_error(const beast::error_code& ec, std::string_view what) {
  if (ec == beast::error::timeout) {
    return make_error(ErrorCode::timeout, std::string(what) + ": deadline exceeded");
  }
  return make_error(ErrorCode::partition, std::string(what) + ": " + ec.message());
}

Headers to_headers(const http::fields& fields) {
  Headers h;
  for (const auto& f : fields) {
    h.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  return h;
}

bool is_json(const Headers& h) {
  auto ct = find_header(h, "Content-Type");
  return ct && ct->find("application/json") != std::string_view::npos;
}

}  // namespace

struct Client::Impl : std::enable_shared_from_this<Client::Impl> {
  Impl(asio::any_io_executor e, const identity::KeyPair& k, PinnedCerts& p, ClientOptions o,
       const Clock& c)
      : ex(std::move(e)), keys(k), pins(p), opts(std::move(o)), clock(c) {
    ssl_ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                        ssl::context::no_tlsv1_1);
    // X01 §4.3: no CA or hostname checks — the certificate is pinned to the node id.
    ssl_ctx.set_verify_mode(ssl::verify_none);
  }

  struct Prepared {
    std::string wire;  // the whole HTTP request, written as one buffer
    RequestEnvelope envelope;
  };

  Result<Prepared> prepare(const Endpoint& peer, const std::string& method,
                           const std::string& path, const Json& body, const CallOptions& o,
                           std::string capability, Version version, bool stream) {
    Prepared p;
    std::string target = path;
    std::string wire;
    if (capability.empty()) capability = path;
    if (method_has_body(method)) {
      // The canonical bytes are both what is sent and what the signature covers.
      auto c = try_canonical_json(body);
      if (!c) return c.take_error();
      wire = std::move(*c);
      if (wire.size() > MAX_REQUEST_BODY_BYTES) {
        return make_error(ErrorCode::bad_request, "request body over the 8 MiB limit");
      }
      p.envelope = sign_request_canonical(keys, std::move(capability), version.to_string(),
                                          opts.community.str(), wire, clock, o.request_id);
    } else {
      std::string q = encode_query(body);
      auto parsed = parse_query(q);
      if (!parsed) return parsed.take_error();
      if (!q.empty()) target += "?" + q;
      p.envelope = sign_request(keys, std::move(capability), version.to_string(),
                                opts.community.str(), query_to_json(*parsed), clock, o.request_id);
    }
    Headers fields = envelope_headers(p.envelope);
    if (const auto port = listen_port.load(); port != 0) {
      fields.emplace_back(std::string(HEADER_LISTEN_PORT), std::to_string(port));
    }
    // A stream request takes only a stream; the capability still decides (CONTRACT §5.1),
    // and a plain answer comes back as the `done` frame (async_stream_on).
    // Binary frames only on the caller's explicit ask (binary_frames.h), SSE still taken.
    std::string accept = stream ? "text/event-stream" : "application/json";
    if (stream && o.binary_frames) accept = std::string(BINARY_FRAMES_CONTENT_TYPE) + ", " + accept;
    fields.emplace_back("Accept", accept);
    if (method_has_body(method)) fields.emplace_back("Content-Type", "application/json");
    HN_TRY_ASSIGN(p.wire, serialize_request(method, target, peer, fields, wire, !stream));
    return p;
  }

  // CONTRACT §5.2: a signed response must be the peer's answer to this request; a
  // mutating capability's response must be signed.
  // Every refusal counts in hearthnet_signature_failures_total{reason="response"} (X03 §4.2).
  static Status check_response_signature(const Headers& headers, int status, const Json& body,
                                         const Endpoint& peer, const RequestEnvelope& request) {
    Status st = check_response_signature_unmetered(headers, status, body, peer, request);
    if (!st) observability::standard_metrics().signature_failures_total->inc({"response"});
    return st;
  }

  static Status check_response_signature_unmetered(const Headers& headers, int status,
                                                   const Json& body, const Endpoint& peer,
                                                   const RequestEnvelope& request) {
    auto sig = response_signature_from_headers(headers);
    if (!sig) {
      if (response_signature_mandatory(request.capability)) {
        return make_error(ErrorCode::invalid_signature, "unsigned response to a mutating call");
      }
      return {};
    }
    HN_TRY(verify_response(*sig, status, body, peer.node_id.str()));
    if (sig->request_id != request.request_id) {
      return make_error(ErrorCode::invalid_signature, "response to another request");
    }
    return {};
  }

  std::unique_ptr<Conn> take_idle(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end()) return nullptr;
    auto& v = it->second;
    const std::int64_t now = monotonic_ms();
    while (!v.empty()) {
      auto c = std::move(v.back());
      v.pop_back();
      if (now - c->last_used_ms < opts.connection_idle.count()) {
        c->reused = true;
        return c;
      }
      c->close();
    }
    return nullptr;
  }

  void put_idle(const std::string& key, std::unique_ptr<Conn> c) {
    auto& v = idle[key];
    if (v.size() >= opts.max_idle_per_peer) {
      c->close();
      return;
    }
    c->last_used_ms = monotonic_ms();
    v.push_back(std::move(c));
  }

  asio::awaitable<Result<std::unique_ptr<Conn>>> async_connect(Endpoint peer,
                                                               Clock_::time_point deadline) {
    const std::string key = peer_key(peer);
    if (auto b = backoff.find(key); b != backoff.end() && monotonic_ms() < b->second.second) {
      co_return make_error(ErrorCode::partition, "peer unreachable (reconnect backoff)");
    }
    beast::error_code ec;
    tcp::resolver resolver(ex);
    auto results = co_await resolver.async_resolve(peer.host, std::to_string(peer.port),
                                                   redirect_error(use_awaitable, ec));
    if (ec) co_return net_error(ec, "resolve " + peer.host);
    auto conn = std::make_unique<Conn>(ex, ssl_ctx);
    auto& layer = beast::get_lowest_layer(conn->stream);
    layer.expires_after(remaining(deadline));
    co_await layer.async_connect(results, redirect_error(use_awaitable, ec));
    if (ec) {
      // X01 §5.2: exponential reconnect backoff, capped at RECONNECT_BACKOFF_CAP_SECONDS.
      auto& b = backoff[key];
      b.first = std::min(b.first + 1, 16);
      std::int64_t delay = std::min<std::int64_t>(100LL << std::min(b.first - 1, 10),
                                                  RECONNECT_BACKOFF_CAP_SECONDS * 1000LL);
      b.second = monotonic_ms() + delay;
      co_return net_error(ec, "connect " + peer.host);
    }
    backoff.erase(key);
    // Small writes (requests, in-band acks) go out at once: no Nagle delay behind an ACK.
    layer.socket().set_option(tcp::no_delay(true), ec);
    layer.expires_after(remaining(deadline));
    co_await conn->stream.async_handshake(ssl::stream_base::client,
                                          redirect_error(use_awaitable, ec));
    if (ec) co_return net_error(ec, "TLS handshake");
    // X01 §4.2: pin the certificate to the node id on first use.
    X509* cert = SSL_get1_peer_certificate(conn->stream.native_handle());
    if (!cert) co_return make_error(ErrorCode::invalid_signature, "peer sent no certificate");
    unsigned char* der = nullptr;
    int len = i2d_X509(cert, &der);
    X509_free(cert);
    if (len <= 0) co_return make_error(ErrorCode::invalid_signature, "peer certificate unreadable");
    Bytes fp = cert_fingerprint_der({der, static_cast<std::size_t>(len)});
    OPENSSL_free(der);
    Status pinned = pins.check_or_pin(peer.node_id, fp);
    if (!pinned) {
      conn->close();
      co_return pinned.take_error();
    }
    co_return std::move(conn);
  }

  asio::awaitable<Result<ClientResponse>> async_exchange(Endpoint peer, Prepared p,
                                                         Clock_::time_point deadline,
                                                         bool verify) {
    const std::string key = peer_key(peer);
    for (int attempt = 0;; ++attempt) {
      auto conn = take_idle(key);
      if (!conn) {
        auto fresh = co_await async_connect(peer, deadline);
        if (!fresh) co_return fresh.take_error();
        conn = std::move(*fresh);
      }
      const bool reused = conn->reused;
      auto& layer = beast::get_lowest_layer(conn->stream);
      beast::error_code ec;
      layer.expires_after(remaining(deadline));
      co_await asio::async_write(conn->stream, asio::buffer(p.wire), redirect_error(use_awaitable, ec));
      http::response_parser<http::string_body> parser;
      parser.body_limit(opts.max_response_bytes);
      if (!ec) {
        layer.expires_after(remaining(deadline));
        co_await http::async_read(conn->stream, conn->buffer, parser,
                                  redirect_error(use_awaitable, ec));
      }
      if (ec) {
        conn->close();
        // A pooled connection the server closed meanwhile: retry once on a fresh one.
        if (reused && attempt == 0 && ec != beast::error::timeout) continue;
        co_return net_error(ec, "request");
      }
      auto res = parser.release();
      ClientResponse out;
      out.status = static_cast<int>(res.result_int());
      out.headers = to_headers(res.base());
      if (is_json(out.headers)) {
        auto body = parse_json(res.body());
        if (!body) {
          conn->close();
          co_return make_error(ErrorCode::bad_request, "response is not valid JSON");
        }
        out.body = std::move(*body);
      } else {
        out.text = std::move(res.body());
      }
      if (verify) {
        if (Status st = check_response_signature(out.headers, out.status, out.body, peer, p.envelope);
            !st) {
          conn->close();
          co_return st.take_error();
        }
      }
      if (res.keep_alive()) {
        put_idle(key, std::move(conn));
      } else {
        conn->close();
      }
      co_return out;
    }
  }

  static asio::awaitable<void> async_send_ack(std::shared_ptr<Impl> self, Endpoint peer,
                                              std::string stream_id, std::int64_t upto) {
    CallOptions o;
    o.timeout = std::chrono::seconds(STREAM_ACK_TIMEOUT_SECONDS);
    auto p = self->prepare(peer, "POST", std::string(STREAM_ACK_PATH),
                           Json{{"stream_id", stream_id}, {"seq", upto}}, o, {}, {}, false);
    if (!p) co_return;
    auto deadline = Clock_::now() + o.timeout;
    (void)co_await self->async_exchange(peer, std::move(*p), deadline, true);
  }

  // A streamed signed POST to `path` (CONTRACT §5.3); see Client::async_stream.
  static asio::awaitable<Result<Frame>> async_stream_on(std::shared_ptr<Impl> impl, Endpoint peer,
                                                        std::string path, std::string capability,
                                                        Version version, Json body,
                                                        FrameCallback on_frame,
                                                        CallOptions options);

  asio::any_io_executor ex;
  identity::KeyPair keys;
  PinnedCerts& pins;
  ClientOptions opts;
  const Clock& clock;
  std::atomic<std::uint16_t> listen_port{0};  // HEADER_LISTEN_PORT; 0: not sent
  ssl::context ssl_ctx{ssl::context::tls_client};
  std::map<std::string, std::vector<std::unique_ptr<Conn>>> idle;
  std::map<std::string, std::pair<int, std::int64_t>> backoff;  // failures, retry-at (ms)
};

Client::Client(asio::any_io_executor executor, const identity::KeyPair& keys, PinnedCerts& pins,
               ClientOptions options, const Clock& clock)
    : m_impl(std::make_shared<Impl>(std::move(executor), keys, pins, std::move(options), clock)) {}

Client::~Client() { close(); }

void Client::set_listen_port(std::uint16_t port) { m_impl->listen_port = port; }

void Client::close() {
  for (auto& [key, conns] : m_impl->idle) {
    for (auto& c : conns) c->close();
  }
  m_impl->idle.clear();
}

std::size_t Client::idle_connections() const {
  std::size_t n = 0;
  for (auto& [key, conns] : m_impl->idle) n += conns.size();
  return n;
}

asio::awaitable<Result<ClientResponse>> Client::async_request(Endpoint peer, std::string method,
                                                              std::string path, Json body,
                                                              CallOptions options,
                                                              std::string capability,
                                                              Version version) {
  auto impl = m_impl;
  auto timeout = options.timeout.count() > 0 ? options.timeout : impl->opts.default_timeout;
  auto deadline = Clock_::now() + timeout;
  auto p = impl->prepare(peer, method, path, body, options, std::move(capability), version, false);
  if (!p) co_return p.take_error();
  co_return co_await impl->async_exchange(std::move(peer), std::move(*p), deadline, true);
}

asio::awaitable<Result<Json>> Client::async_call(Endpoint peer, std::string capability,
                                                 Version version, Json body,
                                                 CallOptions options) {
  // The awaitable is built first: GCC 12 mishandles temporaries (here the by-value
  // CallOptions and strings) that live inside a co_await expression.
  auto op = async_request(std::move(peer), "POST", std::string(BUS_CALL_PATH), std::move(body),
                          std::move(options), std::move(capability), version);
  auto r = co_await std::move(op);
  if (!r) co_return r.take_error();
  if (r->status < 200 || r->status >= 300) co_return parse_error_response(r->status, r->body);
  co_return std::move(r->body);
}

asio::awaitable<Result<ClientResponse>> Client::async_get_public(Endpoint peer, std::string path,
                                                                 CallOptions options) {
  auto impl = m_impl;
  auto timeout = options.timeout.count() > 0 ? options.timeout : impl->opts.default_timeout;
  auto deadline = Clock_::now() + timeout;
  Impl::Prepared p;
  auto wire = serialize_request("GET", path, peer, {{"Accept", "application/json, text/plain"}}, "", true);
  if (!wire) co_return wire.take_error();
  p.wire = std::move(*wire);
  co_return co_await impl->async_exchange(std::move(peer), std::move(p), deadline, false);
}

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
