// local_client.cpp — the CLI's loopback client to its own node.
#include "node/local_client.h"

#include <optional>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "node/node.h"
#include "transport/envelope.h"

namespace hn::node {
namespace asio = boost::asio;

namespace {

Error no_node(const NodeHome& home, const std::string& why) {
  return make_error(ErrorCode::partition,
                    "no HearthNet node is running for " + home.paths.home.string() +
                        "; start one with `hearthnet run`" + (why.empty() ? "" : " (" + why + ")"),
                    Json{{"no_node", true}});
}

// Runs one coroutine to completion on a private io_context.
template <typename T>
Result<T> run_sync(asio::io_context& io, asio::awaitable<Result<T>> op) {
  std::optional<Result<T>> out;
  asio::co_spawn(
      io,
      [](asio::awaitable<Result<T>> a, std::optional<Result<T>>* dst) -> asio::awaitable<void> {
        auto r = co_await std::move(a);
        dst->emplace(std::move(r));
      }(std::move(op), &out),
      asio::detached);
  io.restart();
  io.run();
  if (!out) return make_error(ErrorCode::internal_error, "request did not complete");
  return std::move(*out);
}

}  // namespace

bool is_no_node_error(const Error& error) {
  return error.detail.is_object() && error.detail.value("no_node", false);
}

struct LocalClient::Impl {
  asio::io_context io{1};
  std::unique_ptr<transport::PinnedCerts> pins;
  std::unique_ptr<transport::Client> client;
  transport::Endpoint endpoint;
  std::chrono::milliseconds timeout{10'000};

  transport::CallOptions options(std::chrono::milliseconds t = std::chrono::milliseconds(0)) const {
    transport::CallOptions o;
    o.timeout = t.count() > 0 ? t : timeout;
    return o;
  }
};

LocalClient::LocalClient(identity::KeyPair keys, std::uint16_t port, std::unique_ptr<Impl> impl)
    : m_keys(std::move(keys)), m_port(port), m_impl(std::move(impl)) {}

LocalClient::~LocalClient() {
  if (m_impl && m_impl->client) {
    m_impl->client->close();
    m_impl->client.reset();
    m_impl->io.restart();
    m_impl->io.poll();
  }
}

Result<std::unique_ptr<LocalClient>> LocalClient::connect(const NodeHome& home,
                                                          std::chrono::milliseconds timeout) {
  auto port = read_control_port(home.paths);
  if (!port) return no_node(home, port.error().code == ErrorCode::not_found ? "" : port.error().message);
  HN_TRY_ASSIGN(identity::KeyPair keys, identity::load_keys(home.paths.keys_dir));
  auto impl = std::make_unique<Impl>();
  impl->timeout = timeout;
  HN_TRY_ASSIGN(impl->pins, transport::PinnedCerts::open(":memory:"));
  transport::ClientOptions co;
  if (home.config.community.community_id) co.community = CommunityId(*home.config.community.community_id);
  co.default_timeout = timeout;
  impl->client = std::make_unique<transport::Client>(impl->io.get_executor(), keys, *impl->pins, co);
  impl->endpoint = transport::Endpoint{"127.0.0.1", *port, keys.node_id()};
  std::unique_ptr<LocalClient> lc(new LocalClient(std::move(keys), *port, std::move(impl)));
  auto health = lc->get_public("/health");
  if (!health) return no_node(home, health.error().message);
  if (health->status != 200) return no_node(home, "/health answered " + std::to_string(health->status));
  return lc;
}

Result<transport::ClientResponse> LocalClient::request(const std::string& method, const std::string& path,
                                                       const Json& body) {
  auto& i = *m_impl;
  return run_sync(i.io, i.client->async_request(i.endpoint, method, path, body, i.options()));
}

Result<Json> LocalClient::get_json(const std::string& path, const Json& query) {
  HN_TRY_ASSIGN(auto r, request("GET", path, query));
  if (r.status < 200 || r.status >= 300) return transport::parse_error_response(r.status, r.body);
  return std::move(r.body);
}

Result<transport::ClientResponse> LocalClient::get_public(const std::string& path) {
  auto& i = *m_impl;
  return run_sync(i.io, i.client->async_get_public(i.endpoint, path, i.options()));
}

Result<Json> LocalClient::call(const std::string& capability, Version version, const Json& body,
                               std::chrono::milliseconds timeout) {
  auto& i = *m_impl;
  return run_sync(i.io, i.client->async_call(i.endpoint, capability, version, body, i.options(timeout)));
}

Result<transport::Frame> LocalClient::stream(const std::string& capability, Version version,
                                             const Json& body, transport::FrameCallback on_frame,
                                             std::chrono::milliseconds timeout) {
  auto& i = *m_impl;
  return run_sync(i.io, i.client->async_stream(i.endpoint, capability, version, body,
                                               std::move(on_frame), i.options(timeout)));
}

Result<transport::Frame> LocalClient::stream_request(const std::string& path, const Json& body,
                                                     transport::FrameCallback on_frame,
                                                     std::chrono::milliseconds timeout) {
  auto& i = *m_impl;
  return run_sync(i.io, i.client->async_stream_request(i.endpoint, path, body, std::move(on_frame),
                                                       i.options(timeout)));
}

}  // namespace hn::node
