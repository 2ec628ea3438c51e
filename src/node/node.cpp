// node.cpp — the orchestrator: composition (M12 §5), routes, peers, shutdown.
#include "node/node.h"

#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <future>
#include <latch>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "blobs/store.h"
#include "bus/diag_echo.h"
#include "core/constants.h"
#include "core/encoding.h"
#include "core/file_util.h"
#include "core/time.h"
#include "core/ulid.h"
#include "discovery/discovery_service.h"
#include "discovery/manifest_publisher.h"
#include "events/community_view.h"
#include "events/event_log.h"
#include "events/replay.h"
#include "events/sync.h"
#include "identity/tls_cert.h"
#include "node/detail/stream_bridge.h"
#include "node/detail/sync_peer.h"
#include "node/detail/transport_invoker.h"
#include "node/init.h"
#include "onboarding/id_card.h"
#include "onboarding/issue.h"
#include "observability/logging.h"
#include "observability/metrics.h"
#include "observability/standard_metrics.h"
#include "observability/tracing.h"
#include "transport/client.h"
#include "transport/pinned_certs.h"
#include "transport/server.h"

namespace hn::node {
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr const char* PINNED_CERTS_FILE = "pinned_certs.sqlite";
constexpr const char* TLS_CERT_FILE = "tls_cert.pem";  // in keys_dir, next to the key it certifies
constexpr const char* TLS_KEY_FILE = "tls_key.pem";
constexpr auto STREAM_POLL = std::chrono::milliseconds(500);
constexpr auto SHUTDOWN_DRAIN = std::chrono::milliseconds(500);

observability::Logger& node_log() {
  static observability::Logger logger = observability::get_logger("node");
  return logger;
}

bool is_wildcard(const std::string& host) { return host == "0.0.0.0" || host == "::" || host.empty(); }

// The address peers should use when we listen on every interface: the first non-loopback
// IPv4 address that is up, else loopback.
std::string advertised_host(const std::string& listen_host) {
  if (!is_wildcard(listen_host)) return listen_host;
  std::string found = "127.0.0.1";
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return found;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    auto* in = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
    asio::ip::address_v4 v4(ntohl(in->sin_addr.s_addr));
    if (v4.is_loopback()) continue;
    found = v4.to_string();
    break;
  }
  ::freeifaddrs(list);
  return found;
}

identity::HardwareSpec detect_hardware(const fs::path& data_dir) {
  identity::HardwareSpec hw;
  struct sysinfo si {};
  if (::sysinfo(&si) == 0) {
    hw.ram_gb = static_cast<double>(static_cast<std::int64_t>(
                    static_cast<double>(si.totalram) * si.mem_unit / (1024.0 * 1024 * 1024) * 10)) / 10;
  }
  hw.cpu_cores = static_cast<std::int64_t>(std::thread::hardware_concurrency());
  struct statvfs vfs {};
  if (::statvfs(data_dir.c_str(), &vfs) == 0) {
    hw.disk_free_gb = static_cast<double>(static_cast<std::int64_t>(
                          static_cast<double>(vfs.f_bavail) * vfs.f_frsize / (1024.0 * 1024 * 1024) * 10)) / 10;
  }
  return hw;
}

// Glob match with * and ?.
bool glob_match(const char* p, const char* s) {
  if (*p == '\0') return *s == '\0';
  if (*p == '*') return glob_match(p + 1, s) || (*s != '\0' && glob_match(p, s + 1));
  if (*s == '\0') return false;
  return (*p == '?' || *p == *s) && glob_match(p + 1, s + 1);
}

std::int64_t file_size_or_zero(const fs::path& p) {
  std::error_code ec;
  auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<std::int64_t>(n);
}

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

// Worker threads run at a lower CPU priority (nice +WORKER_NICE) than the network thread:
// on a busy machine, reading and answering requests is not queued behind long CPU work.
// Each pool thread runs one setup task; the latch holds them until all have taken one.
constexpr int WORKER_NICE = 5;
void lower_worker_priority(asio::thread_pool& pool, std::size_t threads) {
  auto started = std::make_shared<std::latch>(static_cast<std::ptrdiff_t>(threads));
  for (std::size_t i = 0; i < threads; ++i) {
    asio::post(pool, [started] {
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), WORKER_NICE);
      started->arrive_and_wait();
    });
  }
  started->wait();
}

observability::Trace to_trace(const bus::CallTraceEvent& e, std::int64_t now_ms) {
  observability::Trace t;
  t.trace_id = e.trace_id.str();
  t.capability = e.capability;
  const auto ms = static_cast<std::int64_t>(e.ms);
  t.started_at_ms = now_ms - ms;
  t.ended_at_ms = now_ms;
  t.result = e.result;
  observability::Span span;
  span.name = e.to_node.empty() ? "bus.rejected" : (e.is_local ? "bus.local" : "bus.remote");
  span.started_at_ms = t.started_at_ms;
  span.ended_at_ms = now_ms;
  span.extras = Json{{"version", e.version},
                     {"from_node", e.from_node.str()},
                     {"to_node", e.to_node.str()},
                     {"bytes_in", e.bytes_in},
                     {"bytes_out", e.bytes_out}};
  t.spans.push_back(std::move(span));
  return t;
}

}  // namespace

bool matches_capability_pattern(const std::string& name, const std::string& pattern) {
  if (pattern.empty()) return true;
  if (pattern.find_first_of("*?") != std::string::npos) return glob_match(pattern.c_str(), name.c_str());
  return name.find(pattern) != std::string::npos;
}

Result<std::pair<std::string, std::uint16_t>> parse_peer_address(const std::string& text) {
  std::string s = text;
  for (const char* scheme : {"https://", "http://"}) {
    if (s.rfind(scheme, 0) == 0) s = s.substr(std::string(scheme).size());
  }
  if (auto slash = s.find('/'); slash != std::string::npos) s = s.substr(0, slash);
  std::string host, port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return make_error(ErrorCode::bad_request, "bad peer address '" + text + "'");
    }
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos || s.find(':') != colon) {
      return make_error(ErrorCode::bad_request, "peer address '" + text + "' needs host:port");
    }
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  int n = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || n > 65535) return make_error(ErrorCode::bad_request, "bad port in '" + text + "'");
    n = n * 10 + (c - '0');
  }
  if (host.empty() || port.empty() || n < 1 || n > 65535) {
    return make_error(ErrorCode::bad_request, "bad peer address '" + text + "'");
  }
  return std::pair<std::string, std::uint16_t>{host, static_cast<std::uint16_t>(n)};
}

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
      return make_error(ErrorCode::bad_request, "malformed port file " + paths.control_port_file.string());
    }
    n = n * 10 + (c - '0');
  }
  if (digits == 0 || n < 1 || n > 65535) {
    return make_error(ErrorCode::bad_request, "malformed port file " + paths.control_port_file.string());
  }
  return static_cast<std::uint16_t>(n);
}

// ---------------------------------------------------------------------------------------

struct Node::Impl {
  struct Peer {
    NodeId node_id;
    std::string display_name;
    identity::Endpoint endpoint;
    TrustLevel trust = TrustLevel::member;
    std::size_t capabilities = 0;
    std::int64_t last_seen_ms = 0;
  };
  struct Active {
    bus::CancelToken cancel;
    std::weak_ptr<detail::StreamBridge> bridge;
  };

  Impl(NodeHome h, NodeOptions o) : home(std::move(h)), options(o) {}
  ~Impl();

  // --- composition (M12 §5) ---
  Status open_observability();
  Status open_identity();
  Status open_community();
  Status open_state();
  Status open_bus();
  Status open_transport();
  Status lock_home();

  // --- runtime (network thread) ---
  Status start();
  void begin_shutdown();
  Status start_discovery();
  void on_registry_event(const discovery::PeerEvent& event);
  asio::awaitable<void> async_fetch_manifest(discovery::PeerEndpoint ep,
                                             discovery::ManifestFetcher::Callback cb);
  // --- event sync (X02 §3.6) ---
  asio::awaitable<transport::Response> async_sync(transport::Request r,
                                                  std::function<Result<Json>(const Json&)> fn);
  static asio::awaitable<std::optional<Result<Json>>> async_result_job(
      std::function<Result<Json>(const Json&)> fn, Json body);
  asio::awaitable<void> async_sync_request(transport::Endpoint ep, std::string method,
                                           std::string path, Json body,
                                           std::shared_ptr<std::promise<Result<Json>>> done);
  Result<Json> sync_request(const transport::Endpoint& ep, const std::string& method,
                            std::string_view path, Json body);
  void schedule_sync();
  void run_sync_rounds();
  void arm_sync_timer();
  asio::awaitable<transport::Response> async_bus_call(transport::Request r,
                                                      std::shared_ptr<transport::SseWriter> w);
  asio::awaitable<transport::Response> async_local_json(transport::Request r,
                                                        std::function<Json()> fn);
  static asio::awaitable<Json> async_json_job(std::function<Json()> fn);
  Result<Json> run_call(const bus::RouteRequest& rr, const bus::CancelToken& cancel);
  Result<bus::RouteRequest> parse_node_call(const transport::Request& r);
  static bus::RouteRequest route_request_of(transport::Request& r);
  transport::Response run_routed(bus::RouteRequest rr);
  static transport::Response not_self(const transport::Request& r);
  static bus::CallOptions self_options(const bus::RouteRequest& rr, const bus::CancelToken& cancel);
  asio::awaitable<transport::Response> async_stream_route(bus::RouteRequest rr,
                                                          std::shared_ptr<transport::SseWriter> w);
  Result<Json> debug_emit(const Json& request);
  Result<Json> revoke_member(const Json& request);
  Result<Json> create_invite(const Json& request);
  bool is_pending_invitee(const NodeId& node) const;
  // DESIGN.md "revoked wins": a peer revoked by a (synced) event leaves the peer table.
  void drop_revoked_peers();
  void add_self_route(const char* path, std::function<Result<Json>(const Json&)> fn);
  Result<Json> run_stream(const bus::RouteRequest& rr, const bus::FrameSink& sink,
                          const bus::CancelToken& cancel);
  std::uint64_t add_active(bus::CancelToken cancel, std::shared_ptr<detail::StreamBridge> bridge);
  void remove_active(std::uint64_t id);

  // --- views ---
  Json status() const;
  Json capabilities(const CapsFilter& filter) const;
  identity::NodeManifest manifest() const;
  Result<TrustLevel> membership(const NodeId& node, const CommunityId& community) const;
  Status on_peer_manifest(const identity::NodeManifest& m, const identity::Endpoint& ep);
  void on_peer_removed(const NodeId& node);
  void refresh_community_manifest();
  void record_trace(const bus::CallTraceEvent& e);

  NodeHome home;
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
  events::Subscription community_subscription;
  mutable std::mutex community_mutex;
  std::optional<identity::CommunityManifest> community_manifest;
  std::unique_ptr<blobs::BlobStore> blobs;
  std::unique_ptr<transport::PinnedCerts> pins;
  identity::KeyPinStore key_pins;
  std::unique_ptr<identity::VerificationCache> verification_cache;
  std::unique_ptr<bus::CapabilityBus> bus;
  std::unique_ptr<bus::DiagEchoService> echo;
  identity::HardwareSpec hardware;
  identity::TlsCertificate cert;
  std::string advertised;

  mutable std::mutex peers_mutex;
  std::map<NodeId, Peer> peers;
  std::vector<discovery::PeerEndpoint> static_peers;
  // M02: the live peer table (discovery's, fed by UDP, mDNS and static peers).
  std::unique_ptr<discovery::PeerRegistry> registry;
  std::unique_ptr<discovery::FunctionManifestFetcher> fetcher;
  discovery::PeerRegistry::SubscriptionId registry_subscription = 0;
  // X02 §3.6 event sync.
  std::unique_ptr<events::SyncServer> sync_server;
  std::unique_ptr<events::SyncClient> sync_client;
  std::atomic<bool> sync_busy{false};
  std::atomic<bool> sync_again{false};
  std::chrono::milliseconds sync_interval{std::chrono::seconds(SYNC_INTERVAL_SECONDS)};
  std::atomic<bool> offline{false};            // M09 emergency mode
  std::atomic<std::int64_t> mode_since_ms{0};  // when the mode last changed
  std::chrono::milliseconds current_sync_interval() const {
    return offline.load() ? std::min(sync_interval, std::chrono::milliseconds(std::chrono::seconds(
                                                        SYNC_INTERVAL_OFFLINE_SECONDS)))
                          : sync_interval;
  }
  void set_emergency_mode(bool to_offline);

  std::mutex active_mutex;
  std::map<std::uint64_t, Active> active;
  std::uint64_t next_active = 1;

  // Asio objects last: destroyed first (the io_context last of them).
  asio::io_context io{1};
  std::unique_ptr<asio::thread_pool> workers;
  std::size_t worker_count = 0;  // threads in `workers` (status)
  std::unique_ptr<transport::Server> server;
  std::unique_ptr<transport::Client> client;
  std::unique_ptr<transport::PinnedCerts> probe_pins;  // in memory, by address
  std::unique_ptr<transport::Client> probe_client;     // fetches /manifest of static peers
  std::shared_ptr<detail::TransportInvoker> invoker;
  std::unique_ptr<asio::signal_set> signals;
  std::unique_ptr<discovery::DiscoveryService> discovery;
  std::shared_ptr<discovery::ManifestPublisher> publisher;
  std::vector<std::shared_ptr<discovery::StaticPeers>> extra_static;
  std::unique_ptr<asio::steady_timer> sync_timer;
  std::atomic<bool> stopping{false};
  std::atomic<bool> started{false};
  std::atomic<std::uint16_t> port{0};
};

Node::Impl::~Impl() {
  stopping = true;
  if (invoker) invoker->shutdown();
  if (registry && registry_subscription) registry->unsubscribe(registry_subscription);
  if (publisher) publisher->stop();
  for (auto& s : extra_static) s->stop();
  if (discovery) discovery->stop();
  sync_timer.reset();
  signals.reset();
  probe_client.reset();
  client.reset();
  server.reset();
  if (workers) {
    for (auto& [id, a] : active) a.cancel.cancel();
    workers->join();
  }
  // Run what the destroyed objects left queued (their stop handlers), then let go.
  io.restart();
  io.run_for(SHUTDOWN_DRAIN);
  workers.reset();
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
  replay = std::make_unique<events::ReplayEngine>(*log);
  HN_TRY(replay->register_view(view, events::CommunityView::event_types()));
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
                        "no community manifest in " + home.paths.community_dir.string() +
                            " (" + m.error().message + "); run `hearthnet init` first");
    }
    community_manifest = std::move(*m);
  }

  // M07 blob store (step 5).
  blobs::BlobStoreOptions bo;
  bo.gc_threshold = home.config.file.gc_threshold;
  bo.gc_target_fraction = home.config.file.gc_target;
  HN_TRY_ASSIGN(blobs, blobs::BlobStore::open(home.paths.blobs_dir, bo));

  // X01 §4.2 pins (step 6).
  HN_TRY(ensure_directory(home.paths.state_dir, fs::perms(0700)));
  HN_TRY_ASSIGN(pins, transport::PinnedCerts::open(home.paths.state_dir / PINNED_CERTS_FILE, clock));
  verification_cache = std::make_unique<identity::VerificationCache>(clock);
  registry = std::make_unique<discovery::PeerRegistry>(clock, keys->node_id(), community);
  sync_server = std::make_unique<events::SyncServer>(*log);
  sync_client = std::make_unique<events::SyncClient>(*log);
  return {};
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
  echo = std::make_unique<bus::DiagEchoService>(keys->node_id());
  const char* fail_hook = std::getenv("HEARTHNET_DIAG_FAIL");
  if (fail_hook != nullptr && std::string(fail_hook) == "1") {
    // Test hook (tests/functional): this node's diag.echo fails every call, so health
    // quarantine and re-routing can be observed across real processes.
    node_log().warning("HEARTHNET_DIAG_FAIL=1: diag.echo fails every call");
    for (auto cap : echo->capabilities()) {
      cap.handler = [](const bus::CallContext&, const Json&) -> Result<Json> {
        return make_error(ErrorCode::internal_error, "diag.echo fails (HEARTHNET_DIAG_FAIL)");
      };
      if (cap.stream_handler) {
        cap.stream_handler = [](const bus::CallContext&, const Json&, const bus::FrameSink&) -> Result<Json> {
          return make_error(ErrorCode::internal_error, "diag.echo fails (HEARTHNET_DIAG_FAIL)");
        };
      }
      HN_TRY(bus->register_capability(cap));
    }
  } else {
    HN_TRY(bus->register_service(*echo));
  }
  HN_TRY(echo->start());
  const std::size_t pool_size =
      options.worker_threads > 0 ? static_cast<std::size_t>(options.worker_threads)
                                 : std::max<std::size_t>(2, std::thread::hardware_concurrency());
  workers = std::make_unique<asio::thread_pool>(pool_size);
  worker_count = pool_size;
  lower_worker_priority(*workers, pool_size);
  // Keep the community manifest in step with community.* events (sync, onboarding).
  community_subscription = log->subscribe(
      [this](const events::Event&) {
        if (workers) {
          asio::post(*workers, [this] {
            refresh_community_manifest();
            drop_revoked_peers();
          });
        }
      },
      events::CommunityView::event_types());
  return {};
}

void Node::Impl::record_trace(const bus::CallTraceEvent& e) {
  const auto& m = observability::standard_metrics();
  m.requests_total->inc({e.capability, e.result});
  m.request_duration_ms->observe(e.ms, {e.capability});
  if (node_log().should_log(observability::LogLevel::debug)) {
    node_log().debug("call", Json{{"trace_id", e.trace_id.str()},
                             {"capability", e.capability},
                             {"result", e.result},
                             {"ms", e.ms},
                             {"to_node", e.to_node.str()}});
  }
}

void Node::Impl::refresh_community_manifest() {
  if (!view.state().created) return;
  const Json state = view.snapshot_state();
  auto m = identity::load_or_regenerate(home.paths.community_dir, &*keys, &state);
  if (!m) {
    node_log().warning("community manifest not refreshed", Json{{"error", m.error().to_string()}});
    return;
  }
  std::lock_guard lock(community_mutex);
  community_manifest = std::move(*m);
}

Result<TrustLevel> Node::Impl::membership(const NodeId& node, const CommunityId& c) const {
  if (c != community) return make_error(ErrorCode::unauthorized, "not our community");
  // (Asked on every signed request: read the manifest in place, no copy.)
  bool manifest_revoked = false;
  std::optional<TrustLevel> manifest_level;
  {
    std::lock_guard lock(community_mutex);
    if (community_manifest) {
      manifest_revoked = community_manifest->is_revoked(node);
      manifest_level = community_manifest->level_of(node);
    }
  }
  // DESIGN.md: revoked wins over any other state.
  if (manifest_revoked || view.is_revoked(node)) {
    return make_error(ErrorCode::revoked, "node " + node.str() + " was revoked");
  }
  if (auto level = view.level_of(node)) return *level;
  if (manifest_level) return *manifest_level;
  return make_error(ErrorCode::unauthorized, "node " + node.str() + " is not a member");
}

Status Node::Impl::open_transport() {
  HN_TRY_ASSIGN(cert, load_or_create_cert(home, *keys));
  transport::ServerOptions so;
  so.host = home.config.transport.host;
  so.port = static_cast<std::uint16_t>(home.config.transport.port);
  so.cert_pem = cert.cert_pem;
  so.key_pem = cert.key_pem;
  so.community = community;
  so.work_executor = workers->get_executor();  // signature checks share the worker pool
  transport::ServerHooks hooks;
  hooks.membership = [this](const NodeId& n, const CommunityId& c) -> Result<TrustLevel> {
    auto t = membership(n, c);
    // M13 §4.2: an invitee pulls the log and pushes its join before it is a member — it
    // passes as `unknown`, which only the sync routes accept (the bus wants `member`).
    if (!t && t.error().code == ErrorCode::unauthorized && c == community && is_pending_invitee(n)) {
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
  hooks.ready = [this] {
    return Json{{"ready", started.load() && !stopping.load()}, {"node_id", keys->node_id().str()}};
  };
  hooks.metrics = [this] {
    const auto& m = observability::standard_metrics();
    if (auto head = log->head()) m.event_log_lamport_head->set(static_cast<double>(head->lamport), {community.str()});
    if (auto n = log->count()) m.event_log_size->set(static_cast<double>(*n), {community.str()});
    {
      std::lock_guard lock(peers_mutex);
      m.nodes_online->set(static_cast<double>(registry->size() + 1), {community.str()});
    }
    return observability::default_registry().render_prometheus();
  };
  hooks.trace_recent = [this](const std::map<std::string, std::string>& q) {
    std::size_t n = 100;
    if (auto it = q.find("n"); it != q.end()) {
      try {
        n = static_cast<std::size_t>(std::clamp(std::stol(it->second), 1L, static_cast<long>(TRACE_RING_BUFFER)));
      } catch (...) {
      }
    }
    std::optional<std::string_view> cap;
    if (auto it = q.find("capability"); it != q.end() && !it->second.empty()) cap = it->second;
    // Newest first, like the X03 ring; a call's Trace is built here, not per call.
    const auto events = bus->trace().newest(n, [&cap](const bus::CallTraceEvent& e) {
      return !cap || e.capability == *cap;
    });
    Json traces = Json::array();
    for (const auto& e : events) {
      const std::int64_t ended = parse_rfc3339_ms(e.ts).value_or(clock.now_ms());
      traces.push_back(observability::trace_to_json(to_trace(e, ended)));
    }
    return Json{{"traces", traces}};
  };
  server = std::make_unique<transport::Server>(io.get_executor(), *keys, so, std::move(hooks), clock);
  // Plain calls run on a worker (on the network thread when quick); streams bridge back.
  server->add_worker_route(
      "POST", std::string(transport::BUS_CALL_PATH),
      [this](transport::Request r) { return run_routed(route_request_of(r)); },
      [this](transport::Request r, std::shared_ptr<transport::SseWriter> w) {
        return async_bus_call(std::move(r), std::move(w));
      },
      // A peer's call stays on this node (handle_call); the node's own may go to a peer.
      [this](const transport::Request& r) {
        return bus->registry().is_quick(r.capability, r.version, r.body,
                                        r.trust != TrustLevel::self);
      });
  server->add_route("GET", NODE_STATUS_PATH,
                    [this](transport::Request r, std::shared_ptr<transport::SseWriter>) {
                      return async_local_json(std::move(r), [this] { return status(); });
                    });
  server->add_route("GET", NODE_CAPS_PATH,
                    [this](transport::Request r, std::shared_ptr<transport::SseWriter>) {
                      CapsFilter f;
                      f.local_only = r.query.count("local_only") && r.query["local_only"] == "true";
                      f.remote_only = r.query.count("remote_only") && r.query["remote_only"] == "true";
                      if (r.query.count("name")) f.name_pattern = r.query["name"];
                      return async_local_json(std::move(r), [this, f] { return capabilities(f); });
                    });

  // CLI `call --node`: the same split as /bus/v1/call, narrowed to one provider.
  server->add_worker_route(
      "POST", NODE_CALL_PATH,
      [this](transport::Request r) -> transport::Response {
        if (r.trust != TrustLevel::self) return not_self(r);
        auto rr = parse_node_call(r);
        if (!rr) return transport::Response::error(rr.error());
        return run_routed(std::move(*rr));
      },
      [this](transport::Request r, std::shared_ptr<transport::SseWriter> w)
          -> asio::awaitable<transport::Response> {
        if (r.trust != TrustLevel::self) co_return not_self(r);
        auto rr = parse_node_call(r);
        if (!rr) co_return transport::Response::error(rr.error());
        auto op = async_stream_route(std::move(*rr), std::move(w));
        co_return co_await std::move(op);
      });
  add_self_route(NODE_DEBUG_EMIT_PATH, [this](const Json& b) { return debug_emit(b); });
  add_self_route(NODE_MEMBER_REVOKE_PATH, [this](const Json& b) { return revoke_member(b); });
  add_self_route(NODE_INVITE_PATH, [this](const Json& b) { return create_invite(b); });
  // X02 §6 sync endpoints (members only; the work runs on the worker pool).
  using SyncFn = std::function<Result<Json>(const Json&)>;
  auto sync_route = [this](const char* method, std::string_view path, SyncFn fn) {
    server->add_route(method, std::string(path),
                      [this, fn](transport::Request r, std::shared_ptr<transport::SseWriter>) {
                        return async_sync(std::move(r), fn);
                      });
  };
  sync_route("GET", events::SYNC_PATH_HEADS, [this](const Json&) { return sync_server->handle_heads(); });
  sync_route("POST", events::SYNC_PATH_RECONCILE, [this](const Json& b) { return sync_server->handle_reconcile(b); });
  sync_route("POST", events::SYNC_PATH_FETCH, [this](const Json& b) { return sync_server->handle_fetch(b); });
  // Pushed community.* events refresh the manifest through the log subscription.
  sync_route("POST", events::SYNC_PATH_EVENTS, [this](const Json& b) { return sync_server->handle_events(b); });

  transport::ClientOptions co;
  co.community = community;
  client = std::make_unique<transport::Client>(io.get_executor(), *keys, *pins, co, clock);
  HN_TRY_ASSIGN(probe_pins, transport::PinnedCerts::open(":memory:", clock));
  transport::ClientOptions po = co;
  po.default_timeout = std::chrono::seconds(10);
  probe_client = std::make_unique<transport::Client>(io.get_executor(), *keys, *probe_pins, po, clock);
  invoker = std::make_shared<detail::TransportInvoker>(io.get_executor(), *client, clock);
  bus->set_remote_invoker(invoker);
  hardware = detect_hardware(home.paths.home);
  return {};
}

// --- inbound calls ---------------------------------------------------------------------

std::uint64_t Node::Impl::add_active(bus::CancelToken cancel,
                                     std::shared_ptr<detail::StreamBridge> bridge) {
  std::lock_guard lock(active_mutex);
  const std::uint64_t id = next_active++;
  active[id] = Active{std::move(cancel), bridge};
  if (stopping.load()) {
    active[id].cancel.cancel();
    if (bridge) bridge->abandon();
  }
  return id;
}

void Node::Impl::remove_active(std::uint64_t id) {
  std::lock_guard lock(active_mutex);
  active.erase(id);
}

// The bus options of a call the node itself makes (CLI, UI), with its `--node` target.
bus::CallOptions Node::Impl::self_options(const bus::RouteRequest& rr, const bus::CancelToken& cancel) {
  bus::CallOptions o;
  o.caller_trust = TrustLevel::self;
  o.trace_id = rr.trace_id;
  o.cancel = cancel;
  o.local_only = rr.local_only;
  o.remote_only = rr.remote_only;
  o.target_node = rr.target_node;
  o.flow = rr.flow;
  return o;
}

Result<Json> Node::Impl::run_call(const bus::RouteRequest& rr, const bus::CancelToken& cancel) {
  if (rr.caller_trust == TrustLevel::self) {
    // The node itself (CLI, UI): the full bus, peers included (M03 §5.8).
    return bus->call(rr.capability, rr.version_req, rr.body, self_options(rr, cancel));
  }
  return bus->handle_call(rr, cancel);
}

Result<Json> Node::Impl::run_stream(const bus::RouteRequest& rr, const bus::FrameSink& sink,
                                    const bus::CancelToken& cancel) {
  if (rr.caller_trust == TrustLevel::self) {
    return bus->stream(rr.capability, rr.version_req, rr.body, sink, self_options(rr, cancel));
  }
  return bus->handle_stream(rr, sink, cancel);
}

// POST NODE_CALL_PATH {capability, node, body} (CLI `call --node`): the call as the node
// itself, narrowed to one provider: "self" (this node), "remote" (any other node) or a
// node id. Plain or streamed, like /bus/v1/call.
Result<bus::RouteRequest> Node::Impl::parse_node_call(const transport::Request& r) {
  const Json& request = r.body;
  if (!request.is_object()) return make_error(ErrorCode::bad_request, "body must be an object");
  HN_TRY_ASSIGN(std::string ref, get_string(request, "capability"));
  HN_TRY_ASSIGN(std::string target, get_string(request, "node"));
  Json body = request.contains("body") ? request["body"] : Json::object();
  if (!body.is_object()) return make_error(ErrorCode::bad_request, "body must be an object");
  HN_TRY_ASSIGN(auto parsed, bus::parse_capability_ref(ref));
  bus::RouteRequest rr;
  rr.capability = parsed.first;
  rr.version_req = parsed.second;
  rr.body = std::move(body);
  rr.caller = r.caller;
  rr.caller_trust = r.trust;
  rr.trace_id = TraceId(r.request_id);
  if (target == "self" || target == keys->node_id().str()) {
    rr.local_only = true;
  } else if (target == "remote") {
    rr.remote_only = true;
  } else {
    rr.target_node = NodeId(target);
  }
  return rr;
}

void Node::Impl::add_self_route(const char* path, std::function<Result<Json>(const Json&)> fn) {
  server->add_route("POST", path,
                    [this, path, fn](transport::Request r, std::shared_ptr<transport::SseWriter>)
                        -> asio::awaitable<transport::Response> {
                      if (r.trust != TrustLevel::self) {
                        return async_sync(std::move(r), [path](const Json&) -> Result<Json> {
                          return make_error(ErrorCode::unauthorized, std::string(path) + " answers only this node itself");
                        });
                      }
                      return async_sync(std::move(r), fn);
                    });
}

void Node::Impl::drop_revoked_peers() {
  if (!registry) return;
  for (const auto& rec : registry->all()) {
    if (view.is_revoked(rec.node_id_full)) {
      node_log().info("revoked peer dropped", Json{{"peer", rec.node_id_full.str()}});
      registry->remove(rec.node_id_full);
    }
  }
}

bool Node::Impl::is_pending_invitee(const NodeId& node) const {
  if (view.is_revoked(node)) return false;
  const auto state = view.state();
  return state.invites.count(node.str()) > 0;
}

Result<Json> Node::Impl::create_invite(const Json& request) {
  HN_TRY_ASSIGN(std::string who, get_string(request, "invitee"));
  HN_TRY_ASSIGN(auto card, onboarding::parse_invitee(who));
  onboarding::InviteRequest ir;
  ir.invitee_node_id = card.node_id;
  ir.display_name = card.display_name;
  if (request.contains("level")) {
    HN_TRY_ASSIGN(std::string level, get_string(request, "level"));
    auto parsed = parse_trust_level(level);
    if (!parsed) return make_error(ErrorCode::bad_request, "unknown level '" + level + "'");
    ir.initial_level = *parsed;
  }
  if (request.contains("ttl_seconds")) {
    HN_TRY_ASSIGN(ir.ttl_seconds, get_int(request, "ttl_seconds"));
  }
  // Our own endpoint is the invitee's way in (M13 §3.1 bootstrap_endpoints).
  ir.bootstrap_endpoints.push_back(identity::Endpoint{"https", advertised, static_cast<int>(port.load())});
  std::optional<identity::CommunityManifest> cm;
  {
    std::lock_guard lock(community_mutex);
    cm = community_manifest;
  }
  if (!cm) return make_error(ErrorCode::not_found, "no community manifest");
  HN_TRY_ASSIGN(auto issued, onboarding::issue_invite(*keys, *cm, *log, ir, clock));
  return Json{{"invite", issued.text},
              {"invite_id", issued.invite.invite_id.str()},
              {"invitee", issued.invite.invitee_node_id.str()},
              {"expires_at", issued.invite.expires_at},
              {"reused", issued.reused}};
}

Result<Json> Node::Impl::revoke_member(const Json& request) {
  HN_TRY_ASSIGN(std::string target, get_string(request, "node_id"));
  std::string reason = request.value("reason", std::string());
  HN_TRY(identity::parse_node_id(target));
  const NodeId node(target);
  if (node == keys->node_id()) return make_error(ErrorCode::bad_request, "a node cannot revoke itself");
  if (view.is_revoked(node)) return Json{{"revoked", target}, {"already", true}};
  if (!view.is_member(node) && !view.state().invites.count(target)) {
    return make_error(ErrorCode::not_found, "node " + target + " is not a member");
  }
  // CONTRACT §7.2: the author must be trusted or anchor (the view ignores it otherwise).
  auto level = view.level_of(keys->node_id());
  if (!level || (*level != TrustLevel::trusted && *level != TrustLevel::anchor)) {
    return make_error(ErrorCode::unauthorized, "only a trusted or anchor member may revoke");
  }
  HN_TRY_ASSIGN(auto event, log->append_local(events::EventType::community_member_revoked,
                                              Json{{"target_node_id", target}, {"reason", reason}}));
  refresh_community_manifest();
  if (registry) registry->remove(node);
  on_peer_removed(node);
  schedule_sync();  // spread the revocation now
  return Json{{"revoked", target}, {"event_id", event.event_id.str()}};
}

Result<Json> Node::Impl::debug_emit(const Json& request) {
  HN_TRY_ASSIGN(std::int64_t count, get_int(request, "count"));
  if (count < 1 || count > 100000) return make_error(ErrorCode::bad_request, "count must be 1..100000");
  // node.manifest.updated is the one type of the 19 no view interprets beyond storing it.
  for (std::int64_t i = 0; i < count; ++i) {
    HN_TRY(log->append_local(events::EventType::node_manifest_updated,
                             Json{{"debug", true}, {"seq", i}, {"node_id", keys->node_id().str()}}));
  }
  Json out{{"appended", count}};
  if (auto n = log->count()) out["events"] = *n;
  return out;
}

asio::awaitable<Json> Node::Impl::async_json_job(std::function<Json()> fn) { co_return fn(); }

asio::awaitable<transport::Response> Node::Impl::async_local_json(transport::Request r,
                                                                  std::function<Json()> fn) {
  if (r.trust != TrustLevel::self) co_return not_self(r);
  auto op = asio::co_spawn(workers->get_executor(), async_json_job(std::move(fn)), asio::use_awaitable);
  Json body = co_await std::move(op);
  co_return transport::Response::json(std::move(body));
}

// The bus request of a verified POST /bus/v1/call (its body moves into it).
bus::RouteRequest Node::Impl::route_request_of(transport::Request& r) {
  bus::RouteRequest rr;
  rr.capability = r.capability;
  rr.version_req = r.version;
  rr.body = std::move(r.body);
  rr.caller = r.caller;
  rr.caller_trust = r.trust;
  rr.trace_id = TraceId(r.request_id);
  return rr;
}

transport::Response Node::Impl::not_self(const transport::Request& r) {
  return transport::Response::error(
      make_error(ErrorCode::unauthorized, r.path + " answers only this node itself"));
}

// On a worker (transport::WorkerHandler): one plain routed call; the server signs the
// response in the same hop.
transport::Response Node::Impl::run_routed(bus::RouteRequest rr) {
  bus::CancelToken cancel;
  const std::uint64_t id = add_active(cancel, nullptr);
  Result<Json> result = run_call(rr, cancel);
  remove_active(id);
  return result ? transport::Response::json(std::move(*result)) : transport::Response::error(result.error());
}

// The stream half of POST /bus/v1/call (plain calls take the worker route: run_routed).
asio::awaitable<transport::Response> Node::Impl::async_bus_call(
    transport::Request r, std::shared_ptr<transport::SseWriter> w) {
  auto op = async_stream_route(route_request_of(r), std::move(w));
  co_return co_await std::move(op);
}

// A streamed routed call: the bus runs on a worker pool thread and its frames cross back
// over a bridge to the SSE writer.
asio::awaitable<transport::Response> Node::Impl::async_stream_route(
    bus::RouteRequest rr, std::shared_ptr<transport::SseWriter> w) {
  bus::CancelToken cancel;
  // A stream (CONTRACT §5.3): the bus runs on a worker, frames cross over the bridge.
  auto bridge = std::make_shared<detail::StreamBridge>(io.get_executor());
  rr.flow = bridge;  // a relayed stream reads its peer only as fast as our client reads us
  const std::uint64_t id = add_active(cancel, bridge);
  asio::post(*workers, [this, rr = std::move(rr), cancel, bridge]() {
    auto executor = io.get_executor();
    bus::FrameSink sink = [bridge, executor](bus::StreamFrame f) {
      return bridge->push(std::move(f), executor.running_in_this_thread());
    };
    bridge->finish(run_stream(rr, sink, cancel));
  });
  bool consumer_gone = false;
  std::optional<Result<Json>> result;
  for (;;) {
    auto batch = bridge->take();
    if (!batch.frames.empty() && !consumer_gone) {
      std::vector<transport::OutFrame> out;
      out.reserve(batch.frames.size());
      for (auto& f : batch.frames) out.push_back({std::move(f.event), std::move(f.data)});
      auto emit = w->async_emit_all(std::move(out));
      Status st = co_await std::move(emit);
      if (!st) consumer_gone = true;
    }
    if (!consumer_gone && w->cancelled()) consumer_gone = true;
    if (consumer_gone) {
      cancel.cancel();
      bridge->abandon();
    }
    if (batch.result) {
      result = std::move(batch.result);
      break;
    }
    auto wait = bridge->async_wait(STREAM_POLL);
    co_await std::move(wait);
  }
  remove_active(id);
  if (consumer_gone) {
    co_return transport::Response::error(make_error(ErrorCode::partition, "stream cancelled by the caller"));
  }
  if (*result) {
    Json data = std::move(**result);
    auto done = w->async_emit_done(std::move(data));
    co_await std::move(done);
    co_return transport::Response::json(Json::object());
  }
  Error err = result->error();
  if (!w->started()) co_return transport::Response::error(err);
  auto failed = w->async_emit_error(std::move(err));
  co_await std::move(failed);
  co_return transport::Response::json(Json::object());
}

// --- peers -----------------------------------------------------------------------------

Status Node::Impl::on_peer_manifest(const identity::NodeManifest& m, const identity::Endpoint& ep) {
  if (m.node_id == keys->node_id()) return {};
  HN_TRY(identity::verify_node_manifest(m, clock, &key_pins, verification_cache.get()));
  if (m.community_id != community) {
    return make_error(ErrorCode::unauthorized, "peer " + m.node_id.str() + " is in another community");
  }
  auto trust = membership(m.node_id, m.community_id);
  if (!trust) {
    if (trust.error().code == ErrorCode::revoked) on_peer_removed(m.node_id);
    return trust.take_error();
  }
  HN_TRY_ASSIGN(auto diff, bus->on_peer_manifest(m.node_id, m.capabilities, ep, *trust));
  bool is_new = false;
  {
    std::lock_guard lock(peers_mutex);
    auto [it, inserted] = peers.try_emplace(m.node_id);
    is_new = inserted;
    it->second = Peer{m.node_id, m.display_name, ep, *trust, m.capabilities.size(), clock.now_ms()};
  }
  if (is_new || !diff.empty()) {
    node_log().info(is_new ? "peer added" : "peer updated",
               Json{{"peer", m.node_id.str()},
                    {"name", m.display_name},
                    {"host", ep.host},
                    {"port", ep.port},
                    {"capabilities", m.capabilities.size()}});
  }
  return {};
}

void Node::Impl::on_peer_removed(const NodeId& node) {
  bus->on_peer_removed(node);
  std::size_t erased = 0;
  {
    std::lock_guard lock(peers_mutex);
    erased = peers.erase(node);
  }
  if (erased) node_log().info("peer removed", Json{{"peer", node.str()}});
}

void Node::Impl::on_registry_event(const discovery::PeerEvent& event) {
  const auto& peer = event.peer;
  if (event.kind == discovery::PeerEventKind::removed) {
    on_peer_removed(peer.node_id_full);
    return;
  }
  if (!peer.manifest || peer.endpoints.empty()) return;
  Status st = on_peer_manifest(*peer.manifest, peer.endpoints.front());
  if (!st) {
    node_log().debug("peer not usable", Json{{"peer", peer.node_id_full.str()},
                                             {"error", st.error().to_string()}});
    return;
  }
  // X02 §3.6: a round with every peer when one appears.
  if (event.kind == discovery::PeerEventKind::added) schedule_sync();
}

asio::awaitable<void> Node::Impl::async_fetch_manifest(discovery::PeerEndpoint ep,
                                                       discovery::ManifestFetcher::Callback cb) {
  if (stopping.load() || !probe_client) {
    cb(make_error(ErrorCode::manifest_fetch_failed, "node is stopping"));
    co_return;
  }
  // Pinned by address for the probe; the main client pins by node id on the first call.
  transport::Endpoint tep{ep.host, ep.port, NodeId("address:" + ep.to_string())};
  auto op = probe_client->async_get_public(tep, "/manifest");
  auto r = co_await std::move(op);
  if (!r) {
    cb(r.take_error());
  } else if (r->status != 200) {
    cb(make_error(ErrorCode::manifest_fetch_failed, "GET /manifest answered " + std::to_string(r->status)));
  } else {
    cb(std::move(r->body));
  }
}

Status Node::Impl::start_discovery() {
  const auto& dc = home.config.discovery;
  registry->set_pruning_aggressive(dc.aggressive_pruning);
  registry_subscription = registry->subscribe([this](const discovery::PeerEvent& e) { on_registry_event(e); });
  fetcher = std::make_unique<discovery::FunctionManifestFetcher>(
      [this](const discovery::PeerEndpoint& ep, discovery::ManifestFetcher::Callback cb) {
        asio::post(io, [this, ep, cb = std::move(cb)]() mutable {
          asio::co_spawn(io, async_fetch_manifest(ep, std::move(cb)), asio::detached);
        });
      });
  discovery::DiscoveryOptions o;
  o.mdns_enabled = dc.mdns_enabled;
  o.udp_enabled = dc.udp_enabled;
  o.udp.group = dc.udp_multicast_group;
  o.udp.port = static_cast<std::uint16_t>(dc.udp_port);
  if (!is_wildcard(home.config.transport.host) && home.config.transport.host != "localhost") {
    // Bound to one address: send and join multicast there.
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(home.config.transport.host, ec);
    if (!ec && addr.is_v4()) o.udp.interface_address = home.config.transport.host;
  }
  o.static_peers = static_peers;
  o.display_name = home.config.node.display_name;
  o.profile = home.config.node.profile;
  o.https_port = port.load();
  o.manifest_url = discovery::PeerEndpoint{advertised, port.load()}.manifest_url();
  for (const auto& e : bus->registry().all_local()) o.caps.push_back(e.descriptor.name);
  discovery::MembershipCheck member = [this](const NodeId& n, const CommunityId& c) -> Status {
    auto t = membership(n, c);
    if (!t) return t.take_error();
    return {};
  };
  discovery = std::make_unique<discovery::DiscoveryService>(
      io, *keys, *registry, *fetcher, discovery::make_default_manifest_verifier(clock, &key_pins),
      std::move(member), std::move(o));
  if (auto st = discovery->start(); !st) {
    node_log().warning("discovery not running", Json{{"error", st.error().to_string()}});
  }
  // M01 §5.2: our manifest, republished every 20 s and on peer changes, feeds the beacons.
  publisher = discovery::ManifestPublisher::create(io, [this]() -> Result<identity::NodeManifest> { return manifest(); });
  publisher->add_sink([this](const identity::NodeManifest& m) {
    if (discovery) discovery->update_capabilities(discovery::capability_names(m));
  });
  publisher->watch_registry(*registry);
  publisher->start();
  return {};
}

// --- event sync ------------------------------------------------------------------------

asio::awaitable<std::optional<Result<Json>>> Node::Impl::async_result_job(
    std::function<Result<Json>(const Json&)> fn, Json body) {
  // Third-party exceptions stop here (STYLE: never across our API).
  std::optional<Result<Json>> out;
  try {
    out.emplace(fn(body));
  } catch (const std::exception& e) {
    out.emplace(make_error(ErrorCode::internal_error, std::string("request failed: ") + e.what()));
  }
  co_return out;
}

asio::awaitable<transport::Response> Node::Impl::async_sync(transport::Request r,
                                                            std::function<Result<Json>(const Json&)> fn) {
  // Members, and invitees while they join; the transport refused revoked callers.
  if (r.trust == TrustLevel::unknown && !is_pending_invitee(r.caller)) {
    co_return transport::Response::error(make_error(ErrorCode::unauthorized, "sync is for members"));
  }
  auto op = asio::co_spawn(workers->get_executor(), async_result_job(std::move(fn), std::move(r.body)),
                           asio::use_awaitable);
  std::optional<Result<Json>> result = co_await std::move(op);
  if (!result || !*result) {
    Error e = result ? result->error() : make_error(ErrorCode::internal_error, "sync request lost");
    co_return transport::Response::error(e);
  }
  co_return transport::Response::json(std::move(**result));
}

asio::awaitable<void> Node::Impl::async_sync_request(transport::Endpoint ep, std::string method,
                                                     std::string path, Json body,
                                                     std::shared_ptr<std::promise<Result<Json>>> done) {
  if (stopping.load() || !client) {
    done->set_value(make_error(ErrorCode::partition, "node is stopping"));
    co_return;
  }
  transport::CallOptions co;
  co.timeout = std::chrono::seconds(30);
  auto op = client->async_request(ep, method, path, std::move(body), co);
  auto r = co_await std::move(op);
  if (!r) {
    done->set_value(r.take_error());
  } else if (r->status / 100 != 2) {
    done->set_value(transport::parse_error_response(r->status, r->body));
  } else {
    done->set_value(std::move(r->body));
  }
}

Result<Json> Node::Impl::sync_request(const transport::Endpoint& ep, const std::string& method,
                                      std::string_view path, Json body) {
  auto done = std::make_shared<std::promise<Result<Json>>>();
  auto future = done->get_future();
  asio::post(io, [this, ep, method, p = std::string(path), body = std::move(body), done]() mutable {
    asio::co_spawn(io, async_sync_request(ep, method, std::move(p), std::move(body), done), asio::detached);
  });
  while (future.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    if (stopping.load()) return make_error(ErrorCode::partition, "node is stopping");
  }
  return future.get();
}


void Node::Impl::schedule_sync() {
  if (stopping.load() || !workers) return;
  if (sync_busy.exchange(true)) {
    sync_again = true;
    return;
  }
  asio::post(*workers, [this] {
    do {
      sync_again = false;
      run_sync_rounds();
    } while (sync_again.load() && !stopping.load());
    sync_busy = false;
  });
}

void Node::Impl::run_sync_rounds() {
  std::vector<std::pair<NodeId, identity::Endpoint>> targets;
  {
    std::lock_guard lock(peers_mutex);
    for (const auto& [id, p] : peers) targets.emplace_back(id, p.endpoint);
  }
  bool community_changed = false;
  for (const auto& [id, ep] : targets) {
    if (stopping.load()) return;
    transport::Endpoint tep{ep.host, static_cast<std::uint16_t>(ep.port), id};
    detail::TransportSyncPeer peer(
        [this, tep](const std::string& m, std::string_view path, Json body) {
          return sync_request(tep, m, path, std::move(body));
        },
        id.str());
    auto r = sync_client->run_round(peer);
    if (!r) {
      node_log().info("sync round failed", Json{{"peer", id.str()}, {"error", r.error().to_string()}});
      continue;
    }
    if (r->received_count > 0 || r->sent_count > 0 || r->rejected_count > 0) {
      node_log().info("sync round", Json{{"peer", id.str()},
                                         {"received", r->received_count},
                                         {"sent", r->sent_count},
                                         {"rejected", r->rejected_count},
                                         {"peer_accepted", r->peer_accepted_count},
                                         {"ms", r->duration_ms}});
    }
    if (r->received_count > 0) community_changed = true;
  }
  // New community.* events: the manifest (and with it membership) follows the log.
  if (community_changed) refresh_community_manifest();
}

void Node::Impl::arm_sync_timer() {
  if (!sync_timer || stopping.load()) return;
  sync_timer->expires_after(current_sync_interval());
  sync_timer->async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping.load()) return;
    schedule_sync();
    arm_sync_timer();
  });
}

void Node::Impl::set_emergency_mode(bool to_offline) {
  asio::post(io, [this, to_offline] {
    if (offline.load() == to_offline || stopping.load()) return;
    offline = to_offline;
    mode_since_ms = clock.now_ms();
    node_log().info("emergency mode", Json{{"state", to_offline ? "offline" : "online"},
                                           {"sync_interval_s", current_sync_interval().count() / 1000}});
    if (discovery) discovery->set_emergency_mode(to_offline);
    arm_sync_timer();  // re-armed with the new period (the pending wait is cancelled)
    if (to_offline) schedule_sync();
  });
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
  advertised = advertised_host(home.config.transport.host);
  HN_TRY(ensure_directory(home.paths.run_dir, fs::perms(0700)));
  HN_TRY(atomic_write_file(home.paths.control_port_file, std::to_string(bound) + "\n", fs::perms(0644)));
  port_file_written = true;

  for (const auto& entry : home.config.discovery.bootstrap_peers) {
    auto parsed = parse_peer_address(entry);
    if (!parsed) {
      node_log().warning("bootstrap peer ignored", Json{{"entry", entry}, {"error", parsed.error().message}});
      continue;
    }
    static_peers.push_back({parsed->first, parsed->second});
  }
  HN_TRY(start_discovery());
  if (const char* v = std::getenv("HEARTHNET_SYNC_INTERVAL_SECONDS"); v != nullptr && std::atoi(v) > 0) {
    sync_interval = std::chrono::seconds(std::atoi(v));  // test hook (doc: tests/functional)
  }
  sync_timer = std::make_unique<asio::steady_timer>(io);
  arm_sync_timer();
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
  if (registry && registry_subscription) {
    registry->unsubscribe(registry_subscription);
    registry_subscription = 0;
  }
  if (publisher) publisher->stop();
  for (auto& s : extra_static) s->stop();
  if (discovery) discovery->stop();
  {
    std::lock_guard lock(active_mutex);
    for (auto& [id, a] : active) {
      a.cancel.cancel();
      if (auto b = a.bridge.lock()) b->abandon();
    }
  }
  if (server) server->stop();  // stop accepting, cancel streams, close connections
  if (invoker) invoker->shutdown();
  if (client) client->close();
  if (probe_client) probe_client->close();
  io.stop();
}

// --- views -----------------------------------------------------------------------------

identity::NodeManifest Node::Impl::manifest() const {
  identity::NodeManifestInput in;
  in.community_id = community;
  in.display_name = home.config.node.display_name;
  in.profile = home.config.node.profile;
  in.endpoints.push_back(identity::Endpoint{"https", advertised.empty() ? "127.0.0.1" : advertised,
                                            static_cast<int>(port.load())});
  in.hardware = hardware;
  for (const auto& e : bus->registry().all_local()) in.capabilities.push_back(e.descriptor.to_spec());
  in.uptime_seconds = (clock.now_ms() - started_ms) / 1000;
  in.load = Json{{"in_flight", bus->topology_snapshot().in_flight_total}};
  return identity::build_node_manifest(*keys, in, clock);
}

Json Node::Impl::capabilities(const CapsFilter& filter) const {
  auto snap = bus->topology_snapshot();
  Json out = Json::array();
  auto add = [&](const std::vector<bus::CapabilityEntry>& entries) {
    for (const auto& e : entries) {
      if (!matches_capability_pattern(e.descriptor.name, filter.name_pattern)) continue;
      out.push_back(e.to_json());
    }
  };
  if (!filter.remote_only) add(snap.capabilities_local);
  if (!filter.local_only) add(snap.capabilities_remote);
  return Json{{"capabilities", out}, {"our_node_id", keys->node_id().str()}};
}

Json Node::Impl::status() const {
  auto snap = bus->topology_snapshot();
  Json local = Json::array();
  for (const auto& e : snap.capabilities_local) local.push_back(e.descriptor.name + "@" + e.descriptor.version_str());
  std::optional<identity::CommunityManifest> cm;
  {
    std::lock_guard lock(community_mutex);
    cm = community_manifest;
  }
  const auto state = view.state();
  Json community_j{{"community_id", community.str()},
                   {"name", state.created ? state.name : (cm ? cm->name : std::string())},
                   {"member_count", state.created ? state.members.size() : (cm ? cm->members.size() : 0)},
                   {"revoked_count", state.created ? state.revoked.size() : (cm ? cm->revoked.size() : 0)}};
  // M02 §3.1: the peers discovery knows, with the trust the bus gave them.
  Json peer_list = Json::array();
  for (const auto& rec : registry->all()) {
    std::string trust = "unknown";
    {
      std::lock_guard lock(peers_mutex);
      if (auto it = peers.find(rec.node_id_full); it != peers.end()) trust = std::string(to_string(it->second.trust));
    }
    const identity::Endpoint ep = rec.endpoints.empty() ? identity::Endpoint{} : rec.endpoints.front();
    peer_list.push_back(Json{{"node_id", rec.node_id_full.str()},
                             {"short_id", rec.node_id},
                             {"display_name", rec.display_name},
                             {"host", ep.host},
                             {"port", ep.port},
                             {"source", std::string(discovery::to_string(rec.source))},
                             {"trust", trust},
                             {"capabilities", rec.manifest ? rec.manifest->capabilities.size() : 0},
                             {"last_seen", format_rfc3339_ms(rec.last_seen_ms)}});
  }
  Json event_log = Json::object();
  if (auto head = log->head()) {
    event_log["head_lamport"] = head->lamport;
    event_log["head_event_id"] = head->event_id.str();
  }
  if (auto n = log->count()) event_log["events"] = *n;
  // The XOR fingerprint of every event key: equal sets ⇔ equal fingerprints (events/sync.h).
  if (auto heads = sync_server->serve_heads()) {
    event_log["fingerprint"] = hex_encode(heads->fingerprint);
  }
  std::int64_t blob_bytes = 0;
  if (auto b = blobs->total_bytes()) blob_bytes = static_cast<std::int64_t>(*b);
  const std::int64_t event_bytes = file_size_or_zero(home.paths.events_db) +
                                   file_size_or_zero(fs::path(home.paths.events_db.string() + "-wal"));
  const std::int64_t now = clock.now_ms();
  return Json{{"node", {{"node_id", keys->node_id().str()},
                        {"short_id", keys->short_id()},
                        {"display_name", home.config.node.display_name},
                        {"profile", std::string(to_string(home.config.node.profile))},
                        {"version", HN_VERSION}}},
              {"community", community_j},
              // M09 drives the mode through set_emergency_mode (online until it says otherwise).
              {"online_state", {{"state", offline.load() ? "offline" : "online"},
                                {"since", format_rfc3339_ms(mode_since_ms.load() > 0 ? mode_since_ms.load()
                                                                                       : started_ms)}}},
              {"sync", {{"interval_seconds", current_sync_interval().count() / 1000}}},
              {"peers", {{"count", peer_list.size()}, {"list", peer_list}}},
              {"capabilities", {{"local", local},
                                {"local_count", snap.capabilities_local.size()},
                                {"remote_count", snap.capabilities_remote.size()}}},
              {"in_flight", snap.in_flight_total},
              {"workers", worker_count},
              {"event_log", event_log},
              {"disk", {{"blobs_bytes", blob_bytes}, {"events_bytes", event_bytes}}},
              {"uptime_seconds", (now - started_ms) / 1000},
              {"started_at", format_rfc3339_ms(started_ms)},
              {"endpoint", {{"host", home.config.transport.host},
                            {"advertised_host", advertised},
                            {"port", port.load()}}},
              {"home", home.paths.home.string()}};
}

// ---------------------------------------------------------------------------------------
// Node

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
  HN_TRY(impl->open_bus());        // 7. M03 + diag.echo
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
  // Shutdown (M12 §3.2): workers finish (their calls are cancelled), queued completions
  // run against closed connections, logs are flushed, the port file goes.
  m_impl->stopping = true;
  m_impl->workers->join();
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

Status Node::on_peer_manifest(const identity::NodeManifest& manifest, const identity::Endpoint& endpoint) {
  return m_impl->on_peer_manifest(manifest, endpoint);
}
void Node::on_peer_removed(const NodeId& node) { m_impl->on_peer_removed(node); }

void Node::add_static_peer(std::string host, std::uint16_t port) {
  discovery::PeerEndpoint p{std::move(host), port};
  if (!m_impl->started.load() || !m_impl->discovery) {
    m_impl->static_peers.push_back(p);
    return;
  }
  auto s = discovery::StaticPeers::create(m_impl->io, {p}, m_impl->discovery->intake()->sink());
  s->start();
  m_impl->extra_static.push_back(std::move(s));
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
