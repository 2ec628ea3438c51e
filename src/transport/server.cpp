// server.cpp — Beast HTTPS server: the X01 §3.3 pipeline (accept, TLS, parse, verify, admit,
// route, write). The server's state and SSE stream writer are in detail/server_impl.h, the
// built-in routes in builtin_routes.cpp. See server.h for the pipeline and threading.
#include "transport/server.h"

#include "transport/detail/server_impl.h"


#include "core/ulid.h"
#include "transport/completion.h"
#include "transport/topic_policy.h"

namespace hn::transport {

// ---------------------------------------------------------------------------------------
// Response / SseWriter conveniences

Response Response::json(Json body, int status) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::error(const Error& error) {
  auto e = make_error_response(error);
  return json(std::move(e.body), e.status);
}

Response Response::plain(std::string text, std::string content_type) {
  Response r;
  r.content_type = std::move(content_type);
  r.text = std::move(text);
  r.body = nullptr;
  return r;
}

void presign(Response& r, const identity::KeyPair& keys, const std::string& request_id,
             const Clock& clock) {
  if (r.content_type != "application/json") return;
  auto body = try_canonical_json(r.body);
  if (!body) {
    r = Response::error(make_error(ErrorCode::internal_error, "response is not JSON"));
    body = canonical_json(r.body);
  }
  r.text = std::move(*body);
  // The canonical text is both the bytes sent and what the signature covers.
  r.signature_headers =
      response_signature_headers(sign_response_canonical(keys, request_id, r.status, r.text, clock));
}

asio::awaitable<Status> SseWriter::async_emit_token(Json token) {
  return async_emit("token", std::move(token));
}
asio::awaitable<Status> SseWriter::async_emit_progress(std::int64_t current, std::int64_t total,
                                                       std::string stage) {
  return async_emit("progress", Json{{"current", current}, {"total", total}, {"stage", stage}});
}
asio::awaitable<Status> SseWriter::async_emit_error(Error error) {
  return async_emit("error", make_error_response(error).body);
}
asio::awaitable<Status> SseWriter::async_emit_done(Json meta) {
  return async_emit("done", std::move(meta));
}
asio::awaitable<Status> SseWriter::async_emit_ack(std::int64_t upto) {
  return async_emit("ack", Json{{"upto", upto}});
}
asio::awaitable<Status> SseWriter::async_emit_all(std::vector<OutFrame> frames) {
  for (auto& f : frames) {
    if (!f.payload.empty()) {
      co_return make_error(ErrorCode::bad_request, "a frame with a binary payload on a text stream");
    }
    Status st = co_await async_emit(std::move(f.event), std::move(f.data));
    if (!st) co_return st;
  }
  co_return Status{};
}

namespace {

// A decimal port 1..65535, else 0.
std::uint16_t parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return 0;
  std::uint32_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return n <= 65535 ? static_cast<std::uint16_t>(n) : 0;
}

bool is_loopback(const asio::ip::address& a) {
  if (a.is_loopback()) return true;
  return a.is_v6() && a.to_v6().is_v4_mapped() &&
         asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
}

// How long a finished stream's connection waits for the client to close it.
constexpr auto STREAM_LINGER = std::chrono::seconds(5);

}  // namespace

// ---------------------------------------------------------------------------------------
// Accepting and serving connections

asio::awaitable<void> Server::Impl::async_accept_loop() {
  auto self = shared_from_this();
  for (;;) {
    beast::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(redirect_error(use_awaitable, ec));
    if (stopped) break;
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
      // EMFILE and friends: back off briefly instead of spinning.
      asio::steady_timer t(ex, std::chrono::milliseconds(50));
      co_await t.async_wait(redirect_error(use_awaitable, ec));
      continue;
    }
    if (sessions.size() >= opts.max_connections) {
      socket.close(ec);
      continue;
    }
    // Responses and stream writes go out at once: no Nagle delay behind the peer's ACK.
    socket.set_option(tcp::no_delay(true), ec);
    auto s = std::make_shared<Session>(std::move(socket), ssl_ctx);
    auto remote = beast::get_lowest_layer(s->stream).socket().remote_endpoint(ec);
    if (!ec) {
      s->remote = remote.address().to_string();
      s->loopback = is_loopback(remote.address());
    }
    sessions[s.get()] = s;
    asio::co_spawn(ex, async_session(s), asio::detached);
  }
}

asio::awaitable<void> Server::Impl::async_session(std::shared_ptr<Session> s) {
  auto self = shared_from_this();
  struct Unregister {
    Impl* impl;
    Session* s;
    ~Unregister() { impl->sessions.erase(s); }
  } unregister{this, s.get()};

  auto& layer = beast::get_lowest_layer(s->stream);
  beast::error_code ec;
  layer.expires_after(opts.handshake_timeout);
  co_await s->stream.async_handshake(ssl::stream_base::server, redirect_error(use_awaitable, ec));
  if (ec) {
    s->close();
    co_return;
  }
  bool streamed = false;
  while (!stopped) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(MAX_HEADER_BYTES));
    parser.body_limit(opts.max_body_bytes);
    layer.expires_after(opts.idle_timeout);
    co_await http::async_read(s->stream, s->buffer, parser, redirect_error(use_awaitable, ec));
    if (ec) {
      // Malformed HTTP, oversized header or body → bad_request (CONTRACT §5.5 has no 413).
      if (ec.category() == http::make_error_code(http::error::body_limit).category() &&
          ec != http::error::end_of_stream && ec != http::error::partial_message) {
        std::string what = ec == http::error::body_limit
                               ? "body larger than " + std::to_string(opts.max_body_bytes) + " bytes"
                               : "malformed HTTP request: " + ec.message();
        Response bad = Response::error(make_error(ErrorCode::bad_request, what));
        co_await async_write_response(s, std::move(bad), new_ulid(), false);
        if (hooks.on_request) {
          RequestRecord rec;
          rec.status = 400;
          rec.error_code = "bad_request";
          hooks.on_request(rec);
        }
      }
      break;
    }
    auto req = parser.release();
    const bool keep_alive = req.keep_alive();
    Outcome out = co_await async_handle(s, std::move(req));
    if (out.kind == Outcome::drop) break;
    if (out.kind == Outcome::streamed) {
      streamed = true;
      break;
    }
    bool ok = co_await async_write_response(s, std::move(out.response), out.request_id,
                                            keep_alive && !stopped);
    if (!ok || !keep_alive) break;
  }
  if (streamed && !stopped) {
    // A stream's last frames may still be in flight while the client's in-band acks sit
    // unread here: closing now would answer them with a TCP reset, and a reset makes the
    // client's kernel drop what it has not read yet — the terminal frame among it. So only
    // our side is shut (FIN after the queued bytes); the stream's reader keeps draining
    // acks until the client closes, and the socket closes with the session, within
    // STREAM_LINGER at most.
    layer.expires_after(STREAM_LINGER);
    layer.socket().shutdown(tcp::socket::shutdown_send, ec);
    co_return;
  }
  if (!streamed && !stopped) {
    // Orderly TLS close for request/response connections, bounded in time.
    layer.expires_after(std::chrono::seconds(1));
    co_await s->stream.async_shutdown(redirect_error(use_awaitable, ec));
  }
  s->close();
}

namespace {
// One header line; a value with CR or LF (never ours, but a request id is echoed) is dropped
// rather than let split the response.
void append_header(std::string& out, std::string_view name, std::string_view value) {
  if (value.find_first_of("\r\n") != std::string_view::npos) return;
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}
}  // namespace

asio::awaitable<bool> Server::Impl::async_write_response(std::shared_ptr<Session> s, Response r,
                                                         std::string request_id,
                                                         bool keep_alive) {
  if (request_id.empty()) request_id = new_ulid();
  if (r.content_type == "application/json") {
    // CONTRACT §5.2: servers sign responses (an async route's response already is).
    if (!r.signature_headers) presign(r, keys, request_id, clock);
  }
  // The response is written as one buffer (status line, headers, body): one TLS record
  // for a small answer, without a serializer and a field allocation per header.
  std::string out;
  out.reserve(r.text.size() + 512);
  const auto reason = http::obsolete_reason(static_cast<http::status>(r.status));
  out.append("HTTP/1.1 ");
  out.append(std::to_string(r.status));
  out.push_back(' ');
  out.append(reason.data(), reason.size());
  out.append("\r\n");
  append_header(out, "Server", "hearthnet");
  append_header(out, "Content-Type", r.content_type);
  if (r.signature_headers) {
    for (const auto& [k, v] : *r.signature_headers) append_header(out, k, v);
  } else {
    append_header(out, HEADER_REQUEST_ID, request_id);
  }
  append_header(out, "Content-Length", std::to_string(r.text.size()));
  if (!keep_alive) append_header(out, "Connection", "close");
  out.append("\r\n");
  out.append(r.text);
  beast::error_code ec;
  beast::get_lowest_layer(s->stream).expires_after(opts.write_timeout);
  co_await asio::async_write(s->stream, asio::buffer(out), redirect_error(use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<Server::Impl::Outcome> Server::Impl::async_handle(
    std::shared_ptr<Session> s, http::request<http::string_body> req) {
  const std::int64_t started_ms = monotonic_ms();
  Outcome out;
  RequestRecord rec;
  Request r;
  r.method = std::string(req.method_string());
  std::string_view target(req.target().data(), req.target().size());
  auto qpos = target.find('?');
  r.path = std::string(target.substr(0, qpos));
  const bool recording = static_cast<bool>(hooks.on_request);  // (no copies for nobody)
  if (recording) {
    rec.method = r.method;
    rec.path = r.path;
  }
  r.remote_address = s->remote;
  r.is_loopback = s->loopback;
  if (auto lp = req.find(beast::string_view(HEADER_LISTEN_PORT.data(), HEADER_LISTEN_PORT.size()));
      lp != req.end()) {
    r.listen_port = parse_port(std::string_view(lp->value().data(), lp->value().size()));
  }
  if (auto accept = req.find(http::field::accept); accept != req.end()) {
    const std::string_view value(accept->value().data(), accept->value().size());
    const bool any = value.find("*/*") != std::string_view::npos;
    r.accepts_stream = any || value.find("text/event-stream") != std::string_view::npos;
    r.accepts_json = any || value.find("application/json") != std::string_view::npos ||
                     value.find("application/*") != std::string_view::npos;
    r.accepts_binary_frames = value.find(BINARY_FRAMES_CONTENT_TYPE) != std::string_view::npos;
  }

  auto finish = [&](Outcome o) {
    rec.duration_ms = monotonic_ms() - started_ms;
    if (o.kind == Outcome::respond) {
      rec.status = o.response.status;
      if (o.response.status >= 400 && o.response.body.is_object()) {
        rec.error_code = o.response.body.value("error", "");
      }
    } else if (o.kind == Outcome::streamed) {
      rec.status = 200;
      rec.streamed = true;
    } else {
      rec.dropped = true;
    }
    if (recording) hooks.on_request(rec);
    return o;
  };
  auto fail = [&](const Error& e) {
    Outcome o;
    o.response = Response::error(e);
    o.request_id = r.request_id;
    return finish(std::move(o));
  };

  auto route_it = routes.find({r.method, r.path});
  if (route_it == routes.end()) {
    bool path_known = false;
    for (const auto& [key, route] : routes) path_known |= key.second == r.path;
    co_return fail(make_error(ErrorCode::not_found,
                              path_known ? "method not allowed on " + r.path : "no route " + r.path));
  }
  Route route = route_it->second;  // a copy: the handler outlives a concurrent add_route

  if (qpos != std::string_view::npos) {
    auto q = parse_query(target.substr(qpos + 1));
    if (!q) co_return fail(q.error());
    r.query = std::move(*q);
  }
  if (method_has_body(r.method)) {
    if (req.body().empty()) {
      if (route.auth == RouteAuth::signed_request) {
        co_return fail(make_error(ErrorCode::bad_request, "empty body"));
      }
      r.body = Json::object();
    } else {
      auto body = parse_json(req.body());
      if (!body) co_return fail(body.error());
      r.body = std::move(*body);
    }
  } else {
    r.body = query_to_json(r.query);
  }

  std::string stream_key;
  if (route.auth == RouteAuth::signed_request) {
    // The envelope straight from the parsed fields (case-insensitive lookups, no copies
    // of the headers first).
    auto env = envelope_from_lookup([&req](std::string_view name) -> std::optional<std::string_view> {
      auto it = req.find(beast::string_view(name.data(), name.size()));
      if (it == req.end()) return std::nullopt;
      return std::string_view(it->value().data(), it->value().size());
    });
    if (!env) {
      if (env.error().code == ErrorCode::invalid_signature) rec.reason = "malformed_envelope";
      co_return fail(env.error());
    }
    r.request_id = env->request_id;
    if (recording) {
      rec.request_id = env->request_id;
      rec.capability = env->capability;
      rec.caller = env->from;
    }
    // A signature is bound to its route: /bus/v1/call carries a capability name, every
    // other route carries its own path.
    const bool bus = r.path == BUS_CALL_PATH;
    if (bus ? (env->capability.empty() || env->capability.front() == '/') : env->capability != r.path) {
      rec.reason = "route_mismatch";
      co_return fail(make_error(ErrorCode::invalid_signature, "capability header does not match the route"));
    }
    // The checks run here, on the network thread: an Ed25519 verify and a few map lookups
    // (tens of µs, like the TLS work this thread already does) cost less than the two
    // cross-thread wake-ups a hop to the pool and back takes.
    if (Status verified = verify_request(*env, r.body); !verified) {
      rec.reason = "bad_signature";
      co_return fail(verified.error());
    }
    if (auto refused = admit(*env, r, s->loopback)) co_return finish(std::move(*refused));
    // CONTRACT §5.1: the route decides (for /bus/v1/call the capability and the request,
    // bus::answers_with_stream); without a chooser, a request that takes only a stream.
    if (route.plain && !(route.streams ? route.streams(r) : r.accepts_stream && !r.accepts_json)) {
      // An async route: the handler starts the work (on the service's own queue) and its
      // Respond, called where the work finished, signs the answer there; this coroutine
      // resumes with it to write.
      auto op = async_completion<Outcome>([self = shared_from_this(), r = std::move(r),
                                           plain = route.plain](std::function<void(Outcome)> done) mutable {
        self->start_async(std::move(r), plain, std::move(done));
      });
      Outcome o = co_await std::move(op);
      co_return finish(std::move(o));
    }
    stream_key = env->from + '\n' + env->request_id;
  } else {
    r.request_id = new_ulid();
  }

  auto writer = std::make_shared<StreamWriter>(shared_from_this(), s, r.request_id,
                                               r.accepts_binary_frames);
  if (!stream_key.empty()) streams[stream_key] = writer;
  Response resp;
  bool threw = false;
  std::string what;
  try {
    resp = co_await route.handler(std::move(r), writer);
  } catch (const std::exception& e) {
    threw = true;
    what = e.what();
  } catch (...) {
    threw = true;
  }
  if (threw) resp = Response::error(make_error(ErrorCode::internal_error, "handler failed: " + what));
  if (!stream_key.empty()) streams.erase(stream_key);
  if (writer->started()) {
    if (!writer->finished() && !writer->cancelled()) {
      // A handler that returns without a terminal frame: its Response becomes the frame.
      // (Locals, not temporaries: GCC 12 double-destroys ?: temporaries inside co_await.)
      if (resp.status < 300) {
        Json meta = resp.body.is_null() ? Json::object() : resp.body;
        co_await writer->async_emit_done(std::move(meta));
      } else {
        Error err = parse_error_response(resp.status, resp.body);
        co_await writer->async_emit_error(std::move(err));
      }
    }
    Outcome o;
    o.kind = Outcome::streamed;
    co_return finish(std::move(o));
  }
  Outcome o;
  o.response = std::move(resp);
  o.request_id = writer->stream_id();
  co_return finish(std::move(o));
}

std::optional<Server::Impl::Outcome> Server::Impl::admit(const RequestEnvelope& env, Request& r,
                                                         bool loopback) {
  auto refuse = [&](const Error& e) {
    Outcome o;
    o.response = Response::error(e);
    o.request_id = r.request_id;
    return std::optional<Outcome>(std::move(o));
  };
  if (Status fresh = replay.check(env); !fresh) return refuse(fresh.error());
  if (!opts.community.empty() && env.community != opts.community.str()) {
    return refuse(make_error(ErrorCode::unauthorized, "request for another community"));
  }
  r.caller = NodeId(env.from);
  r.community = CommunityId(env.community);
  r.capability = env.capability;
  r.version = Version::parse(env.version).value_or(Version{});
  if (env.from == own_id && loopback) {
    r.trust = TrustLevel::self;  // DESIGN.md: own key over loopback
    return std::nullopt;
  }
  if (!hooks.membership) return refuse(make_error(ErrorCode::unauthorized, "caller is not a member"));
  auto trust = hooks.membership(r.caller, r.community);
  if (!trust) return refuse(trust.error());
  r.trust = *trust;
  // An ack on the side channel is exempt: it names a stream this caller opened (that
  // request was limited), and limiting its acks would stall the stream itself.
  RateCheck rc = r.path == STREAM_ACK_PATH ? RateCheck{} : limiter.check(env.from, env.capability);
  if (rc.hard_exceeded) {
    Outcome o;
    o.kind = Outcome::drop;
    return o;
  }
  if (!rc.allowed) {
    Error e(ErrorCode::rate_limited, "rate limit exceeded");
    e.retry_after_ms = rc.retry_after_ms;
    return refuse(e);
  }
  return std::nullopt;
}

void Server::Impl::start_async(Request r, const AsyncHandler& plain,
                               std::function<void(Outcome)> done) {
  std::string request_id = r.request_id;
  Respond respond = [self = shared_from_this(), request_id, done = std::move(done)](Response resp) {
    presign(resp, self->keys, request_id, self->clock);
    Outcome out;
    out.request_id = request_id;
    out.response = std::move(resp);
    done(std::move(out));
  };
  try {
    plain(std::move(r), respond);
  } catch (const std::exception& e) {
    // Only a handler that threw before taking ownership of the work gets here.
    respond(Response::error(make_error(ErrorCode::internal_error, std::string("handler failed: ") + e.what())));
  }
}

void Server::Impl::do_stop() {
  if (stopped) return;
  stopped = true;
  beast::error_code ec;
  acceptor.close(ec);
  pubsub.stop();
  for (auto& [ptr, weak] : streams) {
    if (auto w = weak.lock()) w->on_disconnect();
  }
  for (auto& [ptr, weak] : sessions) {
    if (auto s = weak.lock()) s->close();
  }
}

// ---------------------------------------------------------------------------------------
// Server

Server::Server(asio::any_io_executor executor, const identity::KeyPair& keys,
               ServerOptions options, ServerHooks hooks, const Clock& clock)
    : m_impl(std::make_shared<Impl>(std::move(executor), keys, std::move(options),
                                    std::move(hooks), clock)) {
  m_impl->add_builtin_routes();
}

Server::~Server() { stop(); }

void Server::add_route(std::string method, std::string path, Handler handler, RouteAuth auth) {
  m_impl->routes[{std::move(method), std::move(path)}] = Impl::Route{std::move(handler), auth, {}};
}

void Server::add_async_route(std::string method, std::string path, AsyncHandler plain,
                             Handler stream_handler, StreamChoice streams) {
  m_impl->routes[{std::move(method), std::move(path)}] = Impl::Route{
      std::move(stream_handler), RouteAuth::signed_request, std::move(plain), std::move(streams)};
}

Result<std::uint16_t> Server::start() {
  Impl& impl = *m_impl;
  try {
    impl.ssl_ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                             ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                             ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    impl.ssl_ctx.use_certificate_chain(asio::buffer(impl.opts.cert_pem));
    impl.ssl_ctx.use_private_key(asio::buffer(impl.opts.key_pem), ssl::context::pem);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::bad_request, std::string("TLS certificate/key: ") + e.what());
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(impl.opts.host, ec);
  if (ec) return make_error(ErrorCode::bad_request, "bad listen host " + impl.opts.host);
  tcp::endpoint ep(address, impl.opts.port);
  impl.acceptor.open(ep.protocol(), ec);
  if (!ec) impl.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl.acceptor.bind(ep, ec);
  if (!ec) impl.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(ErrorCode::socket_in_use,
                      "cannot listen on " + impl.opts.host + ":" + std::to_string(impl.opts.port) +
                          ": " + ec.message());
  }
  impl.port = impl.acceptor.local_endpoint().port();
  asio::co_spawn(impl.ex, impl.async_accept_loop(), asio::detached);
  return impl.port;
}

void Server::stop() {
  asio::dispatch(m_impl->ex, [impl = m_impl] { impl->do_stop(); });
}

std::uint16_t Server::port() const { return m_impl->port; }

PubSub& Server::pubsub() { return m_impl->pubsub; }

std::size_t Server::active_streams() const { return m_impl->streams.size(); }

}  // namespace hn::transport
