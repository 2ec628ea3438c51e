// server.h — the HTTPS server of X01 §3 on Boost.Beast with C++20 coroutines.
//
// Request pipeline (X01 §3.3, DESIGN.md; doc/design/transport.md):
//   read (header ≤ 16 KiB, body ≤ max_body_bytes = 8 MiB, else 400 bad_request)
//   → route lookup (404 not_found)
//   → public routes: dispatch. Signed routes:
//   → JSON body (400 bad_request) → X-HearthNet-* envelope (401 invalid_signature when
//     missing) → signature, verified on the network thread (401 invalid_signature)
//   → replay guard (410 expired / 400 bad_request for a reused request id)
//   → community + membership callback (401 unauthorized / 403 revoked; the callback
//     decides, revoked must win) — a request signed by this node's own key over loopback
//     is trust `self` and skips the callback
//   → rate limits (429 rate_limited + retry_after_ms; hard limit: connection dropped)
//   → handler.
// Every error answer is the CONTRACT §5.4 envelope with the §5.5 status. JSON answers are
// signed (§5.2). A handler streams by emitting on its SseWriter (§5.3); the connection
// closes after the terminal frame. Stream acks arrive on POST /stream/v1/ack.
//
// Built-in routes: GET /health, /ready, /metrics, /manifest, /community/manifest,
// /trace/recent (unsigned, answered from ServerHooks), GET /pubsub/v1/subscribe (signed,
// long-poll), POST /stream/v1/ack (signed). Others (/bus/v1/call, /sync/v1/*) are added by
// their owners with add_route.
//
// Threading: everything runs on the executor passed in (the network io_context thread),
// the checks of a signed request (verification, replay, membership, rate limits) included.
// The network thread never runs a service's work: an async route's handler (the node's
// bus calls) is called here after the checks and only *starts* the work elsewhere (the
// bus posts it to the service's own queue); its Respond may be called from any thread,
// signs the response there and hands the write back to the network thread. Stream
// handlers are coroutines on the network thread; they must not block it.
// start/stop/add_route must be called on the executor's thread or before it runs; stop()
// may also be called from any thread (it posts).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <utility>  // before Asio 1.74's awaitable.hpp, which uses std::exchange

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/clock.h"
#include "core/constants.h"
#include "core/encoding.h"
#include "core/error.h"
#include "core/json.h"
#include "core/types.h"
#include "identity/keys.h"
#include "transport/envelope.h"
#include "transport/pubsub.h"
#include "transport/rate_limiter.h"

namespace hn::transport {

// A parsed, verified request as a handler sees it.
struct Request {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;
  Json body;  // the JSON body, or the query object for a request without one
  // From the verified envelope (empty on public routes).
  NodeId caller;
  CommunityId community;
  std::string capability;
  Version version;
  std::string request_id;  // trace id
  TrustLevel trust = TrustLevel::unknown;
  std::string remote_address;
  bool is_loopback = false;
  // The caller's own server port, as it says (HEADER_LISTEN_PORT; unsigned); 0: none or
  // not a port.
  std::uint16_t listen_port = 0;
  // What the Accept header takes (both when there is none; `*/*` takes both).
  bool accepts_stream = true;   // names text/event-stream
  bool accepts_json = true;     // names application/json (or application/*)
  // Names application/vnd.hearthnet.frames: a stream is written in binary frames
  // (binary_frames.h), which may carry raw payloads. Only ever on the client's explicit ask.
  bool accepts_binary_frames = false;
};

// A non-streamed answer. An error Response carries the §5.4 envelope.
struct Response {
  int status = 200;
  Json body = Json::object();
  std::string content_type = "application/json";
  std::string text;  // used instead of body when content_type is not JSON
  // Set by presign(): `text` holds the canonical body and these are its §5.2 signature
  // headers, so the network thread writes it as it is.
  std::optional<Headers> signature_headers;

  static Response json(Json body, int status = 200);
  static Response error(const Error& error);
  static Response plain(std::string text, std::string content_type = "text/plain");
};

// Canonicalises and signs a JSON response (CONTRACT §5.2) where the caller runs — a
// handler that has its answer on a worker thread signs it there, off the network thread.
// `request_id` is the request's (Request::request_id). A body with no canonical form
// becomes an internal_error response.
void presign(Response& response, const identity::KeyPair& keys, const std::string& request_id,
             const Clock& clock = SystemClock::instance());

// One frame to emit (its seq is assigned by the writer). A payload (raw bytes) travels
// only on a binary stream (Request::accepts_binary_frames); an SSE writer refuses it.
struct OutFrame {
  std::string event;
  Json data;
  Bytes payload;
};

// The server half of an SSE stream (X01 §6.1). Frames get seq 1, 2, …; the stream opens
// (200, text/event-stream) on the first emit. Emits wait for flow-control window space.

class SseWriter {
 public:
  virtual ~SseWriter() = default;
  // Errors: bad_request (bad event name / after the terminal frame), partition (client
  // gone or a write failed), timeout (no ack for STREAM_ACK_TIMEOUT_SECONDS; the stream
  // has then been ended with an `error` frame).
  virtual boost::asio::awaitable<Status> async_emit(std::string event, Json data) = 0;
  boost::asio::awaitable<Status> async_emit_token(Json token);
  boost::asio::awaitable<Status> async_emit_progress(std::int64_t current, std::int64_t total,
                                                     std::string stage);
  boost::asio::awaitable<Status> async_emit_error(Error error);
  boost::asio::awaitable<Status> async_emit_done(Json meta = Json::object());
  boost::asio::awaitable<Status> async_emit_ack(std::int64_t upto);
  // Several frames in order; a writer may batch them into fewer socket writes (the stream
  // writer does, as far as the window allows). Stops at the first error. A frame with a
  // payload on a stream that is not binary: bad_request, nothing of it written.
  virtual boost::asio::awaitable<Status> async_emit_all(std::vector<OutFrame> frames);

  // True once the client disconnected (or the server stops); detected by a read that
  // runs for the whole stream, so it flips as soon as the FIN/RST arrives.
  virtual bool cancelled() const = 0;
  virtual bool started() const = 0;
  virtual bool finished() const = 0;
  // The id acks name (= the request id).
  virtual const std::string& stream_id() const = 0;
  // Whether frames go out in binary framing (the client asked for it), so payloads travel.
  virtual bool binary() const { return false; }
  // Sleeps up to `timeout`, returning early (true) when the stream is cancelled.
  virtual boost::asio::awaitable<bool> async_wait_cancelled(std::chrono::milliseconds timeout) = 0;
};

using Handler = std::function<boost::asio::awaitable<Response>(Request, std::shared_ptr<SseWriter>)>;
// Completes a plain request of an async route: call exactly once, from any thread. The
// response is canonicalised and signed on the calling thread; the network thread only
// writes it.
using Respond = std::function<void(Response)>;
// The plain half of an async route: called on the network thread with a checked request;
// starts the work and returns at once (it must not block).
using AsyncHandler = std::function<void(Request, Respond)>;

// Whether a checked request of an async route is answered as a stream (true) or plainly:
// CONTRACT §5.1 leaves it to the capability and the request, which only the route's owner
// knows. Called on the network thread after the checks; must not block.
using StreamChoice = std::function<bool(const Request&)>;

enum class RouteAuth { signed_request, public_route };

// Membership of a caller in a community: its trust level, or unauthorized / revoked.
using MembershipCheck = std::function<Result<TrustLevel>(const NodeId&, const CommunityId&)>;
// May `caller` (with the trust the request's checks gave it) subscribe to `topic`?
using TopicAuthorizer = std::function<Status(const NodeId&, TrustLevel, const std::string&)>;

// One finished request, for metrics and traces (X03 wires it).
struct RequestRecord {
  std::string method;
  std::string path;
  std::string capability;
  std::string request_id;
  std::string caller;
  int status = 0;
  std::string error_code;  // empty on success
  // Which check refused it, for invalid_signature: "malformed_envelope", "route_mismatch"
  // or "bad_signature" (hearthnet_signature_failures_total's reason); empty otherwise.
  std::string reason;
  std::int64_t duration_ms = 0;
  bool streamed = false;
  bool dropped = false;  // hard rate limit
};

struct ServerHooks {
  MembershipCheck membership;  // unset: only `self` callers pass
  TopicAuthorizer topic_authorizer;  // unset: CONTRACT §8 (transport/topic_policy.h)
  std::function<Json()> manifest;                          // GET /manifest (404 when unset)
  std::function<Json()> community_manifest;                // GET /community/manifest
  std::function<Json()> ready;                             // GET /ready: {"ready": bool, ...}
  std::function<Json()> health;                            // GET /health: merged into {"status": "ok"}
  std::function<std::string()> metrics;                    // GET /metrics (Prometheus text)
  // GET /trace/recent: the query → the answer, or an error envelope (e.g. bad_request).
  std::function<Result<Json>(const std::map<std::string, std::string>&)> trace_recent;
  std::function<void(const RequestRecord&)> on_request;    // after every request
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: an ephemeral port (see Server::port())
  std::string cert_pem;    // the node's TLS certificate (identity/tls_cert.h)
  std::string key_pem;
  CommunityId community;   // when set, requests naming another community → unauthorized
  std::size_t max_body_bytes = MAX_REQUEST_BODY_BYTES;
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds idle_timeout{CONNECTION_IDLE_SECONDS * 1000};
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds stream_ack_timeout{STREAM_ACK_TIMEOUT_SECONDS * 1000};
  RateLimits rate_limits;
  std::size_t max_connections = 1024;
  int pubsub_max_timeout_seconds = 60;
};

class Server {
 public:
  Server(boost::asio::any_io_executor executor, const identity::KeyPair& keys,
         ServerOptions options, ServerHooks hooks = {},
         const Clock& clock = SystemClock::instance());
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers a route; a later registration for the same method+path replaces it.
  void add_route(std::string method, std::string path, Handler handler,
                 RouteAuth auth = RouteAuth::signed_request);
  // A signed route whose plain requests go to `plain` (see AsyncHandler) and whose stream
  // requests go to `stream_handler`. `streams` tells them apart; unset, a request streams
  // when its Accept takes only a stream (text/event-stream without application/json).
  void add_async_route(std::string method, std::string path, AsyncHandler plain,
                       Handler stream_handler, StreamChoice streams = {});
  // Loads the certificate, binds, listens and starts accepting. Returns the bound port.
  Result<std::uint16_t> start();
  // Stops accepting and closes every connection (in-flight handlers see cancellation).
  void stop();
  std::uint16_t port() const;
  PubSub& pubsub();
  // Number of open SSE streams (tests, metrics).
  std::size_t active_streams() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> m_impl;
};

}  // namespace hn::transport
