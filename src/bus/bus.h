// bus.h — CapabilityBus, the facade services and the transport use (M03 §3.7, §5.3, §5.8).
//
// A call: route (sticky when a session id is given) → enforce the caller's trust level
// against the capability's trust_required (unauthorized) → validate the body against the
// request schema (schema_mismatch with schema_hash_expected) → per candidate, best first:
// admit through health (quarantine / single probe), take a max_concurrent slot, run the
// local handler or the RemoteInvoker, validate the response → record health and trace.
// Partition, timeout, capacity_exceeded, rate_limited and quarantined (and internal_error
// for idempotent capabilities) fail over to the next candidate — for streams only before
// the first frame reached the caller. No provider → not_found; the name offered only in
// other versions → schema_mismatch (alt_capabilities); every provider quarantined →
// partition (Router::route). A stream call to a capability that only answers plainly gets
// its response as the `done` data (CONTRACT §5.1).
//
// The bus does not authenticate: the caller (transport server for inbound calls, a local
// service for outbound ones) tells it the caller's trust level; "self" is what the node's
// own services and its loopback-signed CLI/UI get (DESIGN.md).
//
// Execution (doc/design/architecture.md "Execution model"): the async_* members never block.
// Routing, the trust check and schema validation run on the calling thread (microseconds);
// a local handler then runs on its capability's executor (LocalCapability::executor — the
// service's own bounded queue; a full queue fails over, else capacity_exceeded with
// retry_after_ms), a remote call on the invoker's I/O thread. The completion runs on the
// thread that finished the work, exactly once. call() / stream() are the blocking forms for
// threads that may wait (a service's own queue threads, tools, tests): never call them from
// the network thread.
//
// Cancellation: CallOptions::cancel reaches the work — a queued local call never starts, a
// running handler sees CallContext::cancelled(), a remote exchange is stopped by its
// invoker and the call completes at once. A cancelled call ends with Error{timeout,
// "cancelled by the caller", detail {"cancelled": true}}, traced as "cancelled" and not
// counted against the provider's health. A stream consumer stops a stream by returning an
// error from its sink; that error is returned.
//
// Thread-safety: every public member is safe for concurrent use.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bus/capability.h"
#include "bus/health.h"
#include "bus/registry.h"
#include "bus/remote.h"
#include "bus/router.h"
#include "bus/schema.h"
#include "bus/service.h"
#include "bus/trace.h"
#include "core/clock.h"
#include "core/timer_queue.h"
#include "core/ulid.h"

namespace hn::bus {

struct CallOptions {
  std::optional<std::int64_t> deadline_ms;   // absolute Clock ms; default now + timeout
  std::optional<int> timeout_seconds;        // default: the capability's timeout_seconds
  std::optional<bool> prefer_local;          // default: BusConfig::prefer_local
  std::optional<std::string> session_id;     // sticky routing (M03 §5.6)
  TrustLevel caller_trust = TrustLevel::self;
  std::optional<NodeId> caller;              // default: our node
  std::optional<TraceId> trace_id;           // default: a new ULID
  bool local_only = false;                   // never forward to another node
  bool remote_only = false;                  // only providers on other nodes
  std::optional<NodeId> target_node;         // only the provider on this node
  std::shared_ptr<StreamFlow> flow;          // stream(): the sink's backpressure, if any
  bool binary_frames = false;                // stream(): the sink takes frame payloads
  CancelToken cancel;
};

// M03 §3.7 TopologySnapshot (peers come from M02; the node adds them).
struct TopologySnapshot {
  NodeId our_node_id;
  std::vector<CapabilityEntry> capabilities_local;
  std::vector<CapabilityEntry> capabilities_remote;
  int in_flight_total = 0;
  Json to_json() const;
};

class CapabilityBus {
 public:
  CapabilityBus(NodeId our_node_id, BusConfig config, const Clock& clock,
                std::shared_ptr<RemoteInvoker> invoker = nullptr);
  CapabilityBus(const CapabilityBus&) = delete;
  CapabilityBus& operator=(const CapabilityBus&) = delete;

  const NodeId& our_node_id() const { return m_our_node_id; }
  Registry& registry() { return m_registry; }
  HealthTracker& health() { return m_health; }
  Router& router() { return m_router; }
  TraceHook& trace() { return m_trace; }
  const SchemaValidator& schema() const { return m_schema; }

  // Plugs the network in (the node does this once the transport client exists).
  void set_remote_invoker(std::shared_ptr<RemoteInvoker> invoker);

  // --- registration (M03 §3.7) ---
  // Registers every capability of `service` within its namespace_prefixes; all or nothing.
  Status register_service(Service& service);
  // Lower-level alternative; `declared_prefixes` empty = any allocated prefix.
  Status register_capability(LocalCapability cap,
                             const std::vector<std::string>& declared_prefixes = {});

  // --- caller side (M03 §5.8) ---
  // Non-blocking: `done` runs once, on the thread that finished the call.
  void async_call(const CapabilityName& capability, Version version_req, Json body,
                  CallOptions options, CallDone done);
  // Non-blocking stream: frames go to `on_frame` (from the producer's thread, one at a time),
  // then `done` gets the `done` frame's data or the error.
  void async_stream(const CapabilityName& capability, Version version_req, Json body,
                    FrameSink on_frame, CallOptions options, CallDone done);
  // Blocking forms of the two above.
  Result<Json> call(const CapabilityName& capability, Version version_req, const Json& body,
                    const CallOptions& options = {});
  // Streams: each non-terminal frame goes to `on_frame`; returns the `done` frame's data.
  Result<Json> stream(const CapabilityName& capability, Version version_req, const Json& body,
                      const FrameSink& on_frame, const CallOptions& options = {});

  // --- transport side (M03 §5.3): inbound calls, served locally only ---
  void async_handle_call(RouteRequest req, CancelToken cancel, CallDone done);
  void async_handle_stream(RouteRequest req, FrameSink on_frame, CancelToken cancel, CallDone done);
  // Blocking forms.
  Result<Json> handle_call(RouteRequest req, CancelToken cancel = {});
  Result<Json> handle_stream(RouteRequest req, const FrameSink& on_frame, CancelToken cancel = {});

  // --- peer integration (M03 §5.2) ---
  // `specs` from the peer's verified manifest (parse_capability_specs of "capabilities").
  Result<Diff> on_peer_manifest(const NodeId& node, const std::vector<CapabilitySpec>& specs,
                                const Endpoint& endpoint, TrustLevel trust);
  // The same from a verified node manifest; the first "https" endpoint (else the first) is
  // used. manifest_invalid when it lists no endpoint.
  Result<Diff> on_peer_manifest(const identity::NodeManifest& manifest, TrustLevel trust);
  void on_peer_removed(const NodeId& node);

  // --- introspection ---
  TopologySnapshot topology_snapshot() const;
  std::vector<CallTraceEvent> recent_traces(std::size_t n = 50) const;
  Json stats() const;

 private:
  struct StreamState;
  struct Dispatch;
  struct Attempt;

  RouteRequest make_request(const CapabilityName& capability, Version version_req, Json body,
                            const CallOptions& options, bool stream);
  void dispatch(RouteRequest req, CallOptions options, FrameSink sink, CallDone done);
  void try_next(const std::shared_ptr<Dispatch>& d);
  void finish(const std::shared_ptr<Dispatch>& d, Result<Json> result, bool rejected);
  void start_local(const std::shared_ptr<Attempt>& a);
  void start_remote(const std::shared_ptr<Attempt>& a);
  void complete_attempt(const std::shared_ptr<Attempt>& a, Result<Json> result);
  Result<Json> run_handler(const CapabilityEntry& c, const RouteRequest& req,
                           const CancelToken& cancel, const FrameSink* sink);
  std::shared_ptr<RemoteInvoker> invoker() const;
  CapabilityEntry with_health(CapabilityEntry e) const;

  const NodeId m_our_node_id;
  const Clock& m_clock;
  UlidGenerator m_ulids;
  Registry m_registry;
  HealthTracker m_health;
  SchemaValidator m_schema;
  Router m_router;
  TraceHook m_trace;
  mutable std::mutex m_invoker_mutex;
  std::shared_ptr<RemoteInvoker> m_invoker;
  TimerQueue m_timers;  // remote calls' deadlines (last: its thread stops first)
};

}  // namespace hn::bus
