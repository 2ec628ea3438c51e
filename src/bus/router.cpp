// router.cpp — candidate filtering, §5.4 scoring, prefer-local and sticky sessions.
#include "bus/router.h"

#include <algorithm>
#include <set>

namespace hn::bus {
namespace {

double load_of(const CapabilityEntry& e) {
  return static_cast<double>(e.in_flight) / static_cast<double>(std::max(e.descriptor.max_concurrent, 1));
}

// Whether the request may be served by a provider on `node` (its local/remote/target pins).
bool within_reach(const RouteRequest& req, const NodeId& node, bool is_local) {
  if (req.local_only && !is_local) return false;
  if (req.remote_only && is_local) return false;
  return !req.target_node || node == *req.target_node;
}

// CONTRACT §5.4: the error envelope's alt_nodes, when there are any.
Error with_alt_nodes(Error e, const std::set<NodeId>& nodes) {
  if (nodes.empty()) return e;
  Json list = Json::array();
  for (const auto& n : nodes) list.push_back(n.str());
  if (!e.detail.is_object()) e.detail = Json::object();
  e.detail["alt_nodes"] = std::move(list);
  return e;
}

}  // namespace

Router::Router(const Registry& registry, const HealthTracker& health, BusConfig config,
               const Clock& clock)
    : m_registry(registry), m_health(health), m_config(config), m_clock(clock) {}

double Router::score(const CapabilityEntry& e) {
  const double latency = e.p50_latency_ms > 0 ? e.p50_latency_ms : 500.0;
  const double load = load_of(e);
  const double reliability_penalty = (1.0 - e.success_rate) * 1000.0;
  const double locality_bonus = e.is_local ? -50.0 : 0.0;
  return latency * (1.0 + load) + reliability_penalty + locality_bonus;
}

Result<std::vector<CapabilityEntry>> Router::route(const RouteRequest& req,
                                                   std::optional<bool> prefer_local) const {
  auto found = m_registry.find(req.capability, req.version_req);
  if (found.empty()) return no_compatible_version(req);
  const auto now = m_clock.now_ms();
  static const Json no_params = Json::object();
  const Json* requested = &no_params;
  if (req.body.is_object()) {
    if (auto it = req.body.find("params"); it != req.body.end() && it->is_object()) requested = &*it;
  }
  const Json& requested_params = *requested;
  ParamsPredicate remote_predicate;
  {
    std::lock_guard lock(m_mutex);
    if (auto it = m_predicates.find(req.capability); it != m_predicates.end()) {
      remote_predicate = it->second;
    }
  }

  bool any_quarantined = false;
  bool any_full = false;
  bool any_stream_only = false;
  std::set<NodeId> out_of_reach;  // providers the request's pins exclude: alt_nodes
  std::vector<CapabilityEntry> viable;
  for (auto& e : found) {
    if (!e.is_local && e.peer_trust == TrustLevel::unknown) continue;
    if (!e.is_local && e.last_seen_ms <= now - REMOTE_FRESHNESS_SECONDS * 1000LL) continue;
    if (!within_reach(req, e.node_id, e.is_local)) {
      if (!e.is_local) out_of_reach.insert(e.node_id);
      continue;
    }
    // Call mode (CONTRACT §5.1): a plain request needs a response. A stream request to a
    // provider that only answers plainly gets that answer as its `done` frame.
    if (e.schemas_known && !req.stream && !e.descriptor.has_response()) {
      any_stream_only = true;
      continue;
    }
    const ParamsPredicate& pred =
        e.is_local && e.local && e.local->params_compatible ? e.local->params_compatible
                                                           : remote_predicate;
    if (pred && !pred(e.descriptor.params.get(), requested_params)) continue;
    const EntryKey key = e.key();
    if (m_health.is_quarantined(key)) {
      any_quarantined = true;
      continue;
    }
    if (e.in_flight >= e.descriptor.max_concurrent) {
      any_full = true;
      continue;
    }
    const auto h = m_health.stats(key);
    e.p50_latency_ms = h.p50_latency_ms;
    e.p99_latency_ms = h.p99_latency_ms;
    e.success_rate = h.success_rate;
    e.quarantined_until_ms = h.quarantined_until_ms;
    viable.push_back(std::move(e));
  }

  if (viable.empty()) {
    if (any_full) {
      Error err = make_error(ErrorCode::capacity_exceeded,
                             "every provider of " + req.capability + " is at max_concurrent");
      err.retry_after_ms = 1000;
      return with_alt_nodes(std::move(err), out_of_reach);
    }
    if (any_quarantined) {
      return with_alt_nodes(make_error(ErrorCode::partition,
                                       "every provider of " + req.capability + " is quarantined"),
                            out_of_reach);
    }
    if (any_stream_only) {
      return make_error(ErrorCode::bad_request,
                        req.capability + " answers only with a stream (CONTRACT §5.1)");
    }
    return with_alt_nodes(make_error(ErrorCode::not_found,
                                     "no viable provider of " + req.capability + "@>=" +
                                         req.version_req.to_string() + " (params or freshness)"),
                          out_of_reach);
  }

  std::stable_sort(viable.begin(), viable.end(), [](const CapabilityEntry& a, const CapabilityEntry& b) {
    const double sa = score(a), sb = score(b);
    if (sa != sb) return sa < sb;
    if (a.p50_latency_ms != b.p50_latency_ms) return a.p50_latency_ms < b.p50_latency_ms;
    if (a.success_rate != b.success_rate) return a.success_rate > b.success_rate;
    if (a.is_local != b.is_local) return a.is_local;
    return a.key() < b.key();
  });

  if (prefer_local.value_or(m_config.prefer_local)) {
    auto local = std::find_if(viable.begin(), viable.end(), [](const CapabilityEntry& e) { return e.is_local; });
    if (local != viable.end() && load_of(*local) < m_config.local_load_threshold) {
      std::rotate(viable.begin(), local, local + 1);
    }
  }
  return viable;
}

Error Router::no_compatible_version(const RouteRequest& req) const {
  // CONTRACT §2.1: the name is offered, in another major (or an older minor) → the caller
  // gets schema_mismatch and the versions it could ask for instead (§5.4 alt_capabilities).
  std::set<Version> offered;
  for (const auto& key : m_registry.keys_named(req.capability)) {
    if (within_reach(req, key.node_id, key.node_id == m_registry.our_node_id())) {
      offered.insert(key.version);
    }
  }
  const std::string wanted = req.capability + "@>=" + req.version_req.to_string();
  if (offered.empty()) return make_error(ErrorCode::not_found, "no provider of " + wanted);
  Json alt = Json::array();
  std::string list;
  for (const auto& v : offered) {
    alt.push_back(req.capability + "@" + v.to_string());
    list += (list.empty() ? "" : ", ") + alt.back().get<std::string>();
  }
  return make_error(ErrorCode::schema_mismatch,
                    wanted + " is not offered (CONTRACT §2.1); offered: " + list,
                    Json{{"alt_capabilities", std::move(alt)}});
}

bool Router::expired(const Binding& b) const {
  return m_clock.now_ms() - b.last_used_ms > STICKY_SESSION_IDLE_SECONDS * 1000LL;
}

Result<std::vector<CapabilityEntry>> Router::route_sticky(const RouteRequest& req,
                                                          std::optional<bool> prefer_local) {
  HN_TRY_ASSIGN(auto candidates, route(req, prefer_local));
  if (!req.session_id) return candidates;
  std::optional<EntryKey> bound;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_sessions.find({*req.session_id, req.capability});
    if (it != m_sessions.end()) {
      if (expired(it->second)) {
        m_sessions.erase(it);
      } else {
        bound = it->second.key;
      }
    }
  }
  if (bound) {
    auto it = std::find_if(candidates.begin(), candidates.end(),
                           [&](const CapabilityEntry& e) { return e.key() == *bound; });
    if (it != candidates.end()) std::rotate(candidates.begin(), it, it + 1);
  }
  return candidates;
}

void Router::bind_session(const std::string& session_id, const CapabilityName& capability,
                          const EntryKey& key) {
  std::lock_guard lock(m_mutex);
  m_sessions[{session_id, capability}] = Binding{key, m_clock.now_ms()};
}

void Router::release_session(const std::string& session_id) {
  std::lock_guard lock(m_mutex);
  std::erase_if(m_sessions, [&](const auto& kv) { return kv.first.first == session_id; });
}

void Router::release_node(const NodeId& node) {
  std::lock_guard lock(m_mutex);
  std::erase_if(m_sessions, [&](const auto& kv) { return kv.second.key.node_id == node; });
}

std::size_t Router::sweep_sessions() {
  std::lock_guard lock(m_mutex);
  return std::erase_if(m_sessions, [&](const auto& kv) { return expired(kv.second); });
}

std::optional<EntryKey> Router::session_binding(const std::string& session_id,
                                                const CapabilityName& capability) const {
  std::lock_guard lock(m_mutex);
  auto it = m_sessions.find({session_id, capability});
  if (it == m_sessions.end() || expired(it->second)) return std::nullopt;
  return it->second.key;
}

std::vector<std::string> Router::sessions_of(const EntryKey& key) const {
  std::lock_guard lock(m_mutex);
  std::vector<std::string> out;
  for (const auto& [sk, b] : m_sessions) {
    if (b.key == key && !expired(b)) out.push_back(sk.first);
  }
  return out;
}

void Router::set_params_predicate(const CapabilityName& capability, ParamsPredicate predicate) {
  std::lock_guard lock(m_mutex);
  if (predicate) m_predicates[capability] = std::move(predicate);
  else m_predicates.erase(capability);
}

}  // namespace hn::bus
