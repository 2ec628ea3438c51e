// local_client.h — how the CLI (and the UI later) talks to the node running on this home:
// HTTPS to 127.0.0.1:<port from paths.control_port_file>, every request signed with the
// node's own key, so the node grants trust `self` (DESIGN.md). The node's certificate is
// pinned on first use in memory; what proves the peer is our node is the response
// signature, which the client verifies against our own node id (CONTRACT §5.2).
//
// connect() fails with ErrorCode::partition and detail {"no_node": true} when no node runs
// (no port file, nothing listening, or /health not answering) — the CLI's exit 3 (M12 §6).
//
// Thread-safety: one LocalClient per thread; each call runs a private io_context to
// completion on the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/error.h"
#include "core/json.h"
#include "identity/keys.h"
#include "node/home.h"
#include "transport/client.h"

namespace hn::node {

// Whether an error from LocalClient::connect means "no node is running".
bool is_no_node_error(const Error& error);

class LocalClient {
 public:
  // Loads the node's keys, reads the port file and checks /health.
  static Result<std::unique_ptr<LocalClient>> connect(const NodeHome& home,
                                                      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~LocalClient();
  LocalClient(const LocalClient&) = delete;
  LocalClient& operator=(const LocalClient&) = delete;

  std::uint16_t port() const { return m_port; }
  const identity::KeyPair& keys() const { return m_keys; }

  // A signed request to any route (GET sends `body` as its query).
  Result<transport::ClientResponse> request(const std::string& method, const std::string& path,
                                            const Json& body = Json::object());
  // A signed GET whose 2xx JSON body is returned; other statuses become their Error.
  Result<Json> get_json(const std::string& path, const Json& query = Json::object());
  // An unsigned GET of a public route.
  Result<transport::ClientResponse> get_public(const std::string& path);
  // POST /bus/v1/call: the response body or the wire error.
  Result<Json> call(const std::string& capability, Version version, const Json& body,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  // A streamed call: frames go to on_frame (return false to stop); returns the done frame.
  Result<transport::Frame> stream(const std::string& capability, Version version, const Json& body,
                                  transport::FrameCallback on_frame,
                                  std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  // A streamed signed POST to another route (e.g. NODE_CALL_PATH).
  Result<transport::Frame> stream_request(const std::string& path, const Json& body,
                                          transport::FrameCallback on_frame,
                                          std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  struct Impl;

 private:
  LocalClient(identity::KeyPair keys, std::uint16_t port, std::unique_ptr<Impl> impl);
  identity::KeyPair m_keys;
  std::uint16_t m_port;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace hn::node
