// node_link.h — how the dashboard reaches the node it belongs to: the way the CLI does
// (node/local_client.h), HTTPS to the node's own port on 127.0.0.1 with every request
// signed by the node's key, so the node grants trust `self` (DESIGN.md) and serves the
// UI with its own routes — no route logic is repeated here.
//
// Threading: a NodeLink lives on the network thread (transport::Client's rule).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/error.h"
#include "core/json.h"
#include "core/types.h"
#include "identity/keys.h"
#include "transport/client.h"
#include "transport/envelope.h"
#include "transport/pinned_certs.h"

namespace hn::ui {

struct NodeLinkOptions {
  const identity::KeyPair* keys = nullptr;  // the node's own key (outlives the link)
  std::uint16_t port = 0;                   // the node's transport port
  CommunityId community;
};

class NodeLink {
 public:
  NodeLink(boost::asio::any_io_executor executor, NodeLinkOptions options);
  ~NodeLink();

  // A signed request to one of the node's routes; any status comes back.
  boost::asio::awaitable<Result<transport::ClientResponse>> async_request(std::string method,
                                                                          std::string path,
                                                                          Json body);
  // A public GET (/manifest, /trace/recent, …).
  boost::asio::awaitable<Result<transport::ClientResponse>> async_get_public(std::string path);
  // A bus call; `node` empty → the router chooses (/bus/v1/call), else /node/v1/call.
  boost::asio::awaitable<Result<Json>> async_call(std::string capability, Version version,
                                                  Json body, std::string node);
  // The same, streamed: frames go to on_frame; before_read is awaited before each read
  // (the browser's backpressure).
  boost::asio::awaitable<Result<transport::Frame>> async_stream(
      std::string capability, Version version, Json body, std::string node,
      transport::FrameCallback on_frame, std::function<boost::asio::awaitable<void>()> before_read);
  const identity::KeyPair& keys() const { return *m_options.keys; }
  void close();

 private:
  transport::Endpoint endpoint() const;
  NodeLinkOptions m_options;
  std::unique_ptr<transport::PinnedCerts> m_pins;  // in memory: the node pins itself on first use
  std::unique_ptr<transport::Client> m_client;
};

}  // namespace hn::ui
