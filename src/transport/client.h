// client.h — the HTTPS client of X01 §5: signed requests (CONTRACT §5.1), signed-response
// verification (§5.2), SSE streams with acks (§5.3, X01 §6.3), keep-alive connection reuse
// per peer, and TLS pinning on first use per node id (X01 §4.2).
//
// Each call has one deadline covering resolve, connect, TLS handshake, write and read.
// A response's signature is checked whenever present (From must be the peer, the request
// id must be ours); it is required for the capabilities §5.2 names. A certificate that
// differs from the pinned one → invalid_signature and the connection is dropped.
// Stream acks: every STREAM_ACK_INTERVAL_FRAMES frames the client POSTs
// {"stream_id", "seq"} to /stream/v1/ack on a pooled connection, signed like any request.
//
// Threading: a Client lives on one executor (the network thread); call its coroutines from
// that executor. PinnedCerts must outlive the Client. Detached ack sends keep the internal
// state alive on their own.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>  // before Asio 1.74's awaitable.hpp, which uses std::exchange

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/clock.h"
#include "core/constants.h"
#include "core/error.h"
#include "core/json.h"
#include "core/types.h"
#include "identity/keys.h"
#include "transport/envelope.h"
#include "transport/pinned_certs.h"
#include "transport/sse.h"

namespace hn::transport {

// A peer address plus the node id its certificate is pinned to.
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  NodeId node_id;
};

struct ClientOptions {
  CommunityId community;  // X-HearthNet-Community of every request
  std::chrono::milliseconds default_timeout{RPC_DEFAULT_TIMEOUT_SECONDS * 1000};
  // Longest silence between two frames of a stream.
  std::chrono::milliseconds stream_idle_timeout{LLM_GENERATION_DEFAULT_TIMEOUT_SECONDS * 1000};
  std::chrono::milliseconds connection_idle{CONNECTION_IDLE_SECONDS * 1000};
  std::size_t max_idle_per_peer = 4;
  std::size_t max_response_bytes = 64 * 1024 * 1024;
  // How stream acks travel (transport.md): in-band lines on the stream's connection, or
  // signed POSTs to /stream/v1/ack (the side channel a browser-like reader would use);
  // `none` never acks (a stalled reader: shows the server's ack timeout in tests).
  enum class StreamAcks { in_band, side_channel, none };
  StreamAcks stream_acks = StreamAcks::in_band;
};

struct CallOptions {
  std::string request_id;             // empty: a fresh ULID
  std::chrono::milliseconds timeout{0};  // 0: ClientOptions::default_timeout
  // Streams: awaited before each read of the socket. A relay waits here while its own
  // consumer is congested; unread frames then hold back the sender's window (X01 §6.3).
  std::function<boost::asio::awaitable<void>()> before_read;
  // Streams: ask for binary frames (binary_frames.h), whose frames may carry raw payloads
  // (Frame::payload). The server decides: one that answers SSE is read as SSE.
  bool binary_frames = false;
};

struct ClientResponse {
  int status = 0;
  Json body;         // parsed when the response is JSON
  std::string text;  // the raw body otherwise
  Headers headers;
};

// Receives each frame in seq order; return false to cancel the stream (the connection
// closes, and the server's handler sees cancellation).
// The frame is the callback's to take (move its data); it is not used afterwards.
using FrameCallback = std::function<bool(Frame&)>;

class Client {
 public:
  Client(boost::asio::any_io_executor executor, const identity::KeyPair& keys, PinnedCerts& pins,
         ClientOptions options = {}, const Clock& clock = SystemClock::instance());
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // A signed request to any route. GET/DELETE send `body` (a flat object) as the query
  // string and sign it as such; POST/PUT/PATCH send it as canonical JSON. `capability`
  // defaults to the path (envelope.h). Any HTTP status comes back as a ClientResponse;
  // transport failures are errors (partition, timeout, invalid_signature, bad_request).
  boost::asio::awaitable<Result<ClientResponse>> async_request(
      Endpoint peer, std::string method, std::string path, Json body, CallOptions options = {},
      std::string capability = {}, Version version = {});
  // POST /bus/v1/call (X01 §5.1 call): the body on 2xx, else the envelope's Error
  // (CallError: code, message, retry_after_ms, detail.alt_capabilities / alt_nodes).
  boost::asio::awaitable<Result<Json>> async_call(Endpoint peer, std::string capability,
                                                  Version version, Json body,
                                                  CallOptions options = {});
  // A streamed call: frames go to on_frame in order; returns the `done` frame. An `error`
  // frame or error response → its Error; a stream that ends without a terminal frame →
  // partition; on_frame returning false → partition with detail {"cancelled": true}. A
  // plain (signed) JSON answer — the capability decides whether it streams, CONTRACT §5.1 —
  // comes back as a `done` frame holding it, with no frames before.
  boost::asio::awaitable<Result<Frame>> async_stream(Endpoint peer, std::string capability,
                                                     Version version, Json body,
                                                     FrameCallback on_frame,
                                                     CallOptions options = {});
  // The same stream from another signed route (`path` is also the capability header, as
  // for every route but /bus/v1/call), e.g. the node's /node/v1/call.
  boost::asio::awaitable<Result<Frame>> async_stream_request(Endpoint peer, std::string path,
                                                             Json body, FrameCallback on_frame,
                                                             CallOptions options = {});
  // An unsigned GET of a public route (/manifest, /health, …).
  boost::asio::awaitable<Result<ClientResponse>> async_get_public(Endpoint peer,
                                                                  std::string path,
                                                                  CallOptions options = {});
  // From now on every signed request says this node's server listens on `port`
  // (HEADER_LISTEN_PORT), so a callee that does not know us can reach us back; 0: not sent.
  void set_listen_port(std::uint16_t port);
  // Drops every idle connection.
  void close();
  std::size_t idle_connections() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> m_impl;
};

}  // namespace hn::transport
