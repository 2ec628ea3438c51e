// node_impl.h — Node::Impl, the state of a running node and the member functions the
// node's source files share. Private to src/node (Node::Impl is a private member of Node).
//
// Which file defines what:
//   node.cpp          composition (open_* in M12 §5 order), start, shutdown, the Node API
//   node_routes.cpp   the node's own routes: admin (status, caps, debug emit, member
//                     revoke, invite), the sync routes, self-only guards
//   call_routes.cpp   the bus-call routes (/bus/v1/call, /node/v1/call): calls started
//                     on the bus, streams over a StreamBridge, active calls
//   peers.cpp         the peer table: discovery, registry events, peer manifests, static
//                     and bootstrap peers, revoked peers dropped
//   membership.cpp    who a node is to us (revoked wins) and the community manifest
//   governance.cpp    member promote / demote / revoke (co-signed) and the policy routes
//   sync_scheduler.cpp  event sync (X02 §3.6): served requests, rounds, the timer
//   emergency_mode.cpp  M09: the StateBus, the detector, the effects of a mode change
//   event_push.cpp    new events pushed to online peers at once, relayed, repaired by a round
//   community.cpp     community.invite / revoke / cosign on the bus, the member list
//   log_upkeep.cpp    views from the newest snapshot at open; snapshots and retention
//                     (X02 §5.4) on the sync queue
//   status.cpp        what the node reports: status, caps, manifest, traces, metrics
//
// Thread-safety: `io` runs on the network thread (the one in Node::run), which owns the
// server, the clients, discovery and the timers. `peers` is guarded by peers_mutex,
// `community_manifest` by community_mutex, `active` by active_mutex; the atomics are read
// from any thread. Everything else is set during open()/start() and read-only afterwards.
// Invariant: the members are destroyed in reverse declaration order — the Asio objects
// (declared last) go first, the io_context last of them; ~Impl stops them in order.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>  // before Asio 1.74's headers, which use std::exchange
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "blobs/store.h"
#include "core/clock.h"
#include "core/constants.h"
#include "core/work_queue.h"
#include "discovery/discovery_service.h"
#include "discovery/inbound_peers.h"
#include "discovery/manifest_publisher.h"
#include "emergency/capability_gate.h"
#include "emergency/detector.h"
#include "emergency/state.h"
#include "emergency/targets.h"
#include "events/community_view.h"
#include "events/event_log.h"
#include "events/replay.h"
#include "events/push.h"
#include "events/sync.h"
#include "events/upkeep.h"
#include "identity/tls_cert.h"
#include "node/openai_api.h"
#include "node/detail/stream_bridge.h"
#include "node/detail/community_service.h"
#include "node/detail/node_publisher.h"
#include "node/detail/transport_invoker.h"
#include "node/node.h"
#include "node/service_list.h"
#include "observability/logging.h"
#include "service/host.h"
#include "transport/client.h"
#include "transport/pinned_certs.h"
#include "transport/server.h"
#include "ui/server.h"

namespace hn::node {

namespace detail {
// The "node" logger every node source file writes to.
observability::Logger& node_log();
}  // namespace detail

struct Node::Impl {
  struct Peer {
    NodeId node_id;
    std::string display_name;
    identity::Endpoint endpoint;
    TrustLevel trust = TrustLevel::member;
    std::size_t capabilities = 0;
    std::int64_t last_seen_ms = 0;
  };
  // A bus call in progress (cancelled at shutdown).
  struct Active {
    bus::CancelToken cancel;
    std::weak_ptr<detail::StreamBridge> bridge;
  };
  // What cancel_active does to the streams' bridges besides cancelling the calls.
  enum class Bridges { keep, abandon };
  using JsonJob = std::function<Result<Json>(const Json&)>;

  Impl(NodeHome h, NodeOptions o) : home(std::move(h)), options(o) {}
  ~Impl();

  // --- composition (node.cpp, M12 §5) ---
  Status open_services();
  void stop_work();
  Status open_observability();
  Status open_identity();
  Status open_community();
  Status open_state();
  Status open_bus();
  Status open_transport();
  Status lock_home();
  Status start();
  void begin_shutdown();
  // M08: serves the dashboard on [ui] host:port (node/ui.cpp); a port in use is logged and
  // the node runs without it.
  void start_ui();
  void stop_ui();

  // --- the node's own routes (node_routes.cpp) ---
  void add_node_routes();
  void add_self_route(const char* path, JsonJob fn);
  boost::asio::awaitable<transport::Response> async_local_json(transport::Request r,
                                                               std::function<Json()> fn);
  static transport::Response not_self(const transport::Request& r);
  Result<Json> debug_emit(const Json& request);
  Result<Json> create_invite(const Json& request);
  Result<Json> change_log_level(const Json& request);

  // --- governance admin routes (governance.cpp) ---
  Result<Json> change_member(events::EventType type, const Json& request);
  Result<Json> revoke_member(const Json& request);
  Result<Json> change_member_level(const Json& request);
  Result<Json> update_policy(const Json& request);
  // GET NODE_POLICY_PATH: the policy in force by the community view (what every node
  // replays), not the manifest file only the root regenerates.
  Result<Json> current_policy();

  // --- bus-call routes (call_routes.cpp) ---
  void add_call_routes();
  boost::asio::awaitable<transport::Response> async_bus_call(
      transport::Request r, std::shared_ptr<transport::SseWriter> w);
  boost::asio::awaitable<transport::Response> async_stream_route(
      bus::RouteRequest rr, std::shared_ptr<transport::SseWriter> w);
  // Starts a plain call on the bus; `respond` answers from where it finished.
  void start_call(bus::RouteRequest rr, transport::Respond respond);
  // Starts a streamed call; frames go to `sink`, the end to `done`.
  void start_stream(bus::RouteRequest rr, bus::FrameSink sink, bus::CancelToken cancel,
                    bus::CallDone done);
  Result<bus::RouteRequest> parse_node_call(const transport::Request& r);
  static bus::RouteRequest route_request_of(transport::Request& r);
  // CONTRACT §5.1: whether a call is answered with a stream — the capability (the first
  // provider within the call's reach whose schemas are known) and the body decide.
  bool answers_with_stream(const transport::Request& r, const CapabilityName& capability,
                           Version version, const Json& body, bool local_only,
                           bool remote_only, const std::optional<NodeId>& target) const;
  static bus::CallOptions self_options(const bus::RouteRequest& rr, const bus::CancelToken& cancel);
  std::uint64_t add_active(bus::CancelToken cancel, std::shared_ptr<detail::StreamBridge> bridge);
  void remove_active(std::uint64_t id);
  // Cancels every call in progress (shutdown).
  void cancel_active(Bridges bridges);

  // --- peers (peers.cpp) ---
  Status start_discovery();
  void add_bootstrap_peers();
  void add_static_peer(discovery::PeerEndpoint peer);
  // A member that syncs with us or pushes to us is a peer too, reached at the address it
  // called from and the port it names (discovery/inbound_peers.h): a hub that others list
  // pushes to them although it lists none of them.
  void note_inbound_peer(const transport::Request& r);
  void on_registry_event(const discovery::PeerEvent& event);
  boost::asio::awaitable<void> async_fetch_manifest(discovery::PeerEndpoint ep,
                                                    discovery::ManifestFetcher::Callback cb);
  Status on_peer_manifest(const identity::NodeManifest& m, const identity::Endpoint& ep);
  void on_peer_removed(const NodeId& node);
  // DESIGN.md "revoked wins": a peer revoked by a (synced) event leaves the peer table.
  void drop_revoked_peers();

  // --- membership (membership.cpp) ---
  Result<TrustLevel> membership(const NodeId& node, const CommunityId& community) const;
  bool is_pending_invitee(const NodeId& node) const;
  void refresh_community_manifest();

  // --- event sync (sync_scheduler.cpp, X02 §3.6) ---
  // The sync server and client, and the HEARTHNET_SYNC_INTERVAL_SECONDS hook (config_error).
  Status open_sync();
  boost::asio::awaitable<transport::Response> async_sync(transport::Request r, JsonJob fn);
  // Runs fn(body) on `queue` and resumes with its result (capacity_exceeded when full).
  boost::asio::awaitable<Result<Json>> async_on(WorkQueue& queue, JsonJob fn, Json body);
  boost::asio::awaitable<void> async_sync_request(transport::Endpoint ep, std::string method,
                                                  std::string path, Json body, bus::CallDone done);
  Result<Json> sync_request(const transport::Endpoint& ep, const std::string& method,
                            std::string_view path, Json body);
  void start_sync_timer();
  void schedule_sync();
  void run_sync_rounds();
  void arm_sync_timer();
  std::chrono::milliseconds current_sync_interval() const;

  // --- emergency mode (emergency_mode.cpp, M09) ---
  // The StateBus and the gate; the probe targets (config_error for a bad one).
  Status open_emergency();
  void start_emergency();
  // Node::set_emergency_mode: a mode change published as if the detector had seen it.
  void set_emergency_mode(bool to_offline);
  void on_emergency_change(const emergency::EmergencyState& s, emergency::Mode previous);
  // status()["online_state"]: the mode, since, probes, clock check, withdrawn capabilities.
  Json emergency_status() const;

  // --- event push (event_push.cpp, issue #13 §1) ---
  // The push queue, the outbox and the subscription that queues our own events.
  void open_push();
  std::vector<std::pair<NodeId, identity::Endpoint>> online_peers() const;
  // Queues events for every online peer outside seen_by (and the sender, when relaying).
  void push_events(std::vector<events::Event> events, std::vector<NodeId> seen_by,
                   std::optional<NodeId> sender);
  void pump_push();
  boost::asio::awaitable<void> async_push_batch(events::PushBatch batch, transport::Endpoint ep);
  void repair_after_push_failure();
  // POST /sync/v1/push (with seen_by) or /sync/v1/events (X02 §6): stored with the sync
  // checks on the push queue; what was new is relayed to peers the sender did not reach.
  enum class PushRoute { push, events };
  boost::asio::awaitable<transport::Response> async_serve_push(transport::Request r,
                                                               PushRoute route);
  Json push_status() const;

  // --- community capabilities (community.cpp, CONTRACT §4.17–4.18) ---
  // Starts the node's `community` service on the host (after the listed services).
  Status open_community_service();
  Result<Json> community_invite(const bus::CallContext& ctx, const Json& body);
  Result<Json> community_revoke(const bus::CallContext& ctx, const Json& body);
  Result<Json> community_cosign(const bus::CallContext& ctx, const Json& body);
  // GET NODE_MEMBERS_PATH: members, invitees and revoked nodes with level and state.
  Json member_list() const;

  // --- event log upkeep (log_upkeep.cpp, X02 §5.4) ---
  // The replay engine and the community view, from the newest usable snapshot.
  Status open_views();
  // Queues one upkeep pass on the sync queue (daily: build a snapshot even below the lag).
  void schedule_upkeep(bool daily);
  void run_upkeep(bool daily);
  // After a round that heard `pruned`: adopt the peer's snapshot (log_upkeep.cpp). True
  // when the views took it.
  bool bootstrap_from_snapshot(events::SyncPeer& peer, const NodeId& peer_id);
  void arm_daily_snapshot();
  Json upkeep_status() const;

  // --- views (status.cpp) ---
  Json status() const;
  // GET /ready (X01 §3.2): {"ready", "node_id", "capabilities", "peers_expected",
  // "peers_reachable", "reason"?}.
  Json readiness() const;
  Json node_queues() const;
  Json capabilities(const CapsFilter& filter) const;
  identity::NodeManifest manifest() const;
  Result<Json> trace_recent(const std::map<std::string, std::string>& query) const;
  std::string metrics_text() const;
  void record_trace(const bus::CallTraceEvent& e);
  void record_request(const transport::RequestRecord& rec);

  NodeHome home;
  // home.config with every path resolved (config::with_resolved_paths): what services read
  // (a service sees its folders, e.g. rag.corpora_dir, without knowing the node's layout).
  config::Config service_config;
  NodeOptions options;
  const Clock& clock = SystemClock::instance();
  std::int64_t started_ms = SystemClock::instance().now_ms();
  int lock_fd = -1;
  bool port_file_written = false;

  std::optional<identity::KeyPair> keys;
  CommunityId community;
  std::unique_ptr<events::EventLog> log;
  events::CommunityView view;
  std::unique_ptr<events::ReplayEngine> replay;
  std::unique_ptr<events::LogUpkeep> upkeep;
  events::StartReport start_report;   // what open_views restored
  std::int64_t replayed_at_start = 0;  // events the views replayed at open
  std::atomic<bool> upkeep_pending{false};
  std::atomic<bool> upkeep_daily{false};
  events::Subscription upkeep_subscription;  // snapshot_due on every commit
  events::Subscription community_subscription;
  mutable std::mutex community_mutex;
  std::optional<identity::CommunityManifest> community_manifest;
  std::unique_ptr<blobs::BlobStore> blobs;
  std::unique_ptr<transport::PinnedCerts> pins;
  identity::KeyPinStore key_pins;
  std::unique_ptr<identity::VerificationCache> verification_cache;
  std::unique_ptr<bus::CapabilityBus> bus;
  // The node's own classes of work (architecture.md "Execution model"): admin routes and
  // event sync, each on a bounded queue of its own; services get theirs from the host.
  std::unique_ptr<WorkQueue> admin_queue;
  std::unique_ptr<WorkQueue> sync_queue;
  std::unique_ptr<detail::NodePublisher> service_publisher;
  std::unique_ptr<service::ServiceHost> services;
  std::unique_ptr<OpenAiApi> openai_api;  // [openai_api]; null when disabled or not bound
  void open_openai_api();
  bus::CancelToken stop_token;  // cancelled when the node begins to shut down
  identity::HardwareSpec hardware;
  identity::TlsCertificate cert;
  std::string advertised;

  mutable std::mutex peers_mutex;
  std::map<NodeId, Peer> peers;
  std::vector<discovery::PeerEndpoint> static_peers;
  // Their re-poll period (HEARTHNET_STATIC_PEER_INTERVAL_SECONDS overrides it, open_sync).
  std::chrono::milliseconds static_peer_interval{discovery::StaticPeers::DEFAULT_INTERVAL};
  std::atomic<bool> peers_configured{false};  // static or bootstrap peers were given
  std::shared_ptr<discovery::InboundPeers> inbound_peers;  // members that dialled us
  // M02: the live peer table (discovery's, fed by UDP, mDNS and static peers).
  std::unique_ptr<discovery::PeerRegistry> registry;
  std::unique_ptr<discovery::FunctionManifestFetcher> fetcher;
  discovery::PeerRegistry::SubscriptionId registry_subscription = 0;
  std::uint64_t bus_caps_subscription = 0;       // the bus registry: republish on local changes
  std::atomic<bool> caps_publish_pending{false};
  // X02 §3.6 event sync.
  std::unique_ptr<events::SyncServer> sync_server;
  std::unique_ptr<events::SyncClient> sync_client;
  std::atomic<bool> sync_busy{false};
  std::atomic<bool> sync_again{false};
  std::chrono::milliseconds sync_interval{std::chrono::seconds(SYNC_INTERVAL_SECONDS)};
  std::atomic<bool> offline{false};            // M09 emergency mode (offline cadence)
  // When a sync round with some peer last succeeded (0: never); status → sync.last_ok_at,
  // the dashboard's "how far behind the log is" (M08 §5.6).
  std::atomic<std::int64_t> last_sync_ok_ms{0};
  std::unique_ptr<emergency::StateBus> state_bus;      // M09: the mode and the detector's view
  std::unique_ptr<emergency::CapabilityGate> gate;     // requires_internet off while offline
  std::vector<emergency::ProbeTarget> emergency_targets;  // empty: no detector
  // Push (event_push.cpp): the outbox, its queue for received pushes, and counters.
  struct PushStats {
    std::atomic<std::int64_t> events_sent{0}, batches_sent{0}, failures{0}, repairs{0},
        events_received{0}, relayed_events{0};
  };
  std::unique_ptr<events::PushOutbox> push_outbox;
  std::unique_ptr<WorkQueue> push_queue;
  events::Subscription push_subscription;
  std::atomic<bool> push_pump_posted{false};
  std::atomic<bool> push_repair_armed{false};
  PushStats push_stats;
  // What this node's operator asked to revoke (community.cpp): a peer's identical request
  // gets our co-signature.
  detail::Intents intents;

  std::mutex active_mutex;
  std::map<std::uint64_t, Active> active;
  std::uint64_t next_active = 1;

  // Asio objects last: destroyed first (the io_context last of them).
  boost::asio::io_context io{1};
  std::unique_ptr<transport::Server> server;
  std::unique_ptr<ui::Server> ui_server;  // M08 dashboard (node/ui.cpp); null with --no-ui
  std::unique_ptr<transport::Client> client;
  std::unique_ptr<transport::PinnedCerts> probe_pins;  // in memory, by address
  std::unique_ptr<transport::Client> probe_client;     // fetches /manifest of static peers
  std::shared_ptr<detail::TransportInvoker> invoker;
  std::unique_ptr<boost::asio::signal_set> signals;
  std::unique_ptr<discovery::DiscoveryService> discovery;
  std::shared_ptr<discovery::ManifestPublisher> publisher;
  std::vector<std::shared_ptr<discovery::StaticPeers>> extra_static;
  std::unique_ptr<boost::asio::steady_timer> sync_timer;
  std::unique_ptr<boost::asio::steady_timer> snapshot_timer;  // daily snapshot
  std::unique_ptr<emergency::Detector> detector;  // M09 probe loop, on the network thread
  std::atomic<bool> stopping{false};
  std::atomic<bool> started{false};
  std::atomic<std::uint16_t> port{0};
};

}  // namespace hn::node
