// registry.h — the bus's index of capabilities (M03 §3.2): local ones registered by services
// in this process (with their handlers) and remote ones learnt from verified peer manifests.
// Also owns the per-entry in-flight counters used for max_concurrent (M03 §5.3 e).
//
// Thread-safety: all members are safe for concurrent use (one internal mutex). Listeners
// are called after the mutex is released, on the thread that made the change; they must
// not block for long and may call back into the registry.
// Invariants: keys are unique (node, name, version); local entries carry our node id and a
// handler; remote entries never carry our node id; in_flight ≤ max_concurrent.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "bus/capability.h"
#include "bus/schema.h"
#include "core/clock.h"

namespace hn::bus {

// Changes made by one manifest update (M03 §3.2).
struct Diff {
  std::vector<CapabilityEntry> added;
  std::vector<CapabilityEntry> removed;
  std::vector<CapabilityEntry> updated;
  std::vector<std::string> rejected;  // "name@ver: reason" — entries skipped (namespace)
  bool empty() const { return added.empty() && removed.empty() && updated.empty(); }
};

enum class RegistryEventKind { added, removed, updated };
std::string_view to_string(RegistryEventKind kind);

struct RegistryEvent {
  RegistryEventKind kind;
  CapabilityEntry entry;
};

using RegistryListener = std::function<void(const RegistryEvent&)>;
using EntryFilter = std::function<bool(const CapabilityEntry&)>;

class Registry {
 public:
  Registry(NodeId our_node_id, const Clock& clock);

  const NodeId& our_node_id() const { return m_our_node_id; }

  // Registers a capability this process offers. Idempotent when the descriptor is unchanged;
  // a changed descriptor replaces the old one ("updated"). Errors: namespace_violation
  // (CONTRACT §3.1, or outside `declared_prefixes`), schema_invalid (bad schema, missing
  // handler for a declared response/stream), bad_request (max_concurrent/timeout < 1).
  Status register_local(LocalCapability cap, const std::vector<std::string>& declared_prefixes = {});
  // not_found when nothing is registered under (name, version).
  Status deregister_local(const CapabilityName& name, Version version);

  // Replaces what we know about `node`'s capabilities with `specs` (from its verified
  // manifest, CONTRACT §6.1). Entries with a namespace violation are skipped and listed in
  // Diff::rejected; duplicates or our own node id fail the whole update (no change).
  Result<Diff> update_from_manifest(const NodeId& node, const std::vector<CapabilitySpec>& specs,
                                    const Endpoint& endpoint, TrustLevel trust);
  // Removes every entry of a peer; returns how many.
  std::size_t remove_node(const NodeId& node);

  // Entries whose name matches and whose version is compatible (CONTRACT §2.1), local first,
  // then by node id; `filter` narrows further.
  std::vector<CapabilityEntry> find(const CapabilityName& name, Version version_req,
                                    const EntryFilter& filter = {}) const;
  // Every entry registered under `name`, whatever its version (e.g. for alt_capabilities
  // when no version is compatible); local first, then by key.
  std::vector<EntryKey> keys_named(const CapabilityName& name) const;
  std::optional<CapabilityEntry> entry(const EntryKey& key) const;
  std::vector<CapabilityEntry> all_local() const;
  std::vector<CapabilityEntry> all() const;

  // Takes one of the entry's max_concurrent slots; false when full or gone.
  bool try_acquire(const EntryKey& key);
  // Gives a slot back (no-op when the entry is gone).
  void release(const EntryKey& key);

  // Registry change notifications; returns an id for unsubscribe().
  std::uint64_t subscribe(RegistryListener listener);
  void unsubscribe(std::uint64_t id);

 private:
  CapabilityEntry snapshot_locked(const CapabilityEntry& e) const;
  void notify(const std::vector<RegistryEvent>& events);

  const NodeId m_our_node_id;
  const Clock& m_clock;
  SchemaValidator m_validator;
  mutable std::mutex m_mutex;
  std::map<EntryKey, CapabilityEntry> m_entries;
  std::map<std::uint64_t, RegistryListener> m_listeners;
  std::uint64_t m_next_listener = 1;
};

}  // namespace hn::bus
