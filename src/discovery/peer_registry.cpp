// peer_registry.cpp — PeerRegistry (M02 §3.1, §4.2, §4.3).
#include "discovery/peer_registry.h"

#include <memory>
#include <utility>

namespace hn::discovery {

std::string_view to_string(PeerSource source) {
  switch (source) {
    case PeerSource::mdns: return "mdns";
    case PeerSource::udp: return "udp";
    case PeerSource::relay: return "relay";
    case PeerSource::static_peer: return "static";
    case PeerSource::inbound: return "inbound";
  }
  return "udp";
}

std::string_view to_string(PeerEventKind kind) {
  switch (kind) {
    case PeerEventKind::added: return "added";
    case PeerEventKind::removed: return "removed";
    case PeerEventKind::updated: return "updated";
  }
  return "updated";
}

bool PeerRecord::same_content(const PeerRecord& o) const {
  return node_id == o.node_id && node_id_full == o.node_id_full &&
         display_name == o.display_name && community_id == o.community_id &&
         profile == o.profile && endpoints == o.endpoints && manifest == o.manifest &&
         rtt_ms == o.rtt_ms && source == o.source;
}

PeerRegistry::PeerRegistry(const Clock& clock, NodeId our_node_id_full,
                           CommunityId community_id)
    : m_clock(clock),
      m_our_node_id(std::move(our_node_id_full)),
      m_community_id(std::move(community_id)) {}

bool PeerRegistry::upsert(PeerRecord record) {
  if (record.node_id_full.empty() || record.node_id_full == m_our_node_id) return false;
  record.last_seen_ms = m_clock.now_ms();
  std::vector<PeerEvent> events;
  bool added = false;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_peers.find(record.node_id_full);
    if (it == m_peers.end()) {
      added = true;
      events.push_back({PeerEventKind::added, record});
      m_peers.emplace(record.node_id_full, std::move(record));
    } else {
      bool changed = !it->second.same_content(record);
      it->second = std::move(record);
      if (changed) events.push_back({PeerEventKind::updated, it->second});
    }
  }
  emit(events);
  return added;
}

bool PeerRegistry::touch(const NodeId& node_id_full) {
  std::lock_guard lock(m_mutex);
  auto it = m_peers.find(node_id_full);
  if (it == m_peers.end()) return false;
  it->second.last_seen_ms = m_clock.now_ms();
  return true;
}

bool PeerRegistry::remove(const NodeId& node_id_full) {
  std::vector<PeerEvent> events;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_peers.find(node_id_full);
    if (it == m_peers.end()) return false;
    events.push_back({PeerEventKind::removed, std::move(it->second)});
    m_peers.erase(it);
  }
  emit(events);
  return true;
}

std::optional<PeerRecord> PeerRegistry::get(const NodeId& node_id_full) const {
  std::lock_guard lock(m_mutex);
  auto it = m_peers.find(node_id_full);
  if (it == m_peers.end()) return std::nullopt;
  return it->second;
}

std::vector<PeerRecord> PeerRegistry::all() const {
  std::lock_guard lock(m_mutex);
  std::vector<PeerRecord> out;
  out.reserve(m_peers.size());
  for (const auto& [id, rec] : m_peers) out.push_back(rec);
  return out;
}

std::vector<PeerRecord> PeerRegistry::for_community(const CommunityId& community_id) const {
  std::lock_guard lock(m_mutex);
  std::vector<PeerRecord> out;
  for (const auto& [id, rec] : m_peers) {
    if (rec.community_id == community_id) out.push_back(rec);
  }
  return out;
}

std::size_t PeerRegistry::size() const {
  std::lock_guard lock(m_mutex);
  return m_peers.size();
}

std::size_t PeerRegistry::prune_stale(int max_age_seconds) {
  const std::int64_t cutoff = m_clock.now_ms() - std::int64_t{max_age_seconds} * 1000;
  std::vector<PeerEvent> events;
  {
    std::lock_guard lock(m_mutex);
    for (auto it = m_peers.begin(); it != m_peers.end();) {
      if (it->second.last_seen_ms < cutoff) {
        events.push_back({PeerEventKind::removed, std::move(it->second)});
        it = m_peers.erase(it);
      } else {
        ++it;
      }
    }
  }
  emit(events);
  return events.size();
}

std::size_t PeerRegistry::prune_stale() { return prune_stale(stale_age_seconds()); }

void PeerRegistry::set_pruning_aggressive(bool enabled) {
  std::lock_guard lock(m_mutex);
  m_aggressive = enabled;
}

bool PeerRegistry::pruning_aggressive() const {
  std::lock_guard lock(m_mutex);
  return m_aggressive;
}

int PeerRegistry::stale_age_seconds() const {
  return pruning_aggressive() ? PEER_STALE_AGGRESSIVE_SECONDS : PEER_STALE_SECONDS;
}

PeerRegistry::SubscriptionId PeerRegistry::subscribe(Subscriber subscriber) {
  std::lock_guard lock(m_mutex);
  SubscriptionId id = m_next_subscription++;
  m_subscribers.emplace(id, std::make_shared<Subscriber>(std::move(subscriber)));
  return id;
}

void PeerRegistry::unsubscribe(SubscriptionId id) {
  std::lock_guard lock(m_mutex);
  m_subscribers.erase(id);
}

void PeerRegistry::emit(const std::vector<PeerEvent>& events) {
  if (events.empty()) return;
  std::vector<std::shared_ptr<Subscriber>> subs;
  {
    std::lock_guard lock(m_mutex);
    subs.reserve(m_subscribers.size());
    for (const auto& [id, s] : m_subscribers) subs.push_back(s);
  }
  for (const auto& ev : events) {
    for (const auto& s : subs) (*s)(ev);
  }
}

}  // namespace hn::discovery
