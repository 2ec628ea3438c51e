// registry.cpp — local registration, manifest sync, lookups, in-flight slots, listeners.
#include "bus/registry.h"

#include <algorithm>
#include <set>

namespace hn::bus {

std::string_view to_string(RegistryEventKind kind) {
  switch (kind) {
    case RegistryEventKind::added: return "added";
    case RegistryEventKind::removed: return "removed";
    case RegistryEventKind::updated: return "updated";
  }
  return "updated";
}

Registry::Registry(NodeId our_node_id, const Clock& clock)
    : m_our_node_id(std::move(our_node_id)), m_clock(clock) {}

Status Registry::register_local(LocalCapability cap,
                                const std::vector<std::string>& declared_prefixes) {
  const auto& d = cap.descriptor;
  HN_TRY(validate_capability_name(d.name, declared_prefixes));
  HN_TRY(m_validator.check_descriptor(d));
  if (!d.params->is_object()) return make_error(ErrorCode::schema_invalid, "params must be an object");
  if (d.has_response() != static_cast<bool>(cap.handler)) {
    return make_error(ErrorCode::schema_invalid,
                      d.name + ": a plain handler is required iff response_schema is set");
  }
  if (d.has_stream() != static_cast<bool>(cap.stream_handler)) {
    return make_error(ErrorCode::schema_invalid,
                      d.name + ": a stream handler is required iff stream_schema is set");
  }
  if (d.max_concurrent < 1 || d.timeout_seconds < 1) {
    return make_error(ErrorCode::bad_request, d.name + ": max_concurrent and timeout_seconds must be >= 1");
  }

  CapabilityEntry e;
  e.node_id = m_our_node_id;
  e.descriptor = d;
  e.schema_hash = d.schema_hash();
  e.is_local = true;
  e.peer_trust = TrustLevel::self;
  e.schemas_known = true;
  e.last_seen_ms = m_clock.now_ms();
  e.local = std::make_shared<const LocalCapability>(std::move(cap));

  std::vector<RegistryEvent> events;
  {
    std::lock_guard lock(m_mutex);
    const EntryKey key = e.key();
    auto it = m_entries.find(key);
    if (it == m_entries.end()) {
      m_entries.emplace(key, e);
      events.push_back({RegistryEventKind::added, snapshot_locked(e)});
    } else {
      if (it->second.descriptor.to_json() == e.descriptor.to_json()) {
        it->second.local = e.local;  // same contract: keep counters, take the new handlers
        return {};
      }
      e.in_flight = it->second.in_flight;
      it->second = e;
      events.push_back({RegistryEventKind::updated, snapshot_locked(e)});
    }
  }
  notify(events);
  return {};
}

Status Registry::deregister_local(const CapabilityName& name, Version version) {
  std::vector<RegistryEvent> events;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find(EntryKey{m_our_node_id, name, version});
    if (it == m_entries.end()) {
      return make_error(ErrorCode::not_found, name + "@" + version.to_string() + " is not registered");
    }
    events.push_back({RegistryEventKind::removed, snapshot_locked(it->second)});
    m_entries.erase(it);
  }
  notify(events);
  return {};
}

Result<Diff> Registry::update_from_manifest(const NodeId& node,
                                            const std::vector<CapabilitySpec>& specs,
                                            const Endpoint& endpoint, TrustLevel trust) {
  if (node == m_our_node_id) {
    return make_error(ErrorCode::bad_request, "a peer manifest cannot carry our own node id");
  }
  if (node.empty()) return make_error(ErrorCode::bad_request, "empty node id");
  Diff diff;
  std::map<EntryKey, const CapabilitySpec*> wanted;
  for (const auto& spec : specs) {
    if (auto ok = validate_capability_name(spec.name); !ok) {
      diff.rejected.push_back(spec.name + "@" + spec.version.to_string() + ": " + ok.error().message);
      continue;
    }
    EntryKey key{node, spec.name, spec.version};
    if (!wanted.emplace(key, &spec).second) {
      return make_error(ErrorCode::manifest_invalid, "duplicate capability " + key.to_string());
    }
  }

  const auto now = m_clock.now_ms();
  std::vector<RegistryEvent> events;
  {
    std::lock_guard lock(m_mutex);
    // Removals first: everything of `node` not listed any more.
    for (auto it = m_entries.begin(); it != m_entries.end();) {
      if (it->first.node_id == node && !wanted.contains(it->first)) {
        diff.removed.push_back(snapshot_locked(it->second));
        it = m_entries.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [key, spec] : wanted) {
      CapabilityEntry e;
      e.node_id = node;
      e.descriptor.name = spec->name;
      e.descriptor.version = spec->version;
      e.descriptor.stability = spec->stability;
      e.descriptor.request_schema = nullptr;  // unknown unless a local twin shares the hash
      e.descriptor.params = spec->params;
      e.descriptor.max_concurrent =
          static_cast<int>(std::clamp<std::int64_t>(spec->max_concurrent, 1, 1'000'000));
      e.schema_hash = spec->schema_hash;
      e.is_local = false;
      e.endpoint = endpoint;
      e.peer_trust = trust;
      e.schemas_known = false;
      e.last_seen_ms = now;
      auto it = m_entries.find(key);
      if (it == m_entries.end()) {
        m_entries.emplace(key, e);
        diff.added.push_back(snapshot_locked(e));
        continue;
      }
      CapabilityEntry& old = it->second;
      const bool changed = old.schema_hash != e.schema_hash ||
                           old.descriptor.params != e.descriptor.params ||
                           old.descriptor.max_concurrent != e.descriptor.max_concurrent ||
                           old.descriptor.stability != e.descriptor.stability ||
                           old.endpoint != e.endpoint || old.peer_trust != e.peer_trust;
      e.in_flight = old.in_flight;
      old = e;
      if (changed) diff.updated.push_back(snapshot_locked(e));
    }
  }
  for (const auto& e : diff.added) events.push_back({RegistryEventKind::added, e});
  for (const auto& e : diff.removed) events.push_back({RegistryEventKind::removed, e});
  for (const auto& e : diff.updated) events.push_back({RegistryEventKind::updated, e});
  notify(events);
  return diff;
}

std::size_t Registry::remove_node(const NodeId& node) {
  if (node == m_our_node_id) return 0;
  std::vector<RegistryEvent> events;
  {
    std::lock_guard lock(m_mutex);
    for (auto it = m_entries.begin(); it != m_entries.end();) {
      if (it->first.node_id == node) {
        events.push_back({RegistryEventKind::removed, snapshot_locked(it->second)});
        it = m_entries.erase(it);
      } else {
        ++it;
      }
    }
  }
  notify(events);
  return events.size();
}

CapabilityEntry Registry::snapshot_locked(const CapabilityEntry& e) const {
  CapabilityEntry out = e;
  if (!out.is_local && !out.schemas_known) {
    // A local twin with the same schema hash speaks identically (CONTRACT §2.1): borrow its
    // schemas, trust requirement and timeout so callers can validate before the round trip.
    for (const auto& [key, other] : m_entries) {
      if (other.is_local && other.schema_hash == out.schema_hash) {
        out.descriptor.request_schema = other.descriptor.request_schema;
        out.descriptor.response_schema = other.descriptor.response_schema;
        out.descriptor.stream_schema = other.descriptor.stream_schema;
        out.descriptor.trust_required = other.descriptor.trust_required;
        out.descriptor.timeout_seconds = other.descriptor.timeout_seconds;
        out.descriptor.idempotent = other.descriptor.idempotent;
        out.schemas_known = true;
        break;
      }
    }
  }
  return out;
}

std::vector<CapabilityEntry> Registry::find(const CapabilityName& name, Version version_req,
                                            const EntryFilter& filter) const {
  std::vector<CapabilityEntry> out;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& [key, e] : m_entries) {
      if (key.name == name && is_version_compatible(key.version, version_req)) {
        out.push_back(snapshot_locked(e));
      }
    }
  }
  if (filter) std::erase_if(out, [&](const CapabilityEntry& e) { return !filter(e); });
  std::stable_sort(out.begin(), out.end(), [](const CapabilityEntry& a, const CapabilityEntry& b) {
    if (a.is_local != b.is_local) return a.is_local;
    return a.key() < b.key();
  });
  return out;
}

std::vector<EntryKey> Registry::keys_named(const CapabilityName& name) const {
  std::vector<EntryKey> out;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& [key, e] : m_entries) {
      if (key.name == name) out.push_back(key);
    }
  }
  std::stable_partition(out.begin(), out.end(),
                        [&](const EntryKey& k) { return k.node_id == m_our_node_id; });
  return out;
}

std::optional<CapabilityEntry> Registry::entry(const EntryKey& key) const {
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(key);
  if (it == m_entries.end()) return std::nullopt;
  return snapshot_locked(it->second);
}

std::vector<CapabilityEntry> Registry::all_local() const {
  std::lock_guard lock(m_mutex);
  std::vector<CapabilityEntry> out;
  for (const auto& [key, e] : m_entries) {
    if (e.is_local) out.push_back(snapshot_locked(e));
  }
  return out;
}

std::vector<CapabilityEntry> Registry::all() const {
  std::lock_guard lock(m_mutex);
  std::vector<CapabilityEntry> out;
  out.reserve(m_entries.size());
  for (const auto& [key, e] : m_entries) out.push_back(snapshot_locked(e));
  return out;
}

bool Registry::try_acquire(const EntryKey& key) {
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(key);
  if (it == m_entries.end()) return false;
  if (it->second.in_flight >= it->second.descriptor.max_concurrent) return false;
  ++it->second.in_flight;
  return true;
}

void Registry::release(const EntryKey& key) {
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(key);
  if (it != m_entries.end() && it->second.in_flight > 0) --it->second.in_flight;
}

std::uint64_t Registry::subscribe(RegistryListener listener) {
  std::lock_guard lock(m_mutex);
  const auto id = m_next_listener++;
  m_listeners.emplace(id, std::move(listener));
  return id;
}

void Registry::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(m_mutex);
  m_listeners.erase(id);
}

void Registry::notify(const std::vector<RegistryEvent>& events) {
  if (events.empty()) return;
  std::vector<RegistryListener> listeners;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& [id, l] : m_listeners) listeners.push_back(l);
  }
  for (const auto& ev : events) {
    for (const auto& l : listeners) l(ev);
  }
}

}  // namespace hn::bus
