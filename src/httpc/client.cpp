// client.cpp — one HTTP/1.1 exchange on a private io_context (Beast + coroutines).
#include "httpc/client.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>
#include <limits>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/json.h"

namespace hn::httpc {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Error failure(const std::string& what, const Url& url, const beast::error_code& ec) {
  if (ec == beast::error::timeout) {
    return make_error(ErrorCode::timeout, what + " " + url.to_string() + ": timed out");
  }
  return make_error(ErrorCode::internal_error, what + " " + url.to_string() + ": " + ec.message());
}

// Nothing was sent: the host does not resolve, or refuses or ignores the connection.
Error unreachable(const Url& url, const beast::error_code& ec) {
  Error e = failure("server unreachable:", url, ec);
  e.detail = Json{{"unreachable", true}};
  return e;
}

// The state one exchange shares between its coroutine and the cancel callback.
struct Exchange {
  Exchange(const Request& r, const ResponseHandler& h) : request(r), handler(h), ioc(1) {}
  const Request& request;
  const ResponseHandler& handler;
  asio::io_context ioc;
  std::optional<Status> outcome;
  bool cancelled = false;
};

template <typename Stream>
asio::awaitable<Status> async_talk(Exchange& x, Stream& stream, beast::tcp_stream& lowest) {
  const Request& r = x.request;
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(r.method), r.url.path, 11};
  req.set(bhttp::field::host, r.url.host);
  req.set(bhttp::field::user_agent, "hearthnet");
  for (const auto& [name, value] : r.headers) req.set(name, value);
  req.body() = r.body;
  req.prepare_payload();

  beast::error_code ec;
  lowest.expires_after(r.idle_timeout);
  co_await bhttp::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failure("sending to", r.url, ec);

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  // No limit of the parser's own (a stream is as long as the generation; fetch() caps whole
  // bodies). Not boost::none: Beast 1.74 compares a Content-Length with the empty optional
  // as greater and refuses every body that has one (body_limit).
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  lowest.expires_after(r.idle_timeout);
  co_await bhttp::async_read_header(stream, buffer, parser,
                                    asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failure("reading from", r.url, ec);
  ResponseHead head;
  head.status = static_cast<int>(parser.get().result_int());
  for (const auto& field : parser.get()) {
    head.headers[lower(std::string_view(field.name_string().data(), field.name_string().size()))] =
        std::string(field.value());
  }
  if (x.handler.on_head) {
    if (auto s = x.handler.on_head(head); !s) co_return s;
  }
  while (!parser.is_done()) {
    lowest.expires_after(r.idle_timeout);
    co_await bhttp::async_read_some(stream, buffer, parser,
                                    asio::redirect_error(asio::use_awaitable, ec));
    std::string& body = parser.get().body();
    if (!body.empty()) {
      std::string piece;
      piece.swap(body);
      if (x.handler.on_body) {
        if (auto s = x.handler.on_body(piece); !s) co_return s;
      }
    }
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == bhttp::error::partial_message) {
      if (parser.is_done()) break;
      co_return make_error(ErrorCode::internal_error,
                           "server " + r.url.to_string() + ": the stream ended early");
    }
    if (ec) co_return failure("reading from", r.url, ec);
  }
  co_return Status{};
}

asio::awaitable<void> async_run(Exchange& x, asio::ssl::context* tls) {
  const Request& r = x.request;
  beast::error_code ec;
  tcp::resolver resolver(x.ioc);
  auto endpoints = co_await resolver.async_resolve(
      r.url.host, std::to_string(r.url.port), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    x.outcome = unreachable(r.url, ec);
    co_return;
  }
  if (tls == nullptr) {
    beast::tcp_stream stream(x.ioc);
    stream.expires_after(r.connect_timeout);
    co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      x.outcome = unreachable(r.url, ec);
      co_return;
    }
    x.outcome = co_await async_talk(x, stream, stream);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> stream(x.ioc, *tls);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), r.url.host.c_str())) {
    x.outcome = make_error(ErrorCode::internal_error, "TLS: bad host name " + r.url.host);
    co_return;
  }
  stream.set_verify_callback(asio::ssl::host_name_verification(r.url.host));
  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_after(r.connect_timeout);
  co_await lowest.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    x.outcome = unreachable(r.url, ec);
    co_return;
  }
  co_await stream.async_handshake(asio::ssl::stream_base::client,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    x.outcome = failure("TLS handshake with", r.url, ec);
    co_return;
  }
  x.outcome = co_await async_talk(x, stream, lowest);
}

}  // namespace

std::string ResponseHead::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

Status exchange(const Request& request, const ResponseHandler& handler,
                     const CancelToken& cancel) {
  try {
    // Shared with the cancel callback, which may run on another thread as this returns.
    auto shared = std::make_shared<Exchange>(request, handler);
    Exchange& x = *shared;
    std::optional<asio::ssl::context> tls;
    if (request.url.tls) {
      tls.emplace(asio::ssl::context::tls_client);
      tls->set_default_verify_paths();
      tls->set_verify_mode(asio::ssl::verify_peer);
    }
    asio::co_spawn(x.ioc, async_run(x, tls ? &*tls : nullptr), asio::detached);
    // Cancelling stops the io_context: every pending operation is dropped with the context
    // (the socket closes as the coroutine frame is destroyed).
    const auto id = cancel.on_cancel([shared] {
      asio::post(shared->ioc, [raw = shared.get()] {
        raw->cancelled = true;
        raw->ioc.stop();
      });
    });
    x.ioc.run();
    if (id != 0) cancel.forget(id);
    if (x.cancelled || cancel.is_cancelled()) {
      return make_error(ErrorCode::timeout, "cancelled by the caller", Json{{"cancelled", true}});
    }
    if (!x.outcome) {
      return make_error(ErrorCode::internal_error,
                        "server " + request.url.to_string() + ": the exchange did not finish");
    }
    return *x.outcome;
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal_error,
                      "server " + request.url.to_string() + ": " + e.what());
  }
}

bool is_unreachable(const Error& error) {
  return error.detail.is_object() && error.detail.value("unreachable", false);
}

Result<Response> fetch(const Request& request, const CancelToken& cancel,
                                std::size_t max_body) {
  Response out;
  ResponseHandler handler;
  handler.on_head = [&out](const ResponseHead& head) -> Status {
    out.head = head;
    return {};
  };
  handler.on_body = [&out, max_body, &request](std::string_view piece) -> Status {
    if (out.body.size() + piece.size() > max_body) {
      return make_error(ErrorCode::internal_error,
                        "server " + request.url.to_string() + ": response too large");
    }
    out.body.append(piece);
    return {};
  };
  HN_TRY(exchange(request, handler, cancel));
  return out;
}

}  // namespace hn::httpc
