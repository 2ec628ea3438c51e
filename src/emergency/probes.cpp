// probes.cpp — DNS and HTTPS HEAD probes on Asio coroutines (probes.h).
#include "emergency/probes.h"

#include <openssl/ssl.h>

#include <ctime>
#include <random>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "emergency/dns.h"

namespace hn::emergency {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::redirect_error;
using asio::use_awaitable;
using boost::system::error_code;

namespace {

using SteadyClock = std::chrono::steady_clock;

std::int64_t ms_since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start).count();
}

ProbeOutcome failed(SteadyClock::time_point start, std::string why) {
  return ProbeOutcome{false, std::move(why), ms_since(start), std::nullopt};
}

std::string timeout_text(std::chrono::milliseconds t) {
  return "no answer within " + std::to_string(t.count()) + " ms";
}

std::uint16_t random_id() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return static_cast<std::uint16_t>(rng() & 0xFFFF);
}

}  // namespace

std::shared_ptr<ssl::context> make_probe_tls(bool verify) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (verify) {
    error_code ec;
    ctx->set_default_verify_paths(ec);  // a missing trust store makes every HEAD fail: logged there
    ctx->set_verify_mode(ssl::verify_peer);
  } else {
    ctx->set_verify_mode(ssl::verify_none);
  }
  return ctx;
}

asio::awaitable<ProbeOutcome> async_probe_dns(ProbeTarget target, std::string name,
                                              std::chrono::milliseconds timeout) {
  const auto start = SteadyClock::now();
  auto ex = co_await asio::this_coro::executor;
  error_code ec;
  const auto address = asio::ip::make_address(target.host, ec);
  if (ec) co_return failed(start, "bad resolver address " + target.host);
  const asio::ip::udp::endpoint resolver(address, target.port);
  // Shared with the deadline's handler, which may run after this frame is gone.
  auto socket_ptr = std::make_shared<asio::ip::udp::socket>(ex);
  auto& socket = *socket_ptr;
  socket.open(resolver.protocol(), ec);
  // Connected: only the resolver's datagrams arrive, and an ICMP "port unreachable" ends
  // the wait at once (connection_refused) instead of at the timeout.
  if (!ec) socket.connect(resolver, ec);
  if (ec) co_return failed(start, "cannot reach " + target.text + ": " + ec.message());

  const std::uint16_t id = random_id();
  auto query = encode_query(id, name);
  if (!query) co_return failed(start, query.error().message);

  auto expired = std::make_shared<bool>(false);
  asio::steady_timer deadline(ex);
  deadline.expires_after(timeout);
  deadline.async_wait([socket_ptr, expired](const error_code& e) {
    if (e) return;  // cancelled: the probe ended first
    *expired = true;
    error_code ignored;
    socket_ptr->cancel(ignored);
  });
  ProbeOutcome out;
  co_await socket.async_send(asio::buffer(*query), redirect_error(use_awaitable, ec));
  if (ec) {
    out = failed(start, "send to " + target.text + ": " + ec.message());
  } else {
    std::vector<std::uint8_t> buf(DNS_MAX_MESSAGE);
    while (true) {
      const std::size_t n =
          co_await socket.async_receive(asio::buffer(buf), redirect_error(use_awaitable, ec));
      if (ec) {
        out = failed(start, *expired ? timeout_text(timeout) : target.text + ": " + ec.message());
        break;
      }
      auto msg = parse_message(std::span<const std::uint8_t>(buf.data(), n));
      if (!msg || !msg->is_response() || msg->id != id) continue;  // stray or forged: keep waiting
      auto answer = check_answer(*msg, id, name);
      out = answer ? ProbeOutcome{true, "", ms_since(start), std::nullopt}
                   : failed(start, answer.error().message);
      break;
    }
  }
  deadline.cancel();
  co_return out;
}

asio::awaitable<ProbeOutcome> async_probe_https(ProbeTarget target,
                                                std::shared_ptr<ssl::context> tls, bool verify,
                                                std::chrono::milliseconds timeout) {
  const auto start = SteadyClock::now();
  const auto until = start + timeout;
  auto ex = co_await asio::this_coro::executor;
  error_code ec;

  // Resolve (a literal resolves at once; a name goes to the system resolver, bounded by
  // the deadline like everything else).
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(ex);
  auto expired = std::make_shared<bool>(false);
  asio::steady_timer deadline(ex);
  deadline.expires_at(until);
  deadline.async_wait([resolver, expired](const error_code& e) {
    if (e) return;
    *expired = true;
    resolver->cancel();
  });
  auto results = co_await resolver->async_resolve(target.host, std::to_string(target.port),
                                                 redirect_error(use_awaitable, ec));
  deadline.cancel();
  if (ec) {
    co_return failed(start, *expired ? timeout_text(timeout)
                                    : "resolve " + target.host + ": " + ec.message());
  }

  beast::ssl_stream<beast::tcp_stream> stream(ex, *tls);
  auto& layer = beast::get_lowest_layer(stream);
  const auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(until - SteadyClock::now());
  };
  const bool is_literal = [&] {
    error_code e;
    (void)asio::ip::make_address(target.host, e);
    return !e;
  }();
  if (!is_literal) {
    // SNI, and the name the certificate must carry when verifying.
    SSL_set_tlsext_host_name(stream.native_handle(), target.host.c_str());
  }
  if (verify) stream.set_verify_callback(ssl::host_name_verification(target.host));

  const auto fail = [&](std::string_view step) {
    return failed(start, ec == beast::error::timeout
                             ? timeout_text(timeout)
                             : std::string(step) + " " + target.text + ": " + ec.message());
  };
  layer.expires_after(left());
  co_await layer.async_connect(results, redirect_error(use_awaitable, ec));
  if (ec) co_return fail("connect");
  layer.expires_after(left());
  co_await stream.async_handshake(ssl::stream_base::client, redirect_error(use_awaitable, ec));
  if (ec) co_return fail("TLS handshake with");

  http::request<http::empty_body> req{http::verb::head, target.path, 11};
  req.set(http::field::host, target.port == 443 ? target.host
                                                : target.host + ":" + std::to_string(target.port));
  req.set(http::field::user_agent, "hearthnet-emergency-probe");
  req.set(http::field::connection, "close");
  layer.expires_after(left());
  co_await http::async_write(stream, req, redirect_error(use_awaitable, ec));
  if (ec) co_return fail("HEAD");

  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // a HEAD response has no body whatever its Content-Length says
  layer.expires_after(left());
  co_await http::async_read(stream, buffer, parser, redirect_error(use_awaitable, ec));
  if (ec) co_return fail("response from");
  ProbeOutcome out{true, "", ms_since(start), std::nullopt};
  const auto& res = parser.get();
  if (auto it = res.find(http::field::date); it != res.end()) {
    out.date_ms = parse_http_date(std::string_view(it->value().data(), it->value().size()));
  }
  error_code ignored;
  layer.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  layer.close();
  co_return out;
}

asio::awaitable<ProbeOutcome> async_probe(ProbeTarget target, std::string dns_name,
                                          std::shared_ptr<ssl::context> tls, bool verify,
                                          std::chrono::milliseconds timeout) {
  if (target.kind == ProbeTarget::Kind::dns) {
    co_return co_await async_probe_dns(std::move(target), std::move(dns_name), timeout);
  }
  co_return co_await async_probe_https(std::move(target), std::move(tls), verify, timeout);
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  std::tm tm{};
  const std::string s(text);
  const char* end = ::strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const std::time_t t = ::timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return static_cast<std::int64_t>(t) * 1000;
}

}  // namespace hn::emergency
