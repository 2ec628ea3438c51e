// server.cpp — the dashboard's HTTP server: accept loop, session admission, static files
// and the API dispatch (server.h). The event stream and streamed calls are in events.cpp.
#include "ui/server.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <list>
#include <map>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "transport/envelope.h"
#include "ui/assets.h"
#include "ui/detail/server_impl.h"
#include "ui/session.h"

namespace hn::ui {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

ApiResponse ApiResponse::error(const Error& e) {
  auto wire = transport::make_error_response(e);
  return ApiResponse{wire.status, std::move(wire.body)};
}

namespace detail {
namespace {

// CSP: only our own scripts; inline styles for the few computed colours; images from
// data:/blob: URLs (QR codes, previews); frames only of blob: URLs (the Files tab's PDF
// preview). Nobody frames us, no referrer (the URL held the token).
void add_security_headers(HttpResponse& res) {
  res.set("Content-Security-Policy",
          "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
          "connect-src 'self'; frame-src 'self' blob:; frame-ancestors 'none'; object-src 'none'; "
          "base-uri 'none'");
  res.set("X-Frame-Options", "DENY");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set(http::field::cache_control, "no-store");
}

HttpResponse json_response(int status, const Json& body, unsigned version) {
  HttpResponse res{static_cast<http::status>(status), version};
  res.set(http::field::content_type, "application/json");
  res.body() = body.dump();
  add_security_headers(res);
  res.prepare_payload();
  return res;
}

HttpResponse refused_response(unsigned version) {
  HttpResponse res{http::status::unauthorized, version};
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.body() =
      "<!doctype html><meta charset=utf-8><title>HearthNet</title>"
      "<p>This dashboard opens only with the link its node printed when it started "
      "(<code>hearthnet run</code> shows it; it is also in the node's <code>run/ui.url</code>).";
  add_security_headers(res);
  res.prepare_payload();
  return res;
}

// SPA routes (no file extension) get index.html; files get their bytes.
const Asset* asset_for(std::string_view path) {
  if (const Asset* a = find_asset(path)) return a;
  auto slash = path.rfind('/');
  if (path.find('.', slash == std::string_view::npos ? 0 : slash) == std::string_view::npos) {
    return find_asset("/index.html");
  }
  return nullptr;
}

// index.html with what the page's first paint needs, so it waits for no round trip: the
// mode (node or first-run wizard) and the newest topology the event hub saw, as a JSON
// data block (`type="application/json"` is never executed, so the CSP is untouched). '<'
// only occurs inside JSON strings, where "\u003c" means the same and cannot close the tag.
std::string boot_page(std::string_view html, bool node_mode, const std::string& topology) {
  std::string data = std::string("{\"mode\":\"") + (node_mode ? "node" : "setup") + "\"";
  if (node_mode && !topology.empty()) data += ",\"topology\":" + topology;
  data += "}";
  std::string safe;
  safe.reserve(data.size());
  for (char c : data) {
    if (c == '<') {
      safe += "\\u003c";
    } else {
      safe += c;
    }
  }
  std::string out(html);
  const auto at = out.find("</head>");
  if (at == std::string::npos) return out;
  out.insert(at, "<script type=\"application/json\" id=\"hn-boot\">" + safe + "</script>\n");
  return out;
}

}  // namespace

asio::awaitable<HttpResponse> ServerImpl::async_dispatch(HttpRequest req) {
  std::string_view target(req.target().data(), req.target().size());
  std::string path(target_path(target));
  unsigned v = req.version();
  std::string_view cookie;
  if (auto it = req.find(http::field::cookie); it != req.end()) {
    cookie = std::string_view(it->value().data(), it->value().size());
  }
  switch (admit(target, cookie, options.token)) {
    case Admission::refused:
      co_return refused_response(v);
    case Admission::redirect_with_cookie: {
      HttpResponse res{http::status::see_other, v};
      res.set(http::field::location, target_without_token(target));
      res.set(http::field::set_cookie, session_cookie(options.token));
      add_security_headers(res);
      res.prepare_payload();
      co_return res;
    }
    case Admission::allowed:
      break;
  }
  if (path.rfind("/api/", 0) == 0) co_return co_await async_api(std::move(req), std::move(path));
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    co_return json_response(
        405, ApiResponse::error(make_error(ErrorCode::bad_request, "method not allowed")).body, v);
  }
  const Asset* asset = asset_for(path);
  if (!asset) {
    co_return json_response(
        404, ApiResponse::error(make_error(ErrorCode::not_found, "no such file: " + path)).body, v);
  }
  HttpResponse res{http::status::ok, v};
  res.set(http::field::content_type, std::string(asset->content_type));
  add_security_headers(res);
  if (asset->path == "/sw.js") res.set("Service-Worker-Allowed", "/");
  res.body() = asset->path == "/index.html"
                   ? boot_page(asset->bytes, link != nullptr, last_topology_json)
                   : std::string(asset->bytes);
  res.prepare_payload();
  co_return res;
}

asio::awaitable<HttpResponse> ServerImpl::async_api(HttpRequest req, std::string path) {
  unsigned v = req.version();
  std::string method(req.method_string());
  if (method != "GET" && req.find(std::string(UI_HEADER)) == req.end()) {
    co_return json_response(
        403,
        ApiResponse::error(make_error(ErrorCode::unauthorized, "missing X-HearthNet-UI header"))
            .body,
        v);
  }
  // The body (POST) or the query (GET) as one JSON object.
  Json body = Json::object();
  std::string_view target(req.target().data(), req.target().size());
  if (method == "GET") {
    auto q = target.find('?');
    if (q != std::string_view::npos) {
      auto query = transport::parse_query(target.substr(q + 1));
      if (!query) co_return json_response(400, ApiResponse::error(query.error()).body, v);
      body = transport::query_to_json(*query);
    }
  } else if (!req.body().empty()) {
    body = Json::parse(req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      co_return json_response(
          400,
          ApiResponse::error(make_error(ErrorCode::bad_request, "the body must be a JSON object"))
              .body,
          v);
    }
  }
  if (auto it = extra_routes.find({method, path}); it != extra_routes.end()) {
    ApiResponse r = co_await it->second(std::move(body));
    co_return json_response(r.status, r.body, v);
  }
  if (path == "/api/session") {
    Json s{{"mode", link ? "node" : "setup"}};
    if (link) {
      s["node_id"] = link->keys().node_id().str();
      s["short_id"] = link->keys().short_id();
    }
    co_return json_response(200, s, v);
  }
  if (!link) {
    co_return json_response(
        503,
        ApiResponse::error(make_error(ErrorCode::not_found, "this node has no community yet",
                                      Json{{"setup", true}}))
            .body,
        v);
  }
  ApiResponse r = co_await async_node_api(method, path, std::move(body));
  co_return json_response(r.status, r.body, v);
}

asio::awaitable<ApiResponse> ServerImpl::async_node_api(std::string method, std::string path,
                                                        Json body) {
  static const std::map<std::string, std::string> PUBLIC_ROUTES = {
      {"/api/manifest", "/manifest"},
      {"/api/community/manifest", "/community/manifest"},
      {"/api/ready", "/ready"},
      {"/api/health", "/health"},
      {"/api/trace/recent", "/trace/recent"}};
  if (method == "GET") {
    if (auto it = PUBLIC_ROUTES.find(path); it != PUBLIC_ROUTES.end()) {
      std::string route = it->second;
      if (!body.empty()) route += "?" + transport::encode_query(body);
      auto r = co_await link->async_get_public(route);
      if (!r) co_return ApiResponse::error(r.error());
      co_return ApiResponse{r->status, r->body.is_null() ? Json(r->text) : std::move(r->body)};
    }
  }
  static constexpr std::string_view NODE_PREFIX = "/api/node/";
  if (path.rfind(NODE_PREFIX, 0) == 0) {
    std::string rest = path.substr(NODE_PREFIX.size());
    auto r = co_await link->async_request(method, "/node/v1/" + rest, std::move(body));
    if (!r) co_return ApiResponse::error(r.error());
    co_return ApiResponse{r->status, std::move(r->body)};
  }
  if (path == "/api/call" && method == "POST") {
    auto call = parse_call(body);
    if (!call) co_return ApiResponse::error(call.error());
    auto r = co_await link->async_call(call->capability, call->version, std::move(call->body),
                                       call->node);
    if (!r) co_return ApiResponse::error(r.error());
    co_return ApiResponse{200, std::move(*r)};
  }
  co_return ApiResponse::error(make_error(ErrorCode::not_found, "no such API route: " + path));
}

Result<CallRequest> parse_call(const Json& body) {
  CallRequest c;
  auto cap = body.find("capability");
  if (cap == body.end() || !cap->is_string() || cap->get<std::string>().empty()) {
    return make_error(ErrorCode::bad_request, "capability (a string) is required");
  }
  c.capability = cap->get<std::string>();
  if (auto ver = body.find("version"); ver != body.end()) {
    auto parsed = ver->is_string() ? Version::parse(ver->get<std::string>()) : std::nullopt;
    if (!parsed) return make_error(ErrorCode::bad_request, "version must be \"MAJOR.MINOR\"");
    c.version = *parsed;
  }
  if (auto b = body.find("body"); b != body.end()) {
    if (!b->is_object()) return make_error(ErrorCode::bad_request, "body must be an object");
    c.body = *b;
  }
  if (auto s = body.find("stream"); s != body.end()) {
    if (!s->is_boolean()) return make_error(ErrorCode::bad_request, "stream must be a boolean");
    c.stream = s->get<bool>();
  }
  if (auto n = body.find("node"); n != body.end() && !n->is_null()) {
    if (!n->is_string()) return make_error(ErrorCode::bad_request, "node must be a string");
    c.node = n->get<std::string>();
  }
  return c;
}

asio::awaitable<void> ServerImpl::async_session(tcp::socket socket) {
  auto self = shared_from_this();
  auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
  auto handle = open.insert(open.end(), stream);
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(MAX_UI_BODY_BYTES);
    stream->expires_after(std::chrono::seconds(120));
    boost::system::error_code ec;
    co_await http::async_read(*stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec || stopping) break;
    HttpRequest req = parser.release();
    bool keep = req.keep_alive();
    std::string_view target(req.target().data(), req.target().size());
    std::string path(target_path(target));
    std::string_view cookie;
    if (auto it = req.find(http::field::cookie); it != req.end()) {
      cookie = std::string_view(it->value().data(), it->value().size());
    }
    bool authorised = admit(target, cookie, options.token) == Admission::allowed;
    if (authorised && link && path == "/api/events" && req.method() == http::verb::get) {
      stream->expires_never();
      co_await async_events(stream);
      break;
    }
    if (authorised && link && path == "/api/call" && req.method() == http::verb::post &&
        req.find(std::string(UI_HEADER)) != req.end()) {
      Json body = Json::parse(req.body(), nullptr, false);
      auto call = body.is_object()
                      ? parse_call(body)
                      : Result<CallRequest>(make_error(ErrorCode::bad_request, "bad body"));
      if (call && call->stream) {
        stream->expires_never();
        co_await async_stream_call(stream, std::move(*call));
        break;
      }
    }
    HttpResponse res = co_await async_dispatch(std::move(req));
    res.keep_alive(keep);
    stream->expires_after(std::chrono::seconds(30));
    co_await http::async_write(*stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep) break;
  }
  boost::system::error_code ignored;
  stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream->close();
  open.erase(handle);
}

asio::awaitable<void> ServerImpl::async_accept_loop() {
  auto self = shared_from_this();
  while (!stopping) {
    boost::system::error_code ec;
    tcp::socket socket =
        co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) break;
      continue;
    }
    asio::co_spawn(executor, async_session(std::move(socket)), asio::detached);
  }
}

}  // namespace detail

Server::Server(asio::any_io_executor executor, ServerOptions options)
    : m_impl(std::make_shared<detail::ServerImpl>(executor, std::move(options))) {}

Server::~Server() { stop(); }

void Server::set_node(NodeLinkOptions link) {
  m_impl->link = std::make_unique<NodeLink>(m_impl->executor, std::move(link));
}

void Server::add_api(std::string method, std::string path, ApiHandler handler) {
  m_impl->extra_routes[{std::move(method), std::move(path)}] = std::move(handler);
}

Result<std::uint16_t> Server::start() {
  auto& impl = *m_impl;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(impl.options.host, ec);
  if (ec)
    return make_error(ErrorCode::config_error,
                      "ui.host is not an IP address: " + impl.options.host);
  tcp::endpoint ep(address, impl.options.port);
  impl.acceptor.open(ep.protocol(), ec);
  if (!ec) impl.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl.acceptor.bind(ep, ec);
  if (!ec) impl.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(ErrorCode::io_error, "cannot listen on " + impl.options.host + ":" +
                                               std::to_string(impl.options.port) + ": " +
                                               ec.message());
  }
  impl.bound_port = impl.acceptor.local_endpoint().port();
  asio::co_spawn(impl.executor, impl.async_accept_loop(), asio::detached);
  return impl.bound_port;
}

void Server::stop() {
  auto impl = m_impl;
  if (!impl || impl->stopping.exchange(true)) return;
  asio::post(impl->executor, [impl] {
    boost::system::error_code ec;
    impl->acceptor.close(ec);
    for (auto& s : impl->open) {
      if (auto stream = s.lock()) stream->socket().close(ec);
    }
    impl->wake_all();
    if (impl->link) impl->link->close();
  });
}

std::uint16_t Server::port() const { return m_impl->bound_port; }

std::string Server::url() const {
  std::string host = m_impl->options.host;
  if (host == "0.0.0.0" || host == "::") host = "127.0.0.1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(m_impl->bound_port) + "/?" +
         std::string(TOKEN_QUERY_KEY) + "=" + m_impl->options.token;
}

bool launch_browser(const std::string& url) {
  if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY")) return false;
  if (::access("/usr/bin/xdg-open", X_OK) != 0) return false;
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ::setsid();
    if (::fork() != 0) ::_exit(0);  // double fork: the browser is nobody's zombie
    ::execl("/usr/bin/xdg-open", "xdg-open", url.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return true;
}

}  // namespace hn::ui
