// client.cpp — signed HTTPS client with pooling and pinning (X01 §5); streams are in
// client_stream.cpp, the shared inside in detail/client_impl.h.
#include "transport/client.h"

#include "transport/detail/client_impl.h"

namespace hn::transport {

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

}  // namespace hn::transport
