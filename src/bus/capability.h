// capability.h — the bus's value types (M03 §3.1): CapabilityDescriptor (the full contract
// of one capability offered here), CapabilitySpec (what a peer's node manifest says about a
// capability, CONTRACT §6.1), CapabilityEntry (the bus's view of one (node, capability)
// pair), RouteRequest, CallContext, stream frames, cancellation, handler signatures, and
// the namespace (CONTRACT §3.1) and version-compatibility (CONTRACT §2.1) rules.
//
// Thread-safety: value types, except CancelToken, whose copies share one atomic flag and
// may be used from any thread.
// Invariants: a CapabilityEntry is a snapshot; mutating it changes nothing in the registry.
#pragma once

#include <atomic>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/cancel_token.h"
#include "core/clock.h"
#include "core/constants.h"
#include "core/encoding.h"
#include "core/error.h"
#include "core/json.h"
#include "core/types.h"
#include "core/work_queue.h"
#include "identity/manifest.h"

namespace hn::bus {

// Where a remote node can be reached, and what its manifest says about one capability:
// the identity layer's CONTRACT §6.1 types, shared so verified manifests feed the bus as-is.
using Endpoint = identity::Endpoint;
using CapabilitySpec = identity::CapabilitySpec;

// {"transport","host","port"}.
Json endpoint_to_json(const Endpoint& e);

// A JSON value that copies share instead of duplicating: descriptors are copied on every
// call (registry snapshots, router candidates), their schemas and params never change in
// place — assigning a new value replaces it for this copy only.
class SharedJson {
 public:
  SharedJson() : SharedJson(Json(nullptr)) {}
  SharedJson(Json value) : m_value(std::make_shared<const Json>(std::move(value))) {}  // NOLINT: implicit
  SharedJson(std::nullptr_t) : SharedJson(Json(nullptr)) {}                          // NOLINT: implicit
  const Json& get() const { return *m_value; }
  const Json& operator*() const { return *m_value; }
  const Json* operator->() const { return m_value.get(); }
  bool is_null() const { return m_value->is_null(); }
  friend bool operator==(const SharedJson& a, const SharedJson& b) {
    return a.m_value == b.m_value || *a.m_value == *b.m_value;
  }
  friend bool operator==(const SharedJson& a, const Json& b) { return *a.m_value == b; }

 private:
  std::shared_ptr<const Json> m_value;
};

// The complete contract for one capability offered by one service (M03 §3.1).
struct CapabilityDescriptor {
  CapabilityName name;
  Version version;
  Stability stability = Stability::stable;
  SharedJson request_schema = Json::object();  // JSON Schema (subset, see schema.h)
  SharedJson response_schema = nullptr;        // null if pure stream
  SharedJson stream_schema = nullptr;          // schema of each stream frame's data; null if none
  SharedJson params = Json::object();          // capability-instance params ({"model": ...})
  int max_concurrent = 1;                // per-node limit
  TrustLevel trust_required = TrustLevel::member;
  int timeout_seconds = RPC_DEFAULT_TIMEOUT_SECONDS;  // default deadline
  bool idempotent = false;

  // "1.0".
  std::string version_str() const { return version.to_string(); }
  // "blake3:<hex>" over canonical JSON of {name, version, request_schema, response_schema,
  // stream_schema} — CONTRACT §11.
  SchemaHash schema_hash() const;
  // Whether the capability answers with a single response / with a stream.
  bool has_response() const { return !response_schema.is_null(); }
  bool has_stream() const { return !stream_schema.is_null(); }
  // The node-manifest form {"name","version","stability","schema_hash","params",
  // "max_concurrent"} — CONTRACT §6.1.
  Json to_manifest_entry() const;
  // The same as the identity layer's manifest entry type.
  CapabilitySpec to_spec() const;
  // Every field, for equality checks and introspection.
  Json to_json() const;
};

// CONTRACT §2.1: a request for name@>=requested is satisfied by offered iff the majors are
// equal and offered.minor >= requested.minor.
bool is_version_compatible(Version offered, Version requested);

// Parses "llm.chat@1.0" into (name, version); bad_request on anything else.
Result<std::pair<CapabilityName, Version>> parse_capability_ref(std::string_view text);

// CONTRACT §3.1 prefix allocation. A name is "<prefix>.<rest>", every dot-separated segment
// [a-z][a-z0-9_]*. Allowed prefixes: the stable/beta ones of the table, "experimental", and
// "diag" (the bus's own diagnostic capability, diag.echo — a documented extension). Reserved
// prefixes (ocr, tts, stt, trans, img) and any other prefix are a namespace_violation.
// When `declared_prefixes` is non-empty, the prefix must also be one of them (or
// "experimental", which any service may use).
Status validate_capability_name(std::string_view name,
                                const std::vector<std::string>& declared_prefixes = {});

// What a request's Accept header takes: both forms (the contract's own
// `application/json, text/event-stream`, `*/*`, or no header), or only one of them.
enum class Accepted { both, only_plain, only_stream };

// CONTRACT §5.1, §4 ("Stream?", `input.stream`): whether a call is answered with a stream.
// The capability and the request decide, not the Accept header alone:
//   - a capability with only a response answers plainly, one with only a stream streams;
//   - one with both follows the request's `input.stream` when it is a boolean; else an
//     Accept header that takes only one form; else the default its request schema declares
//     (`"stream": {"type": "boolean", "default": true}`, as llm.chat §4.1 has); else it
//     answers plainly.
// `d` null (no provider whose schemas are known here): `input.stream`, else a stream only
// for an Accept that takes only a stream.
bool answers_with_stream(const CapabilityDescriptor* d, const Json& body, Accepted accept);

// The shared cancellation flag of a call (core/cancel_token.h): whoever waits on other work
// (a remote call, a queued job, an HTTP exchange) registers a callback with on_cancel
// instead of polling the flag.
using CancelToken = hn::CancelToken;

// One server-sent frame (CONTRACT §5.3): event name + single-line JSON data, and raw bytes
// that belong to it when the consumer takes binary frames (RouteRequest::binary_frames;
// on the wire transport/binary_frames.h). A producer attaches a payload only then.
struct StreamFrame {
  std::string event;  // "token", "chunk", "progress", … ("done"/"error" are terminal)
  Json data = Json::object();
  Bytes payload;
};

// Receives frames (by value: a sink that keeps the frame moves it on, no copy). Returning
// an error stops the stream (the producer sees the error and should return promptly);
// that is how a consumer cancels.
using FrameSink = std::function<Status(StreamFrame)>;

// The backpressure of a stream's consumer, for producers that must not block in the sink
// (a relay reading a remote stream on the network thread): while congested() the producer
// should stop reading; notify_when_drained(cb) runs cb once, on any thread, as soon as the
// consumer has room again (at once when it has room now). Thread-safe.
class StreamFlow {
 public:
  virtual ~StreamFlow() = default;
  virtual bool congested() const = 0;
  virtual void notify_when_drained(std::function<void()> cb) = 0;
};

// An inbound call after signature/membership checks (M03 §3.1), or an outbound one built by
// CapabilityBus::call.
struct RouteRequest {
  CapabilityName capability;
  Version version_req;            // requested major + minimum minor
  Json body = Json::object();     // {"params": ..., "input": ...}
  NodeId caller;                  // full node id
  TrustLevel caller_trust = TrustLevel::unknown;
  TraceId trace_id;
  std::optional<std::string> session_id;  // sticky routing key
  std::int64_t deadline_ms = 0;   // absolute, in the bus Clock's milliseconds
  bool stream = false;            // caller-requested streaming
  bool local_only = false;        // inbound from a peer: never forward to another node
  bool remote_only = false;       // only other nodes' providers (CLI `call --node remote`)
  std::optional<NodeId> target_node;  // only this node's provider (CLI `call --node ID`)
  std::shared_ptr<StreamFlow> flow;   // a stream consumer's backpressure (relays honour it)
  // The stream's consumer takes frames with raw payloads (StreamFrame::payload): it asked
  // for binary frames explicitly (Accept, transport/binary_frames.h). Relays pass it on.
  bool binary_frames = false;
};

// What a local handler sees about the call it serves.
struct CallContext {
  RouteRequest request;
  CancelToken cancel;
  const Clock* clock = nullptr;

  bool cancelled() const { return cancel.is_cancelled(); }
  bool past_deadline() const {
    return clock != nullptr && request.deadline_ms > 0 && clock->now_ms() >= request.deadline_ms;
  }
};

// A non-streaming local handler: the response body or an error. Handlers must not throw
// (the bus catches anything that escapes and reports internal_error).
using CallHandler = std::function<Result<Json>(const CallContext&, const Json& body)>;
// A streaming local handler: emits frames through `emit` (stop when it returns an error or
// ctx.cancelled()), then returns the data of the terminal `done` frame, or an error (which
// becomes the terminal `error` frame).
using StreamHandler =
    std::function<Result<Json>(const CallContext&, const Json& body, const FrameSink& emit)>;
// (offered_params, requested_params) -> whether this instance can serve the request (§5.5).
using ParamsPredicate = std::function<bool(const Json& offered, const Json& requested)>;

// A capability this process offers: descriptor + handlers (M03 §4's (descriptor, handler,
// params_compatible) tuple).
struct LocalCapability {
  CapabilityDescriptor descriptor;
  CallHandler handler;                 // required iff descriptor.has_response()
  StreamHandler stream_handler;        // required iff descriptor.has_stream()
  ParamsPredicate params_compatible;   // empty = any-matches-any
  // Where the handlers run (the service host gives each service its own bounded queue;
  // doc/design/architecture.md "Execution model"). A call finding the queue full fails
  // over to the next provider, else ends with capacity_exceeded. Null = on the caller's
  // thread (tests and tools that drive a bus directly).
  std::shared_ptr<Executor> executor;
};

// Identity of one registry entry: (node, name, version).
struct EntryKey {
  NodeId node_id;
  CapabilityName name;
  Version version;
  auto operator<=>(const EntryKey&) const = default;
  bool operator==(const EntryKey&) const = default;
  // "name@1.0 on <node>" for messages.
  std::string to_string() const;
};

// The bus's view of one (node, capability) pair (M03 §3.1). A snapshot: the registry owns
// the state, health fields are filled from the HealthTracker by whoever builds the snapshot.
struct CapabilityEntry {
  NodeId node_id;
  CapabilityDescriptor descriptor;  // remote: schemas known only if a local twin shares the hash
  SchemaHash schema_hash;
  bool is_local = false;
  std::shared_ptr<const LocalCapability> local;  // handlers; only for local entries
  std::optional<Endpoint> endpoint;              // only for remote entries
  TrustLevel peer_trust = TrustLevel::self;      // the provider's trust level in the community
  bool schemas_known = true;                     // false for remote entries without a twin
  int in_flight = 0;
  std::int64_t last_seen_ms = 0;                 // Clock ms of the last manifest that listed it
  double p50_latency_ms = 0.0;
  double p99_latency_ms = 0.0;
  double success_rate = 1.0;
  std::int64_t quarantined_until_ms = 0;
  std::set<std::string> sticky_sessions;

  EntryKey key() const { return EntryKey{node_id, descriptor.name, descriptor.version}; }
  Json to_json() const;
};

}  // namespace hn::bus
