// bare_https_server.cpp — see bare_https_server.h.
#include "bare_https_server.h"

#include <thread>
#include <utility>  // before Asio 1.74's awaitable.hpp, which uses std::exchange

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

namespace hn::bench {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

struct BareHttpsServer::Impl {
  asio::io_context io{1};
  ssl::context ctx{ssl::context::tls_server};
  tcp::acceptor acceptor{io};
  std::string answer;
  std::thread thread;

  static asio::awaitable<void> async_session(Impl* self, tcp::socket socket) {
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), self->ctx);
    beast::error_code ec;
    co_await stream.async_handshake(ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      co_await http::async_read(stream, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      http::response<http::string_body> res(http::status::ok, req.version());
      res.set(http::field::content_type, "application/json");
      res.keep_alive(req.keep_alive());
      res.body() = self->answer;
      res.prepare_payload();
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !res.keep_alive()) break;
    }
    beast::get_lowest_layer(stream).close();
  }

  static asio::awaitable<void> async_accept(Impl* self) {
    for (;;) {
      beast::error_code ec;
      tcp::socket s =
          co_await self->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      s.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(self->io, async_session(self, std::move(s)), asio::detached);
    }
  }
};

BareHttpsServer::BareHttpsServer(std::string cert_pem, std::string key_pem)
    : m_impl(std::make_unique<Impl>()) {
  m_impl->ctx.use_certificate_chain(asio::buffer(cert_pem));
  m_impl->ctx.use_private_key(asio::buffer(key_pem), ssl::context::pem);
}

BareHttpsServer::~BareHttpsServer() { stop(); }

std::uint16_t BareHttpsServer::start(std::string answer) {
  m_impl->answer = std::move(answer);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  m_impl->acceptor.open(ep.protocol());
  m_impl->acceptor.set_option(tcp::acceptor::reuse_address(true));
  m_impl->acceptor.bind(ep);
  m_impl->acceptor.listen();
  const auto port = m_impl->acceptor.local_endpoint().port();
  asio::co_spawn(m_impl->io, Impl::async_accept(m_impl.get()), asio::detached);
  m_impl->thread = std::thread([impl = m_impl.get()] { impl->io.run(); });
  return port;
}

void BareHttpsServer::stop() {
  if (!m_impl->thread.joinable()) return;
  asio::post(m_impl->io, [impl = m_impl.get()] {
    beast::error_code ec;
    impl->acceptor.close(ec);
    impl->io.stop();
  });
  m_impl->thread.join();
}

}  // namespace hn::bench
