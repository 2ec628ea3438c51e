// status.cpp — what the node reports about itself: the `hearthnet status` report (M12 §3.3),
// the caps list (M12 §3.4), its signed node manifest (CONTRACT §6.1), the recent traces and
// metrics it serves (X03), the per-call and per-request metrics and the debug log line.
#include <filesystem>
#include <utility>

#include "core/encoding.h"
#include "core/time.h"
#include "node/detail/node_impl.h"
#include "node/detail/parse.h"
#include "node/platform.h"
#include "observability/logging.h"
#include "observability/metrics.h"
#include "observability/standard_metrics.h"
#include "observability/tracing.h"

namespace hn::node {
namespace fs = std::filesystem;
using detail::node_log;

namespace {

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
  if (pattern.find_first_of("*?") != std::string::npos)
    return glob_match(pattern.c_str(), name.c_str());
  return name.find(pattern) != std::string::npos;
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

// Every finished request (transport's on_request hook): the refusals the request checks
// count — rate limits (a 429 is "soft", a dropped connection "hard") and signatures.
void Node::Impl::record_request(const transport::RequestRecord& rec) {
  const auto& m = observability::standard_metrics();
  if (rec.dropped) {
    m.rate_limited_total->inc({rec.capability, "hard"});
  } else if (rec.error_code == "rate_limited") {
    m.rate_limited_total->inc({rec.capability, "soft"});
  } else if (rec.error_code == "invalid_signature") {
    m.signature_failures_total->inc({rec.reason.empty() ? "other" : rec.reason});
  }
}

// GET /trace/recent?n=&capability=: newest first, like the X03 ring; a call's Trace is
// built here, not per call. bad_request when n is not an integer.
Result<Json> Node::Impl::trace_recent(const std::map<std::string, std::string>& q) const {
  std::size_t n = 100;
  if (auto it = q.find("n"); it != q.end()) {
    HN_TRY_ASSIGN(
        n, detail::parse_trace_count(it->second, static_cast<std::size_t>(TRACE_RING_BUFFER)));
  }
  std::optional<std::string_view> cap;
  if (auto it = q.find("capability"); it != q.end() && !it->second.empty()) cap = it->second;
  const auto events = bus->trace().newest(
      n, [&cap](const bus::CallTraceEvent& e) { return !cap || e.capability == *cap; });
  Json traces = Json::array();
  for (const auto& e : events) {
    const std::int64_t ended = parse_rfc3339_ms(e.ts).value_or(clock.now_ms());
    traces.push_back(observability::trace_to_json(to_trace(e, ended)));
  }
  return Json{{"traces", traces}};
}

// GET /metrics: the gauges read at scrape time, then the registry in Prometheus text.
std::string Node::Impl::metrics_text() const {
  const auto& m = observability::standard_metrics();
  if (auto head = log->head())
    m.event_log_lamport_head->set(static_cast<double>(head->lamport), {community.str()});
  if (auto n = log->count()) m.event_log_size->set(static_cast<double>(*n), {community.str()});
  {
    std::lock_guard lock(peers_mutex);
    m.nodes_online->set(static_cast<double>(registry->size() + 1), {community.str()});
  }
  const auto mode = state_bus->mode();  // M09: one series per mode, 1 for the current one
  for (auto each : {emergency::Mode::online, emergency::Mode::degraded, emergency::Mode::offline}) {
    m.emergency_mode->set(mode == each ? 1 : 0, {std::string(emergency::to_string(each))});
  }
  if (auto b = blobs->total_bytes()) m.blob_storage_bytes->set(static_cast<double>(*b));
  // The bus's health window per provider (M03 §3.3), and its quarantine count (the
  // counter catches up with the tracker's total).
  const auto snap = bus->topology_snapshot();
  for (const auto* entries : {&snap.capabilities_local, &snap.capabilities_remote}) {
    for (const auto& e : *entries)
      m.capability_health_success_rate->set(e.success_rate, {e.descriptor.name, e.node_id.str()});
  }
  const double quarantines = static_cast<double>(bus->health().quarantines_total());
  m.quarantines_total->inc({}, quarantines - m.quarantines_total->value());
  return observability::default_registry().render_prometheus();
}

identity::NodeManifest Node::Impl::manifest() const {
  identity::NodeManifestInput in;
  in.community_id = community;
  in.display_name = home.config.node.display_name;
  in.profile = home.config.node.profile;
  in.endpoints.push_back(identity::Endpoint{"https", advertised.empty() ? "127.0.0.1" : advertised,
                                            static_cast<int>(port.load())});
  in.hardware = hardware;
  for (const auto& e : bus->registry().all_local())
    in.capabilities.push_back(e.descriptor.to_spec());
  in.uptime_seconds = (clock.now_ms() - started_ms) / 1000;
  // CONTRACT §6.1. No GPU backend reports VRAM yet (the LLM service will): 0.
  in.load = Json{{"cpu", cpu_load()},
                 {"vram_used_gb", 0},
                 {"in_flight_total", bus->topology_snapshot().in_flight_total}};
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

// The node's own queues (admin, sync, push): {"<name>": {threads, capacity, queued, running,
// completed, rejected}}.
Json Node::Impl::node_queues() const {
  Json out = Json::object();
  for (const WorkQueue* q : {admin_queue.get(), sync_queue.get(), push_queue.get()}) {
    if (q == nullptr) continue;
    const auto st = q->stats();
    out[st.name] = Json{{"threads", st.threads}, {"capacity", st.capacity}, {"queued", st.queued},
                        {"running", st.running}, {"completed", st.completed}, {"rejected", st.rejected}};
  }
  return out;
}

// X01 §3.2: ready = started, at least one capability registered and, for a node that has
// peers configured (static or bootstrap) or discovered, at least one of them reachable —
// a member whose manifest we fetched and verified (the peer table). A founder alone on
// its LAN with no peers configured is ready with its own capabilities.
Json Node::Impl::readiness() const {
  const bool running = started.load() && !stopping.load();
  const std::size_t capabilities = bus ? bus->registry().all_local().size() : 0;
  const bool expected = peers_configured.load() || (registry && registry->size() > 0);
  std::size_t reachable = 0;
  {
    std::lock_guard lock(peers_mutex);
    reachable = peers.size();
  }
  Json j{{"node_id", keys->node_id().str()},
         {"capabilities", capabilities},
         {"peers_expected", expected},
         {"peers_reachable", reachable}};
  std::string reason;
  if (!running) reason = "not started";
  else if (capabilities == 0) reason = "no capability registered";
  else if (expected && reachable == 0) reason = "no configured or discovered peer is reachable";
  j["ready"] = reason.empty();
  if (!reason.empty()) j["reason"] = reason;
  return j;
}

Json Node::Impl::status() const {
  auto snap = bus->topology_snapshot();
  Json local = Json::array();
  for (const auto& e : snap.capabilities_local)
    local.push_back(e.descriptor.name + "@" + e.descriptor.version_str());
  std::optional<identity::CommunityManifest> cm;
  {
    std::lock_guard lock(community_mutex);
    cm = community_manifest;
  }
  const auto state = view.state();
  Json community_j{
      {"community_id", community.str()},
      {"name", state.created ? state.name : (cm ? cm->name : std::string())},
      {"member_count", state.created ? state.members.size() : (cm ? cm->members.size() : 0)},
      {"revoked_count", state.created ? state.revoked.size() : (cm ? cm->revoked.size() : 0)}};
  // Each member's level: who may co-sign (doc/design/governance.md).
  Json levels = Json::object();
  for (const auto& [id, m] : state.members) levels[id] = std::string(to_string(m.level));
  community_j["levels"] = std::move(levels);
  // M02 §3.1: the peers discovery knows, with the trust the bus gave them.
  Json peer_list = Json::array();
  for (const auto& rec : registry->all()) {
    std::string trust = "unknown";
    {
      std::lock_guard lock(peers_mutex);
      if (auto it = peers.find(rec.node_id_full); it != peers.end())
        trust = std::string(to_string(it->second.trust));
    }
    const identity::Endpoint ep =
        rec.endpoints.empty() ? identity::Endpoint{} : rec.endpoints.front();
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
  event_log["upkeep"] = upkeep_status();  // snapshots and retention (log_upkeep.cpp)
  std::int64_t blob_bytes = 0;
  if (auto b = blobs->total_bytes()) blob_bytes = static_cast<std::int64_t>(*b);
  const std::int64_t event_bytes =
      file_size_or_zero(home.paths.events_db) +
      file_size_or_zero(fs::path(home.paths.events_db.string() + "-wal"));
  const std::int64_t now = clock.now_ms();
  const std::int64_t synced_ms = last_sync_ok_ms.load();
  const Json last_sync_ok = synced_ms > 0 ? Json(format_rfc3339_ms(synced_ms)) : Json(nullptr);
  return Json{{"node",
               {{"node_id", keys->node_id().str()},
                {"short_id", keys->short_id()},
                {"display_name", home.config.node.display_name},
                {"profile", std::string(to_string(home.config.node.profile))},
                {"version", HN_VERSION},
                {"log_level", std::string(observability::to_string(observability::current_log_level()))}}},
              {"community", community_j},
              // M09: the mode (M12 §3.3 state + since) and the detector's view.
              {"online_state", emergency_status()},
              {"sync",
               {{"interval_seconds", current_sync_interval().count() / 1000},
                {"push", push_status()},
                {"last_ok_at", last_sync_ok}}},
              {"peers", {{"count", peer_list.size()}, {"list", peer_list}}},
              {"capabilities",
               {{"local", local},
                {"local_count", snap.capabilities_local.size()},
                {"remote_count", snap.capabilities_remote.size()}}},
              {"in_flight", snap.in_flight_total},
              {"services", services ? services->health() : Json::object()},
              {"queues", node_queues()},
              {"event_log", event_log},
              {"disk", {{"blobs_bytes", blob_bytes}, {"events_bytes", event_bytes}}},
              {"uptime_seconds", (now - started_ms) / 1000},
              {"started_at", format_rfc3339_ms(started_ms)},
              {"endpoint",
               {{"host", home.config.transport.host},
                {"advertised_host", advertised},
                {"port", port.load()}}},
              {"home", home.paths.home.string()}};
}

}  // namespace hn::node
