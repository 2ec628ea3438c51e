// bus.cpp — the capability bus: registration, peer manifests, topology and stats.
// The call pipeline itself (route, admit, dispatch, fail over, record) is bus_call.cpp.
#include "bus/bus.h"

#include <algorithm>

namespace hn::bus {

Json TopologySnapshot::to_json() const {
  Json local = Json::array(), remote = Json::array();
  for (const auto& e : capabilities_local) local.push_back(e.to_json());
  for (const auto& e : capabilities_remote) remote.push_back(e.to_json());
  return Json{{"our_node_id", our_node_id.str()},
              {"capabilities_local", local},
              {"capabilities_remote", remote},
              {"in_flight_total", in_flight_total}};
}

CapabilityBus::CapabilityBus(NodeId our_node_id, BusConfig config, const Clock& clock,
                             std::shared_ptr<RemoteInvoker> invoker)
    : m_our_node_id(our_node_id),
      m_clock(clock),
      m_ulids(clock),
      m_registry(our_node_id, clock),
      m_health(clock),
      m_router(m_registry, m_health, config, clock),
      m_trace(clock, config.trace_recent_capacity),
      m_invoker(std::move(invoker)) {}

void CapabilityBus::set_remote_invoker(std::shared_ptr<RemoteInvoker> invoker) {
  std::lock_guard lock(m_invoker_mutex);
  m_invoker = std::move(invoker);
}

std::shared_ptr<RemoteInvoker> CapabilityBus::invoker() const {
  std::lock_guard lock(m_invoker_mutex);
  return m_invoker;
}

Status CapabilityBus::register_service(Service& service) {
  auto caps = service.capabilities();
  const auto prefixes = service.namespace_prefixes();
  // Check everything first so a bad capability leaves nothing half-registered.
  for (const auto& cap : caps) {
    HN_TRY(validate_capability_name(cap.descriptor.name, prefixes));
    HN_TRY(m_schema.check_descriptor(cap.descriptor));
  }
  for (auto& cap : caps) HN_TRY(register_capability(std::move(cap), prefixes));
  return {};
}

Status CapabilityBus::register_capability(LocalCapability cap,
                                          const std::vector<std::string>& declared_prefixes) {
  const auto name = cap.descriptor.name;
  auto predicate = cap.params_compatible;
  HN_TRY(m_registry.register_local(std::move(cap), declared_prefixes));
  if (predicate) m_router.set_params_predicate(name, std::move(predicate));
  return {};
}

Result<Diff> CapabilityBus::on_peer_manifest(const NodeId& node,
                                             const std::vector<CapabilitySpec>& specs,
                                             const Endpoint& endpoint, TrustLevel trust) {
  HN_TRY_ASSIGN(auto diff, m_registry.update_from_manifest(node, specs, endpoint, trust));
  for (const auto& e : diff.removed) m_health.reset(e.key());
  for (const auto& e : diff.updated) {
    // A new contract or params: old health says nothing about the new provider.
    m_health.reset(e.key());
  }
  return diff;
}

Result<Diff> CapabilityBus::on_peer_manifest(const identity::NodeManifest& manifest,
                                             TrustLevel trust) {
  if (manifest.endpoints.empty()) {
    return make_error(ErrorCode::manifest_invalid, "node manifest lists no endpoint");
  }
  auto it = std::find_if(manifest.endpoints.begin(), manifest.endpoints.end(),
                         [](const Endpoint& e) { return e.transport == "https"; });
  const Endpoint& endpoint = it != manifest.endpoints.end() ? *it : manifest.endpoints.front();
  return on_peer_manifest(manifest.node_id, manifest.capabilities, endpoint, trust);
}

void CapabilityBus::on_peer_removed(const NodeId& node) {
  m_registry.remove_node(node);
  m_router.release_node(node);
  m_health.forget_node(node);
}

CapabilityEntry CapabilityBus::with_health(CapabilityEntry e) const {
  const auto h = m_health.stats(e.key());
  e.p50_latency_ms = h.p50_latency_ms;
  e.p99_latency_ms = h.p99_latency_ms;
  e.success_rate = h.success_rate;
  e.quarantined_until_ms = h.quarantined_until_ms;
  for (auto& s : m_router.sessions_of(e.key())) e.sticky_sessions.insert(std::move(s));
  return e;
}

TopologySnapshot CapabilityBus::topology_snapshot() const {
  TopologySnapshot snap;
  snap.our_node_id = m_our_node_id;
  for (auto& e : m_registry.all()) {
    snap.in_flight_total += e.in_flight;
    if (e.is_local) snap.capabilities_local.push_back(with_health(std::move(e)));
    else snap.capabilities_remote.push_back(with_health(std::move(e)));
  }
  return snap;
}

std::vector<CallTraceEvent> CapabilityBus::recent_traces(std::size_t n) const {
  return m_trace.recent(n);
}

Json CapabilityBus::stats() const {
  Json caps = Json::object();
  for (const auto& [name, c] : m_trace.counters()) {
    caps[name] = Json{{"started", c.started}, {"ok", c.ok}, {"failed", c.failed},
                      {"in_flight", c.in_flight}, {"total_ms", c.total_ms},
                      {"by_result", c.by_result}};
  }
  const auto all = m_registry.all();
  const auto local = std::count_if(all.begin(), all.end(), [](const CapabilityEntry& e) { return e.is_local; });
  return Json{{"capabilities", caps},
              {"quarantines_total", m_health.quarantines_total()},
              {"entries_local", local},
              {"entries_remote", static_cast<std::int64_t>(all.size()) - local}};
}

}  // namespace hn::bus
