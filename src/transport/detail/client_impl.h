// client_impl.h — the signed HTTPS client's inside (client.h), shared by client.cpp (plain
// exchanges, the connection pool) and client_stream.cpp (SSE and binary streams): a pooled
// connection, the request serialiser, and Client::Impl.
//
// Thread-safety: as Client (client.h): Impl's state is touched on the client's executor only.
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/read.hpp>

#include "observability/standard_metrics.h"
#include "transport/binary_frames.h"
#include "transport/client.h"
#include "transport/detail/asio_names.h"
#include "transport/flow_control.h"

namespace hn::transport {

using Clock_ = std::chrono::steady_clock;

namespace detail {

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
// An HTTP/1.1 request as one buffer: request line, Host, User-Agent, `fields`,
// Content-Length for a body, Connection: close unless kept alive. A method that is not a
// token or a target with spaces or control characters is refused (they would split the
// request); our own header values never hold CR or LF.
inline Result<std::string> serialize_request(std::string_view method, std::string_view target,
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

inline std::string peer_key(const Endpoint& p) {
  return p.host + ":" + std::to_string(p.port) + "/" + p.node_id.str();
}

inline std::chrono::milliseconds remaining(Clock_::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock_::now());
  return left.count() > 0 ? left : std::chrono::milliseconds(1);
}

inline Error net_error(const beast::error_code& ec, std::string_view what) {
  if (ec == beast::error::timeout) {
    return make_error(ErrorCode::timeout, std::string(what) + ": deadline exceeded");
  }
  return make_error(ErrorCode::partition, std::string(what) + ": " + ec.message());
}

inline Headers to_headers(const http::fields& fields) {
  Headers h;
  for (const auto& f : fields) {
    h.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  return h;
}

inline bool is_json(const Headers& h) {
  auto ct = find_header(h, "Content-Type");
  return ct && ct->find("application/json") != std::string_view::npos;
}

}  // namespace detail

using detail::Conn;
using detail::is_json;
using detail::net_error;
using detail::peer_key;
using detail::remaining;
using detail::serialize_request;
using detail::to_headers;

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

}  // namespace hn::transport
