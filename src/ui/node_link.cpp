// node_link.cpp — the dashboard's signed loopback client to its own node (node_link.h).
#include "ui/node_link.h"

#include <chrono>

namespace hn::ui {
namespace asio = boost::asio;

NodeLink::NodeLink(asio::any_io_executor executor, NodeLinkOptions options)
    : m_options(std::move(options)) {
  auto pins = transport::PinnedCerts::open(":memory:");
  m_pins = pins ? std::move(*pins) : nullptr;
  transport::ClientOptions co;
  co.community = m_options.community;
  // A model may think for a while between two tokens; the UI's own stop button cancels.
  co.stream_idle_timeout = std::chrono::minutes(10);
  if (m_pins)
    m_client = std::make_unique<transport::Client>(executor, *m_options.keys, *m_pins, co);
}

NodeLink::~NodeLink() { close(); }

void NodeLink::close() {
  if (m_client) m_client->close();
}

transport::Endpoint NodeLink::endpoint() const {
  return transport::Endpoint{"127.0.0.1", m_options.port, m_options.keys->node_id()};
}

asio::awaitable<Result<transport::ClientResponse>> NodeLink::async_request(std::string method,
                                                                           std::string path,
                                                                           Json body) {
  if (!m_client) co_return make_error(ErrorCode::internal_error, "no pin store for the UI link");
  transport::CallOptions opts;
  // Long-polls (/pubsub/v1/subscribe) wait up to their own timeout.
  opts.timeout = std::chrono::seconds(90);
  co_return co_await m_client->async_request(endpoint(), std::move(method), std::move(path),
                                             std::move(body), opts);
}

asio::awaitable<Result<transport::ClientResponse>> NodeLink::async_get_public(std::string path) {
  if (!m_client) co_return make_error(ErrorCode::internal_error, "no pin store for the UI link");
  // An lvalue CallOptions: GCC 12 frees a defaulted one twice (bench/RESULTS.md note).
  transport::CallOptions opts;
  co_return co_await m_client->async_get_public(endpoint(), std::move(path), opts);
}

namespace {
Json pinned_call_body(const std::string& capability, Version version, Json body,
                      const std::string& node) {
  return Json{{"capability", capability + "@" + version.to_string()},
              {"node", node},
              {"body", std::move(body)}};
}
}  // namespace

asio::awaitable<Result<Json>> NodeLink::async_call(std::string capability, Version version,
                                                   Json body, std::string node) {
  if (!m_client) co_return make_error(ErrorCode::internal_error, "no pin store for the UI link");
  transport::CallOptions opts;
  opts.timeout = std::chrono::minutes(5);
  if (node.empty()) {
    co_return co_await m_client->async_call(endpoint(), std::move(capability), version,
                                            std::move(body), opts);
  }
  auto r = co_await m_client->async_request(
      endpoint(), "POST", "/node/v1/call",
      pinned_call_body(capability, version, std::move(body), node), opts);
  if (!r) co_return r.error();
  if (r->status >= 200 && r->status < 300) co_return std::move(r->body);
  co_return transport::parse_error_response(r->status, r->body);
}

asio::awaitable<Result<transport::Frame>> NodeLink::async_stream(
    std::string capability, Version version, Json body, std::string node,
    transport::FrameCallback on_frame, std::function<asio::awaitable<void>()> before_read) {
  if (!m_client) co_return make_error(ErrorCode::internal_error, "no pin store for the UI link");
  transport::CallOptions opts;
  opts.timeout = std::chrono::minutes(30);
  opts.before_read = std::move(before_read);
  if (node.empty()) {
    co_return co_await m_client->async_stream(endpoint(), std::move(capability), version,
                                              std::move(body), std::move(on_frame), opts);
  }
  co_return co_await m_client->async_stream_request(
      endpoint(), "/node/v1/call", pinned_call_body(capability, version, std::move(body), node),
      std::move(on_frame), opts);
}

}  // namespace hn::ui
