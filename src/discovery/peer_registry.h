// peer_registry.h — the live in-memory map NodeId → PeerRecord of peers we found on the
// LAN (M02 §3.1), with change events for the bus (M03 §5.2) and stale-peer pruning
// (M02 §4.2, §4.3).
//
// Thread-safety: every member function is safe to call from any thread (one mutex).
// Subscriber callbacks run on the thread that made the change, after the lock is released;
// a callback may call back into the registry (but must not expect to see a consistent
// snapshot relative to other threads' concurrent changes).
// Invariants: at most one record per full node id; our own node is never stored;
// last_seen_ms of a record is the registry clock's time of its latest upsert/touch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/types.h"
#include "identity/manifest.h"

namespace hn::discovery {

// Default and emergency ages after which an unseen peer is pruned — M02 §4.2, §4.3.
inline constexpr int PEER_STALE_SECONDS = 90;
inline constexpr int PEER_STALE_AGGRESSIVE_SECONDS = 30;

// How we learnt about a peer. "static" (configured bootstrap peers) and "inbound" (a member
// that called us, inbound_peers.h) are our additions to the spec's "mdns" | "udp" | "relay".
enum class PeerSource { mdns, udp, relay, static_peer, inbound };
std::string_view to_string(PeerSource source);

// One known peer — M02 §3.1.
struct PeerRecord {
  std::string node_id;      // short display form "ed25519:XXXX-XXXX-XXXX-XXXX"
  NodeId node_id_full;      // "ed25519:<base64url pubkey>"
  std::string display_name;
  CommunityId community_id;
  Profile profile = Profile::hearth;
  // The endpoint we reached the peer at comes first, then the manifest's own.
  std::vector<identity::Endpoint> endpoints;
  std::optional<identity::NodeManifest> manifest;  // verified; nullopt until fetched
  std::int64_t last_seen_ms = 0;                  // registry clock, set by upsert/touch
  std::optional<double> rtt_ms;                   // measured by a health probe
  PeerSource source = PeerSource::udp;

  // Equality ignoring last_seen_ms (what "updated" events are about).
  bool same_content(const PeerRecord& other) const;
};

enum class PeerEventKind { added, removed, updated };
std::string_view to_string(PeerEventKind kind);

struct PeerEvent {
  PeerEventKind kind;
  PeerRecord peer;
};

class PeerRegistry {
 public:
  using Subscriber = std::function<void(const PeerEvent&)>;
  using SubscriptionId = std::uint64_t;

  // clock drives last_seen and pruning; it must outlive the registry.
  PeerRegistry(const Clock& clock, NodeId our_node_id_full, CommunityId community_id);
  PeerRegistry(const PeerRegistry&) = delete;
  PeerRegistry& operator=(const PeerRegistry&) = delete;

  // Adds or replaces the record for record.node_id_full, stamping last_seen_ms = now.
  // Returns true when the peer is new. Emits "added", or "updated" when anything but
  // last_seen changed. A record for our own node id is ignored (returns false).
  bool upsert(PeerRecord record);
  // Refreshes last_seen of a known peer without an event; false when unknown.
  bool touch(const NodeId& node_id_full);
  // Removes a peer; emits "removed". False when unknown.
  bool remove(const NodeId& node_id_full);
  std::optional<PeerRecord> get(const NodeId& node_id_full) const;
  // Every peer, ordered by full node id.
  std::vector<PeerRecord> all() const;
  std::vector<PeerRecord> for_community(const CommunityId& community_id) const;
  std::size_t size() const;

  // Removes peers not seen for max_age_seconds; emits "removed" for each; returns count.
  std::size_t prune_stale(int max_age_seconds);
  // The same with the current mode's age: 90 s, or 30 s when aggressive (M02 §4.3).
  std::size_t prune_stale();
  // Toggled by M09 when the node goes offline / back online.
  void set_pruning_aggressive(bool enabled);
  bool pruning_aggressive() const;
  int stale_age_seconds() const;

  // Calls subscriber for every later event until unsubscribe.
  SubscriptionId subscribe(Subscriber subscriber);
  void unsubscribe(SubscriptionId id);

  const NodeId& our_node_id() const { return m_our_node_id; }
  const CommunityId& community_id() const { return m_community_id; }
  const Clock& clock() const { return m_clock; }

 private:
  void emit(const std::vector<PeerEvent>& events);

  const Clock& m_clock;
  const NodeId m_our_node_id;
  const CommunityId m_community_id;
  mutable std::mutex m_mutex;
  std::map<NodeId, PeerRecord> m_peers;
  bool m_aggressive = false;
  std::map<SubscriptionId, std::shared_ptr<Subscriber>> m_subscribers;
  SubscriptionId m_next_subscription = 1;
};

}  // namespace hn::discovery
