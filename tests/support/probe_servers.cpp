// probe_servers.cpp — loopback DNS and HTTPS responders for the emergency tests.
#include "support/probe_servers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "emergency/dns.h"
#include "identity/keys.h"
#include "identity/tls_cert.h"

namespace hn::test {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

// --- DNS ------------------------------------------------------------------------------

DnsResponder::DnsResponder() = default;
DnsResponder::~DnsResponder() { stop(); }

bool DnsResponder::start(std::uint16_t port) {
  if (m_running) return true;
  m_fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (m_fd < 0) return false;
  int one = 1;
  ::setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port != 0 ? port : m_port);
  if (::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(m_fd);
    m_fd = -1;
    return false;
  }
  socklen_t len = sizeof addr;
  ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  m_port = ntohs(addr.sin_port);
  m_running = true;
  m_thread = std::thread([this] {
    std::vector<std::uint8_t> buf(emergency::DNS_MAX_MESSAGE);
    while (m_running) {
      pollfd p{m_fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      sockaddr_in from{};
      socklen_t from_len = sizeof from;
      const auto n = ::recvfrom(m_fd, buf.data(), buf.size(), 0,
                                reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n <= 0) continue;
      ++m_queries;
      auto answer = emergency::encode_response(
          std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n)),
          {emergency::Ipv4{192, 0, 2, 1}});
      if (!answer) continue;
      ::sendto(m_fd, answer->data(), answer->size(), 0, reinterpret_cast<sockaddr*>(&from),
               from_len);
    }
  });
  return true;
}

void DnsResponder::stop() {
  if (!m_running) return;
  m_running = false;
  if (m_thread.joinable()) m_thread.join();
  ::close(m_fd);
  m_fd = -1;
}

// --- HTTPS ----------------------------------------------------------------------------

struct HttpsResponder::Impl {
  // New for every start: stop() destroys it, and with it every connection it held (an open
  // one would keep the port from being bound again).
  std::unique_ptr<asio::io_context> io;
  asio::ssl::context tls{asio::ssl::context::tls_server};
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread thread;
};

namespace {

std::string http_date(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

asio::awaitable<void> serve(asio::ssl::stream<tcp::socket> stream, std::int64_t offset,
                            std::atomic<int>* requests) {
  boost::system::error_code ec;
  co_await stream.async_handshake(asio::ssl::stream_base::server,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  boost::beast::flat_buffer buffer;
  http::request<http::empty_body> req;
  co_await http::async_read(stream, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  ++*requests;
  http::response<http::empty_body> res{http::status::ok, 11};
  res.set(http::field::date, http_date(std::time(nullptr) + offset));
  res.set(http::field::server, "hearthnet-test-probe");
  res.content_length(0);
  res.keep_alive(false);
  co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> accept_loop(tcp::acceptor* acceptor, asio::ssl::context* tls,
                                  std::int64_t offset, std::atomic<int>* requests) {
  while (true) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    asio::co_spawn(acceptor->get_executor(),
                   serve(asio::ssl::stream<tcp::socket>(std::move(socket), *tls), offset, requests),
                   asio::detached);
  }
}

}  // namespace

HttpsResponder::HttpsResponder(std::int64_t date_offset_seconds)
    : m_impl(std::make_unique<Impl>()), m_offset(date_offset_seconds) {
  const auto keys = identity::KeyPair::generate();
  auto cert = identity::generate_self_signed_cert(keys, "127.0.0.1");
  if (cert) {
    m_impl->tls.use_certificate_chain(asio::buffer(cert->cert_pem));
    m_impl->tls.use_private_key(asio::buffer(cert->key_pem), asio::ssl::context::pem);
  }
}

HttpsResponder::~HttpsResponder() { stop(); }

bool HttpsResponder::start(std::uint16_t port) {
  if (m_impl->thread.joinable()) return true;
  m_impl->io = std::make_unique<asio::io_context>(1);
  boost::system::error_code ec;
  auto acceptor = std::make_unique<tcp::acceptor>(*m_impl->io);
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port != 0 ? port : m_port);
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(64, ec);
  if (ec) {
    std::fprintf(stderr, "HttpsResponder: cannot listen on port %u: %s\n",
                 static_cast<unsigned>(ep.port()), ec.message().c_str());
    return false;
  }
  m_port = acceptor->local_endpoint().port();
  m_impl->acceptor = std::move(acceptor);
  asio::co_spawn(*m_impl->io, accept_loop(m_impl->acceptor.get(), &m_impl->tls, m_offset, &m_requests),
                 asio::detached);
  m_impl->thread = std::thread([this] { m_impl->io->run(); });
  return true;
}

void HttpsResponder::stop() {
  if (!m_impl->thread.joinable()) return;
  asio::post(*m_impl->io, [this] {
    boost::system::error_code ec;
    m_impl->acceptor->close(ec);
    m_impl->io->stop();
  });
  m_impl->thread.join();
  m_impl->acceptor.reset();
  m_impl->io.reset();
}

}  // namespace hn::test
