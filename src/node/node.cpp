// node.cpp — the orchestrator's composition (M12 §5): Node::open runs the open_* steps in
// the spec's order, start() binds and starts discovery and the sync timer, run() drives the
// network loop, shutdown undoes it all; the Node API forwards to Node::Impl
// (detail/node_impl.h says which file holds the rest).
#include "node/node.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <thread>
#include <utility>

#include <boost/asio/post.hpp>

#include "core/file_util.h"
#include "node/detail/node_impl.h"
#include "node/init.h"
#include "node/platform.h"
#include "observability/metrics.h"
#include "observability/standard_metrics.h"

namespace hn::node {
namespace asio = boost::asio;
namespace fs = std::filesystem;

observability::Logger& detail::node_log() {
  static observability::Logger logger = observability::get_logger("node");
  return logger;
}

using detail::node_log;

namespace {

constexpr const char* PINNED_CERTS_FILE = "pinned_certs.sqlite";
// How long shutdown runs what closed objects left queued (their stop handlers).
constexpr auto SHUTDOWN_DRAIN = std::chrono::milliseconds(500);

// The node's TLS certificate: the configured files, else the one stored beside the keys,
// else a fresh self-signed one (stored, so peers' pins survive restarts — X01 §4.2).
Result<identity::TlsCertificate> load_or_create_cert(const NodeHome& home,
                                                     const identity::KeyPair& keys) {
  const auto& t = home.config.transport;
  if (t.tls_cert && t.tls_key) {
    auto cert = read_file(*t.tls_cert);
    auto key = read_file(*t.tls_key);
    if (!cert) return cert.take_error();
    if (!key) return key.take_error();
    return identity::TlsCertificate{*cert, *key};
  }
  const fs::path cert_path = home.paths.keys_dir / TLS_CERT_FILE;
  const fs::path key_path = home.paths.keys_dir / TLS_KEY_FILE;
  auto cert = read_file(cert_path);
  auto key = read_file(key_path);
  if (cert && key && identity::verify_cert_for_node_id(*cert, keys.node_id().str())) {
    return identity::TlsCertificate{*cert, *key};
  }
  HN_TRY_ASSIGN(auto fresh, identity::generate_self_signed_cert(keys));
  HN_TRY(atomic_write_file(key_path, fresh.key_pem, fs::perms(0600)));
  HN_TRY(atomic_write_file(cert_path, fresh.cert_pem, fs::perms(0644)));
  return fresh;
}

}  // namespace

Result<std::uint16_t> read_control_port(const config::Paths& paths) {
  std::error_code ec;
  if (!fs::exists(paths.control_port_file, ec)) {
    return make_error(ErrorCode::not_found, "no port file at " + paths.control_port_file.string());
  }
  HN_TRY_ASSIGN(std::string text, read_file(paths.control_port_file));
  int n = 0;
  std::size_t digits = 0;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == ' ') continue;
    if (c < '0' || c > '9' || ++digits > 5) {
      return make_error(ErrorCode::bad_request,
                        "malformed port file " + paths.control_port_file.string());
    }
    n = n * 10 + (c - '0');
  }
  if (digits == 0 || n < 1 || n > 65535) {
    return make_error(ErrorCode::bad_request,
                      "malformed port file " + paths.control_port_file.string());
  }
  return static_cast<std::uint16_t>(n);
}

// --- composition -----------------------------------------------------------------------

// Cancels what runs, drains the services (reverse order), stops the node's own queues.
// Idempotent; any thread but a queue's own.
void Node::Impl::stop_work() {
  stop_token.cancel();
  cancel_active(Bridges::keep);
  if (openai_api) openai_api->stop();
  if (services) services->stop_all();
  if (service_publisher) service_publisher->detach();
  if (admin_queue) admin_queue->stop();
  push_subscription.reset();
  if (sync_queue) sync_queue->stop();
  if (push_queue) push_queue->stop();
}

Node::Impl::~Impl() {
  stopping = true;
  upkeep_subscription.reset();
  if (detector) detector->shutdown();
  if (invoker) invoker->shutdown();
  if (registry && registry_subscription) registry->unsubscribe(registry_subscription);
  if (bus && bus_caps_subscription) bus->registry().unsubscribe(bus_caps_subscription);
  if (publisher) publisher->stop();
  for (auto& s : extra_static) s->stop();
  if (inbound_peers) inbound_peers->stop();
  if (discovery) discovery->stop();
  sync_timer.reset();
  snapshot_timer.reset();
  signals.reset();
  probe_client.reset();
  client.reset();
  ui_server.reset();
  server.reset();
  stop_work();
  // Run what the destroyed objects left queued (their stop handlers), then let go.
  io.restart();
  io.run_for(SHUTDOWN_DRAIN);
  services.reset();
  gate.reset();  // unsubscribes from the bus's registry
  bus.reset();
  if (port_file_written) {
    std::error_code ec;
    fs::remove(home.paths.control_port_file, ec);
  }
  if (lock_fd >= 0) ::close(lock_fd);
}

Status Node::Impl::open_observability() {
  observability::LogOptions lo;
  lo.dir = home.paths.logs_dir;
  lo.level = observability::parse_log_level(home.config.observability.log_level)
                 .value_or(observability::LogLevel::info);
  if (options.debug) lo.level = observability::LogLevel::debug;
  lo.max_file_bytes = static_cast<std::size_t>(home.config.observability.log_max_file_bytes);
  lo.max_files = static_cast<std::size_t>(home.config.observability.log_max_files);
  lo.retention_days = static_cast<int>(home.config.observability.log_retention_days);
  lo.console = options.debug;
  if (keys) lo.node_id = keys->node_id().str();
  if (options.init_logging) HN_TRY(observability::init_logging(lo));
  observability::configure_metrics({home.config.observability.metrics_enabled});
  (void)observability::standard_metrics();
  return {};
}

Status Node::Impl::open_identity() {
  auto loaded = identity::load_keys(home.paths.keys_dir);
  if (!loaded) {
    Error e = loaded.take_error();
    if (e.code == ErrorCode::keys_missing) {
      e.message = "no identity in " + home.paths.keys_dir.string() + "; run `hearthnet init` first";
    }
    node_log().error("cannot load keys", e);
    return e;
  }
  keys.emplace(std::move(*loaded));
  // Re-open logging with our node id on every line (X03 §3.1).
  return open_observability();
}

Status Node::Impl::lock_home() {
  HN_TRY(ensure_directory(home.paths.run_dir, fs::perms(0700)));
  const fs::path lock_path = home.paths.run_dir / NODE_LOCK_FILE;
  lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) return make_error(ErrorCode::io_error, "cannot open " + lock_path.string());
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd);
    lock_fd = -1;
    return make_error(ErrorCode::io_error,
                      "a HearthNet node is already running for " + home.paths.home.string());
  }
  return {};
}

Status Node::Impl::open_community() {
  if (!home.config_exists || !home.config.community.community_id) {
    return make_error(ErrorCode::not_found,
                      "this node belongs to no community yet; run `hearthnet init` first");
  }
  community = CommunityId(*home.config.community.community_id);
  return {};
}

Status Node::Impl::open_state() {
  // X02: the log, the community view, the replay engine (M12 §5 step 4).
  events::EventLogOptions lo;
  HN_TRY_ASSIGN(log, events::EventLog::open(home.paths.events_db, community, *keys, lo));
  HN_TRY(open_views());  // from the newest usable snapshot (log_upkeep.cpp)
  log->set_author_policy(view.author_policy());

  // The community manifest: regenerated from the log when we may sign and it is ahead,
  // else the stored one (a joined node before its first sync).
  if (view.state().created) {
    const Json state = view.snapshot_state();
    auto m = identity::load_or_regenerate(home.paths.community_dir, &*keys, &state);
    if (m) community_manifest = std::move(*m);
  }
  if (!community_manifest) {
    auto m = identity::load_community_manifest(home.paths.community_dir);
    if (!m) {
      return make_error(ErrorCode::not_found,
                        "no community manifest in " + home.paths.community_dir.string() + " (" +
                            m.error().message + "); run `hearthnet init` first");
    }
    community_manifest = std::move(*m);
  }

  // M07 blob store (step 5).
  blobs::BlobStoreOptions bo;
  bo.gc_threshold = home.config.file.gc_threshold;
  bo.gc_target_fraction = home.config.file.gc_target;
  bo.capacity_bytes = static_cast<std::uint64_t>(home.config.file.max_store_bytes);
  HN_TRY_ASSIGN(blobs, blobs::BlobStore::open(home.paths.blobs_dir, bo));

  // X01 §4.2 pins (step 6).
  HN_TRY(ensure_directory(home.paths.state_dir, fs::perms(0700)));
  HN_TRY_ASSIGN(pins,
                transport::PinnedCerts::open(home.paths.state_dir / PINNED_CERTS_FILE, clock));
  verification_cache = std::make_unique<identity::VerificationCache>(clock);
  registry = std::make_unique<discovery::PeerRegistry>(clock, keys->node_id(), community);
  open_push();         // issue #13 §1 (event_push.cpp)
  return open_sync();  // X02 §3.6 (sync_scheduler.cpp)
}

Status Node::Impl::open_bus() {
  bus::BusConfig bc;
  bc.prefer_local = home.config.bus.prefer_local;
  bc.local_load_threshold = home.config.bus.local_load_threshold;
  // The bus's recent-call ring is the node's X03 trace ring (/trace/recent reads it):
  // one record per call, turned into a Trace only when asked for.
  bc.trace_recent_capacity = static_cast<std::size_t>(TRACE_RING_BUFFER);
  bus = std::make_unique<bus::CapabilityBus>(keys->node_id(), bc, clock);
  bus->trace().set_sink([this](const bus::CallTraceEvent& e) { record_trace(e); });
  // The node's own classes of work, below the network thread's priority like every queue.
  admin_queue = std::make_unique<WorkQueue>(WorkQueueOptions{"admin", 2, 64, 5});
  sync_queue = std::make_unique<WorkQueue>(WorkQueueOptions{"sync", 2, 64, 5});
  // Keep the community manifest in step with community.* events (sync, onboarding).
  community_subscription = log->subscribe(
      [this](const events::Event&) {
        const bool queued = admin_queue->try_post([this] {
          refresh_community_manifest();
          drop_revoked_peers();
        });
        if (!queued && !stopping.load()) {
          // The admin queue is full: do it here rather than lose the change.
          refresh_community_manifest();
          drop_revoked_peers();
        }
      },
      events::CommunityView::event_types());
  return {};
}

Status Node::Impl::open_services() {
  service_publisher = std::make_unique<detail::NodePublisher>();
  services = std::make_unique<service::ServiceHost>(*bus);
  service_config = config::with_resolved_paths(home.config, home.paths);
  service::ServiceContext ctx{*keys,
                              keys->node_id(),
                              community,
                              *log,
                              *replay,
                              *blobs,
                              *bus,
                              *service_publisher,
                              service_config,
                              [this] {
                                std::lock_guard lock(community_mutex);
                                return community_manifest;
                              },
                              clock,
                              {}};
  ctx.membership = [this](const NodeId& n) { return membership(n, community); };
  HN_TRY(services->start_all(service_list(), ctx, home.paths.state_dir / "services"));
  HN_TRY(open_community_service());  // the node's own: community.* (community.cpp)
  open_openai_api();
  return {};
}

// The OpenAI-compatible API (node/openai_api.h). A problem with it is logged and leaves the
// node running without it: it is a door for other tools, not part of the mesh.
void Node::Impl::open_openai_api() {
  const auto& c = home.config.openai_api;
  if (!c.enabled) return;
  OpenAiApiOptions o;
  o.host = c.host;
  o.port = static_cast<std::uint16_t>(c.port);
  o.port_file = home.paths.control_port_file.parent_path() / "openai.port";
  if (c.token_env) {
    const char* token = std::getenv(c.token_env->c_str());
    if (token == nullptr || *token == '\0') {
      node_log().error("openai_api not started", Json{{"reason", "the token variable " + *c.token_env + " is not set"}});
      return;
    }
    o.bearer_token = token;
  }
  auto api = std::make_unique<OpenAiApi>(*bus, o);
  if (auto s = api->start(); !s) {
    node_log().error("openai_api not started", s.error());
    return;
  }
  openai_api = std::move(api);
}

Status Node::Impl::open_transport() {
  HN_TRY_ASSIGN(cert, load_or_create_cert(home, *keys));
  transport::ServerOptions so;
  so.host = home.config.transport.host;
  so.port = static_cast<std::uint16_t>(home.config.transport.port);
  so.cert_pem = cert.cert_pem;
  so.key_pem = cert.key_pem;
  so.community = community;
  transport::ServerHooks hooks;
  hooks.membership = [this](const NodeId& n, const CommunityId& c) -> Result<TrustLevel> {
    auto t = membership(n, c);
    // M13 §4.2: an invitee pulls the log and pushes its join before it is a member — it
    // passes as `unknown`, which only the sync routes accept (the bus wants `member`).
    if (!t && t.error().code == ErrorCode::unauthorized && c == community &&
        is_pending_invitee(n)) {
      return TrustLevel::unknown;
    }
    return t;
  };
  hooks.manifest = [this] {
    // The publisher's latest (republished every 20 s), else a fresh one.
    if (publisher) {
      if (auto m = publisher->current()) return m->to_json();
    }
    return manifest().to_json();
  };
  hooks.community_manifest = [this] {
    std::lock_guard lock(community_mutex);
    return community_manifest ? community_manifest->to_json() : Json::object();
  };
  hooks.ready = [this] { return readiness(); };
  hooks.health = [this] {
    Json states = Json::object();
    if (services) {
      const Json all = services->health();
      for (const auto& [name, h] : all.items()) states[name] = h["state"];
    }
    return Json{{"services", states}};
  };
  hooks.metrics = [this] { return metrics_text(); };
  hooks.on_request = [this](const transport::RequestRecord& rec) { record_request(rec); };
  hooks.trace_recent = [this](const std::map<std::string, std::string>& q) {
    return trace_recent(q);
  };
  server =
      std::make_unique<transport::Server>(io.get_executor(), *keys, so, std::move(hooks), clock);
  if (service_publisher) service_publisher->attach(server.get());
  add_call_routes();  // /bus/v1/call, /node/v1/call (call_routes.cpp)
  add_node_routes();  // admin and sync routes (node_routes.cpp)

  transport::ClientOptions co;
  co.community = community;
  client = std::make_unique<transport::Client>(io.get_executor(), *keys, *pins, co, clock);
  HN_TRY_ASSIGN(probe_pins, transport::PinnedCerts::open(":memory:", clock));
  transport::ClientOptions po = co;
  po.default_timeout = std::chrono::seconds(10);
  probe_client =
      std::make_unique<transport::Client>(io.get_executor(), *keys, *probe_pins, po, clock);
  invoker = std::make_shared<detail::TransportInvoker>(io.get_executor(), *client, clock);
  bus->set_remote_invoker(invoker);
  hardware = detect_hardware(home.paths.home);
  return {};
}

// --- lifecycle -------------------------------------------------------------------------

Status Node::Impl::start() {
  if (started.load()) return make_error(ErrorCode::bad_request, "node already started");
  // Signals first: once the port file exists, a SIGTERM must find the handler in place.
  if (options.handle_signals) {
    signals = std::make_unique<asio::signal_set>(io, SIGINT, SIGTERM);
    signals->async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      node_log().info("signal received", Json{{"signal", sig}});
      begin_shutdown();
    });
  }
  HN_TRY_ASSIGN(std::uint16_t bound, server->start());
  port = bound;
  client->set_listen_port(bound);  // a peer we call can call us back (inbound_peers.h)
  advertised = advertised_host(home.config.transport.host);
  HN_TRY(ensure_directory(home.paths.run_dir, fs::perms(0700)));
  HN_TRY(atomic_write_file(home.paths.control_port_file, std::to_string(bound) + "\n",
                           fs::perms(0644)));
  port_file_written = true;

  add_bootstrap_peers();
  HN_TRY(start_discovery());
  if (!options.no_ui) start_ui();
  start_sync_timer();
  start_emergency();
  arm_daily_snapshot();
  if (auto head = log->head(); head && upkeep->snapshot_due(head->lamport)) schedule_upkeep(false);
  started = true;
  node_log().info("node started", Json{{"host", home.config.transport.host},
                                       {"port", bound},
                                       {"advertised", advertised},
                                       {"community", community.str()},
                                       {"static_peers", static_peers.size()}});
  return {};
}

void Node::Impl::begin_shutdown() {
  if (stopping.exchange(true)) return;
  node_log().info("shutting down");
  if (signals) {
    boost::system::error_code ec;
    signals->cancel(ec);
  }
  if (sync_timer) sync_timer->cancel();
  if (snapshot_timer) snapshot_timer->cancel();
  if (detector) detector->shutdown();
  if (registry && registry_subscription) {
    registry->unsubscribe(registry_subscription);
    registry_subscription = 0;
  }
  if (bus && bus_caps_subscription) {
    bus->registry().unsubscribe(bus_caps_subscription);
    bus_caps_subscription = 0;
  }
  if (publisher) publisher->stop();
  for (auto& s : extra_static) s->stop();
  if (inbound_peers) inbound_peers->stop();
  if (discovery) discovery->stop();
  cancel_active(Bridges::abandon);
  stop_ui();
  if (server) server->stop();  // stop accepting, cancel streams, close connections
  if (invoker) invoker->shutdown();
  if (client) client->close();
  if (probe_client) probe_client->close();
  io.stop();
}

// --- Node ------------------------------------------------------------------------------

Node::Node(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

Node::~Node() {
  m_impl.reset();
  observability::flush_logging();
}

Result<std::unique_ptr<Node>> Node::open(NodeHome home, NodeOptions options) {
  // X04: an empty display name is the host name, chosen at start-up (a joined node's
  // config may have none: `invite redeem` does not run init).
  if (home.config.node.display_name.empty()) home.config.node.display_name = default_display_name();
  auto impl = std::make_unique<Impl>(std::move(home), options);
  HN_TRY(impl->open_observability());  // 1. X03
  HN_TRY(impl->open_identity());       // 2. M01 — refuses without keys
  HN_TRY(impl->open_community());      // 3. community check (M13 redirect: run init)
  HN_TRY(impl->lock_home());
  if (auto s = impl->open_state(); !s) {  // 4–6. X02, M07, X01 pins
    node_log().error("cannot open node state", s.error());
    return s.take_error();
  }
  HN_TRY(impl->open_bus());        // 7. M03
  HN_TRY(impl->open_emergency());  // M12 §5 step 9: the StateBus (the detector starts with the node)
  HN_TRY(impl->open_services());   // 8–9. the services of service_list.cpp, each on its queue
  HN_TRY(impl->open_transport());  // 10. X01 server + client + RemoteInvoker
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

Status Node::start() {
  auto s = m_impl->start();
  if (!s) node_log().error("cannot start", s.error());
  return s;
}

Status Node::run() {
  if (!m_impl->started.load()) HN_TRY(start());
  m_impl->io.run();  // until begin_shutdown() stops it
  // Shutdown (M12 §3.2): calls are cancelled, services drain and stop in reverse order,
  // queued completions run against closed connections, logs are flushed, the port file goes.
  m_impl->stopping = true;
  m_impl->stop_work();
  m_impl->io.restart();
  m_impl->io.run_for(SHUTDOWN_DRAIN);
  if (m_impl->port_file_written) {
    std::error_code ec;
    fs::remove(m_impl->home.paths.control_port_file, ec);
    m_impl->port_file_written = false;
  }
  node_log().info("node stopped cleanly");
  observability::flush_logging();
  return {};
}

void Node::set_emergency_mode(bool offline) { m_impl->set_emergency_mode(offline); }

void Node::stop() {
  Impl* impl = m_impl.get();
  asio::post(impl->io, [impl] { impl->begin_shutdown(); });
}

std::uint16_t Node::port() const { return m_impl->port.load(); }
const identity::KeyPair& Node::keys() const { return *m_impl->keys; }
const NodeHome& Node::home() const { return m_impl->home; }
bus::CapabilityBus& Node::bus() { return *m_impl->bus; }
asio::io_context& Node::io_context() { return m_impl->io; }

Status Node::on_peer_manifest(const identity::NodeManifest& manifest,
                              const identity::Endpoint& endpoint) {
  return m_impl->on_peer_manifest(manifest, endpoint);
}
void Node::on_peer_removed(const NodeId& node) { m_impl->on_peer_removed(node); }

void Node::add_static_peer(std::string host, std::uint16_t port) {
  m_impl->add_static_peer(discovery::PeerEndpoint{std::move(host), port});
}

Json Node::status() const { return m_impl->status(); }
Json Node::capabilities(const CapsFilter& filter) const { return m_impl->capabilities(filter); }
identity::NodeManifest Node::manifest() const { return m_impl->manifest(); }
std::optional<identity::CommunityManifest> Node::community_manifest() const {
  std::lock_guard lock(m_impl->community_mutex);
  return m_impl->community_manifest;
}
Result<TrustLevel> Node::membership(const NodeId& node, const CommunityId& community) const {
  return m_impl->membership(node, community);
}

}  // namespace hn::node
