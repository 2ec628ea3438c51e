// node.h — the orchestrator (M12 §5): composes a running node from its home, in the spec's
// order — observability, identity, community check, event log + community view + replay,
// blob store, pinned certificates, capability bus, the services of service_list.cpp (each
// on its own queue under the ServiceHost), transport server and client, the RemoteInvoker that plugs the network into the bus, discovery (M02: UDP
// beacons, mDNS, static bootstrap peers, all feeding one PeerRegistry whose events drive
// on_peer_manifest / on_peer_removed), the manifest publisher, event sync (X02 §3.6) —
// and runs it until SIGINT / SIGTERM or stop().
//
// Routes served (X01 §3.2, CONTRACT §5):
//   POST /bus/v1/call        signed; JSON answer, or SSE frames when the capability and
//                            the request choose a stream (CONTRACT §5.1,
//                            bus::answers_with_stream). The network thread starts the bus call; the
//                            handler runs on its service's queue (doc/design/architecture.md
//                            "Execution model"). `self` callers (the CLI, the UI) go through
//                            CapabilityBus::async_call/async_stream and may reach peers;
//                            everyone else gets async_handle_* (served locally only, M03 §5.3).
//   GET  /node/v1/status     signed, trust `self` only: the `hearthnet status` report.
//   GET  /node/v1/caps       signed, trust `self` only: every capability entry.
//   POST /node/v1/call       signed, trust `self` only: a call pinned to one provider.
//   POST /node/v1/debug/emit signed, trust `self` only: append N diagnostic events.
//   POST /node/v1/member/revoke  signed, trust `self` only: revoke a member.
//   GET  /node/v1/members    signed, trust `self` only: the member list.
//   POST /node/v1/invite     signed, trust `self` only: issue an invite.
//   POST /node/v1/shutdown   signed, trust `self` only: stop as on SIGTERM.
//   GET  /sync/v1/heads|snapshot, POST /sync/v1/reconcile|fetch|events   signed, members only
//                            (events/sync.h SyncServer on the node's sync queue).
//   POST /sync/v1/push       signed, members only: new events pushed at once (events/push.h);
//                            /sync/v1/events and /sync/v1/push run on the node's push queue
//                            and relay what was new (node/event_push.cpp).
// Bus capabilities of the node itself: community.invite@1.0, community.revoke@1.0,
// community.cosign@1.0 (node/community.cpp, detail/community_service.h).
//   GET  /manifest, /community/manifest, /metrics, /trace/recent, /health, /ready (public).
//                            (/trace/recent?n= takes an integer, clamped to the ring;
//                            anything else answers bad_request.)
// Sync rounds (events/sync.h SyncClient, one at a time on the sync queue, I/O posted to the
// network thread) run with every peer when a peer is added and every 300 s (X02 §3.6);
// log upkeep (X02 §5.4, node/log_upkeep.cpp): views start from the newest own snapshot;
// snapshots every [events] snapshot_lag_lamport and daily, then retention, on the sync queue;
// Test hooks (environment, for tests/functional): HEARTHNET_SYNC_INTERVAL_SECONDS overrides
// the sync period (a whole number of seconds ≥ 1; anything else makes open() fail with
// config_error); HEARTHNET_STATIC_PEER_INTERVAL_SECONDS the static peers' 30 s re-poll
// period, parsed the same way; HEARTHNET_DIAG_FAIL=1 makes this node's diag.echo fail every call.
// Invitees (a pending community.member.invited for them) pass the transport as `unknown`
// and may use only the sync routes, to pull the log and push their join (M13 §4.2).
// Membership (DESIGN.md): revoked wins; a node the community view does not list is
// unauthorized; our own key over loopback is `self` (decided by the transport).
//
// Control files: while running, the bound port is in paths.control_port_file (written
// atomically after bind, removed on shutdown) and paths.run_dir/node.lock is flock()ed so a
// second node on the same home refuses to start.
//
// Where things are (src/node): node.cpp composes (open/start/run/stop, shutdown) and
// forwards this API to Node::Impl, declared in detail/node_impl.h; node_routes.cpp serves
// the admin and sync routes, call_routes.cpp the bus-call routes, service_list.cpp the
// services,
// peers.cpp the peer table and discovery, membership.cpp membership and the community
// manifest, sync_scheduler.cpp event sync rounds and the emergency-mode switch, status.cpp
// status / caps / manifest / traces / metrics, platform.h the OS helpers, and
// detail/parse.h the typed parsing of query values and environment hooks.
//
// Threading: one network thread — the one that calls run() — owns the io_context, the
// server, the client and peer polling, and never runs service work. Services run on their
// own queues (ServiceHost), admin routes on the node's `admin` queue, event sync on its
// `sync` queue; each posts its results back. on_peer_manifest / on_peer_removed / stop /
// status / capabilities are safe from any thread. Lifetime: open() → start() → run() →
// destroy; run() returns after a clean shutdown (calls cancelled, services drained and
// stopped in reverse order, queues stopped, logs flushed, port file removed).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "bus/bus.h"
#include "core/error.h"
#include "core/json.h"
#include "identity/keys.h"
#include "identity/manifest.h"
#include "node/home.h"

namespace boost::asio {
class io_context;
}

namespace hn::node {

// Signed local-only routes for the CLI (trust `self` only).
inline constexpr const char* NODE_STATUS_PATH = "/node/v1/status";
inline constexpr const char* NODE_CAPS_PATH = "/node/v1/caps";
// POST {"capability": "NAME@MAJ.MIN", "node": "self" | "remote" | FULL_NODE_ID, "body": {..}}:
// a call pinned to one provider (`hearthnet call --node`), bypassing the router's choice.
inline constexpr const char* NODE_CALL_PATH = "/node/v1/call";
// POST {"count": N}: appends N node.manifest.updated events, each with this node's
// current manifest as its data (CONTRACT §7.2) — a diagnostic for sync tests
// (`hearthnet debug emit N`). Trust `self` only.
inline constexpr const char* NODE_DEBUG_EMIT_PATH = "/node/v1/debug/emit";
// POST {"node_id": FULL_ID, "reason": "...", "client_id"?, "co_signers"?: [...]}: appends
// community.member.revoked authored by this node when the policy's co-signatures are there
// (events/governance.h); unauthorized, with {required, signatures, ...} as detail, otherwise.
inline constexpr const char* NODE_MEMBER_REVOKE_PATH = "/node/v1/member/revoke";
// GET: {"members": [{node_id, level, state: active|invited|revoked, online, ...}],
// "member_count", "revoked_count"} from the community view (`hearthnet member list`).
inline constexpr const char* NODE_MEMBERS_PATH = "/node/v1/members";
// POST {"action": "promote|demote", "node_id", "level", "client_id"?, "co_signers"?}: the
// same for community.member.promoted / demoted.
inline constexpr const char* NODE_MEMBER_LEVEL_PATH = "/node/v1/member/level";
// POST {"set": {policy field: value, ...}}: community.policy.updated with the merged, whole
// policy (M01); the community root only. GET: {"policy", "head_lamport"}, the policy in
// force by this node's community view (`hearthnet community policy show`).
inline constexpr const char* NODE_POLICY_PATH = "/node/v1/community/policy";
// POST {"invitee": ID_OR_CARD, "level": "member|trusted", "ttl_seconds": N}:
// issue_invite (onboarding/issue.h) with this node's endpoint as bootstrap endpoint;
// answers {"invite": "hearthnet://v1/...", ...}.
inline constexpr const char* NODE_INVITE_PATH = "/node/v1/invite";
// POST {"level": "debug|info|warning|error"}: the node's log level from now until it
// restarts ([observability] log_level is the one it starts with); answers {"level", "was"}.
// The level in force is status()'s node.log_level. Trust `self` only.
inline constexpr const char* NODE_LOG_LEVEL_PATH = "/node/v1/log-level";
// POST {}: the node answers {"stopping": true} and shuts down as on SIGTERM (`hearthnet
// erase` stops the node first, M12 §3.10). Trust `self` only.
inline constexpr const char* NODE_SHUTDOWN_PATH = "/node/v1/shutdown";
// The node's TLS certificate and its key (PKCS#8 of the device key: a secret) in keys_dir.
inline constexpr const char* TLS_CERT_FILE = "tls_cert.pem";
inline constexpr const char* TLS_KEY_FILE = "tls_key.pem";

struct NodeOptions {
  bool debug = false;    // --debug: log level debug, and every log line also to stderr
  bool no_ui = false;    // --no-ui: do not serve the dashboard (M12 §3.2)
  // The dashboard's session token (ui/session.h); empty: a fresh one. `run` passes the one
  // its first-run wizard used, so the browser's cookie stays valid.
  std::string ui_token;
  // The dashboard's port instead of [ui] port (the wizard's bound port when [ui] port = 0).
  std::optional<std::uint16_t> ui_port;
  bool handle_signals = true;  // run() stops on SIGINT / SIGTERM
  bool init_logging = true;    // false: keep the process' logging as it is (tests)
};

// What `caps` filters on (M12 §3.4).
struct CapsFilter {
  bool local_only = false;
  bool remote_only = false;
  std::string name_pattern;  // glob with * and ?, or a substring; empty = all
};

// Whether `name` matches a caps pattern: a glob when it holds * or ?, else a substring.
bool matches_capability_pattern(const std::string& name, const std::string& pattern);

class Node {
 public:
  // M12 §5 steps 1–7 (nothing listens yet). Errors: keys_missing / keys_* (with a hint to
  // run `hearthnet init`), not_found when the node has no community, config_error (also a
  // malformed HEARTHNET_SYNC_INTERVAL_SECONDS or HEARTHNET_STATIC_PEER_INTERVAL_SECONDS),
  // storage_error / db_corrupt, io_error when the home is locked by a running node.
  static Result<std::unique_ptr<Node>> open(NodeHome home, NodeOptions options = {});
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Binds the server (port 0 = ephemeral), writes the port file, starts static peers.
  // Call once, before run(), on the thread that will call run().
  Status start();
  // Runs the network loop on the calling thread until stop() or a signal, then shuts down
  // cleanly. Returns the first fatal error, if any.
  Status run();
  // Asks run() to shut down; safe from any thread and from signal-free contexts.
  void stop();
  // M09's switch (the detector drives it): offline → event sync every 30 s instead of
  // 5 min with a round at once (X02 §5.5), fast UDP beacons and 30 s peer pruning
  // (M02 §4.3); online → back to normal. Safe from any thread; status() reports it.
  void set_emergency_mode(bool offline);

  // The bound port (0 before start()).
  std::uint16_t port() const;
  // The dashboard's URL with its session token ("" when it is not served), after start().
  std::string ui_url() const;
  const identity::KeyPair& keys() const;
  const NodeHome& home() const;
  bus::CapabilityBus& bus();
  boost::asio::io_context& io_context();

  // --- discovery seam (M02 → M03) ---
  // A peer's node manifest and where it was reached. Verifies it (signature, TTL, key pin),
  // checks community and membership (unauthorized / revoked), then feeds the bus
  // (bus.on_peer_manifest) and the peer table. Our own manifest is ignored. Thread-safe.
  Status on_peer_manifest(const identity::NodeManifest& manifest,
                          const identity::Endpoint& endpoint);
  // A peer went away (pruned, revoked). Thread-safe.
  void on_peer_removed(const NodeId& node);
  // Adds a static peer to discovery: its /manifest is fetched now and every 30 s, and a
  // verified member's manifest reaches on_peer_manifest through the PeerRegistry. Network
  // thread only (or before start()). config.discovery.bootstrap_peers are added by start().
  void add_static_peer(std::string host, std::uint16_t port);

  // --- introspection (any thread) ---
  // The `hearthnet status` report (M12 §3.3).
  Json status() const;
  // {"capabilities": [entry...]} (M12 §3.4).
  Json capabilities(const CapsFilter& filter = {}) const;
  // Our signed node manifest, freshly issued (CONTRACT §6.1).
  identity::NodeManifest manifest() const;
  // The community manifest currently in force.
  std::optional<identity::CommunityManifest> community_manifest() const;
  // The transport's membership callback: revoked wins, unknown → unauthorized.
  Result<TrustLevel> membership(const NodeId& node, const CommunityId& community) const;

 private:
  // The node's state and the code behind it: detail/node_impl.h (src/node only).
  struct Impl;
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// Parses a bootstrap peer: "host:port", "[v6addr]:port" or "https://host:port[/...]";
// bad_request otherwise.
Result<std::pair<std::string, std::uint16_t>> parse_peer_address(const std::string& text);

// The port a running node wrote to paths.control_port_file; not_found when there is none,
// bad_request when the file is malformed.
Result<std::uint16_t> read_control_port(const config::Paths& paths);

}  // namespace hn::node
