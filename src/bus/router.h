// router.h — picks providers for a request (M03 §3.5, §5.4–§5.6): filters the registry's
// compatible entries (not quarantined, below max_concurrent, fresh, params-compatible,
// right call mode), orders them by the spec's score (lower is better), honours
// prefer-local, and keeps sticky sessions keyed by (session id, capability) that expire
// after STICKY_SESSION_IDLE_SECONDS idle. The result is an ordered list so the bus can fail
// over to the next candidate.
//
// Score (M03 §5.4, verbatim):
//   latency  = p50 > 0 ? p50 : 500                      (unknown -> assume 500 ms)
//   load     = in_flight / max(max_concurrent, 1)
//   score    = latency * (1 + load) + (1 - success_rate) * 1000 + (is_local ? -50 : 0)
// Ties: lower p50, then higher success rate, then local first, then key order.
// Trust enters as a filter, not a score term: remote providers whose peer trust is
// "unknown" (not a community member) are never candidates.
//
// Thread-safety: safe for concurrent use (sessions and predicates under one mutex;
// Registry and HealthTracker are themselves thread-safe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bus/capability.h"
#include "bus/health.h"
#include "bus/registry.h"
#include "core/clock.h"

namespace hn::bus {

inline constexpr int STICKY_SESSION_IDLE_SECONDS = 600;   // M03 §5.6: 10 minutes idle
inline constexpr int REMOTE_FRESHNESS_SECONDS = 60;       // M03 §5.4: last_seen window

// The bus's slice of X04 config ([bus] section).
struct BusConfig {
  bool prefer_local = true;
  double local_load_threshold = 0.80;
  // How many recent call traces the bus keeps (TraceHook::recent). A node keeps the X03
  // ring's TRACE_RING_BUFFER here and serves /trace/recent from it.
  std::size_t trace_recent_capacity = 256;  // TRACE_RECENT_CAPACITY (trace.h)
};

class Router {
 public:
  Router(const Registry& registry, const HealthTracker& health, BusConfig config,
         const Clock& clock);

  // Viable candidates, best first. Errors (CONTRACT §2.1, §5.4): schema_mismatch with
  // detail.alt_capabilities (the name is offered, but in no compatible version), not_found
  // (no compatible provider), partition (every compatible provider quarantined),
  // capacity_exceeded (every one full, retry_after_ms set), bad_request (a plain request
  // to a capability that only streams). not_found, partition and capacity_exceeded carry
  // detail.alt_nodes: the other nodes offering it that the request's pins (local_only,
  // remote_only, target_node) left out — an inbound peer's call is served here only, and
  // may go to them itself. `prefer_local` overrides the configured default.
  Result<std::vector<CapabilityEntry>> route(const RouteRequest& req,
                                             std::optional<bool> prefer_local = {}) const;
  // route(), with the entry bound to (req.session_id, capability) moved to the front when
  // it is still viable. Expired bindings are dropped here.
  Result<std::vector<CapabilityEntry>> route_sticky(const RouteRequest& req,
                                                    std::optional<bool> prefer_local = {});

  // Binds (or refreshes) a session to the entry that served it.
  void bind_session(const std::string& session_id, const CapabilityName& capability,
                    const EntryKey& key);
  // Forgets every binding of a session id.
  void release_session(const std::string& session_id);
  // Unbinds every session bound to a node (peer left, M03 §5.6).
  void release_node(const NodeId& node);
  // Drops bindings idle longer than STICKY_SESSION_IDLE_SECONDS; returns how many.
  std::size_t sweep_sessions();
  // The live binding for (session, capability), if any.
  std::optional<EntryKey> session_binding(const std::string& session_id,
                                          const CapabilityName& capability) const;
  // Session ids bound to an entry (for introspection).
  std::vector<std::string> sessions_of(const EntryKey& key) const;

  // A params predicate applied to remote providers of `capability` (local entries use
  // their own LocalCapability::params_compatible). M03 §5.5.
  void set_params_predicate(const CapabilityName& capability, ParamsPredicate predicate);

  // The §5.4 score of an entry whose health fields are filled in.
  static double score(const CapabilityEntry& e);
  const BusConfig& config() const { return m_config; }

 private:
  struct Binding {
    EntryKey key;
    std::int64_t last_used_ms = 0;
  };
  using SessionKey = std::pair<std::string, CapabilityName>;

  bool expired(const Binding& b) const;
  // The error when no entry's version is compatible: schema_mismatch with alt_capabilities
  // when the name is offered within the request's reach in other versions, else not_found.
  Error no_compatible_version(const RouteRequest& req) const;

  const Registry& m_registry;
  const HealthTracker& m_health;
  const BusConfig m_config;
  const Clock& m_clock;
  mutable std::mutex m_mutex;
  std::map<SessionKey, Binding> m_sessions;
  std::map<CapabilityName, ParamsPredicate> m_predicates;
};

}  // namespace hn::bus
