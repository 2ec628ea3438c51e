// upkeep.cpp — snapshot choice at start, snapshot building, retention pruning (X02 §5.4).
// See upkeep.h for the rules.
#include "events/upkeep.h"

#include <algorithm>
#include <limits>

namespace hn::events {

std::vector<NodeId> peer_signers(const CommunityState& state) {
  std::vector<NodeId> out;
  for (const auto& [id, member] : state.members) {
    if (member.level == TrustLevel::trusted || member.level == TrustLevel::anchor) {
      out.push_back(member.node_id);
    }
  }
  return out;
}

LogUpkeep::LogUpkeep(EventLog& log, ReplayEngine& engine, SnapshotStore store,
                     const identity::KeyPair& keys, UpkeepOptions options, const Clock& clock)
    : m_log(log),
      m_engine(engine),
      m_store(std::move(store)),
      m_keys(keys),
      m_options(std::move(options)),
      m_clock(clock),
      m_trusted{keys.node_id()} {
  if (m_options.snapshot_lag < 1) m_options.snapshot_lag = 1;
  if (m_options.keep_snapshots < 1) m_options.keep_snapshots = 1;
}

Result<std::optional<Snapshot>> LogUpkeep::find_usable(bool newest, std::int64_t* skipped) const {
  HN_TRY_ASSIGN(auto lamports, m_store.list());
  if (newest) std::reverse(lamports.begin(), lamports.end());
  // The highest Lamport the log holds or pruned (pruned events count as held: the head of
  // a pruned log may be far below what its snapshots rightly cover).
  HN_TRY_ASSIGN(auto heads, m_log.heads_by_type());
  Lamport held = 0;
  for (const auto& [type, lamport] : heads) held = std::max(held, lamport);
  for (Lamport l : lamports) {
    auto snap = read_snapshot(m_store.path_for(l), m_log.community_id(), m_trusted);
    // A snapshot covering more than the log holds describes events we no longer have
    // (a log restored from an older copy): its state would be ahead of what sync serves.
    if (snap && snap->covers_events_up_to <= held) return std::optional<Snapshot>(std::move(*snap));
    if (skipped != nullptr) ++*skipped;
  }
  return std::optional<Snapshot>();
}

Result<StartReport> LogUpkeep::choose_base() {
  std::lock_guard lk(m_mutex);
  StartReport report;
  HN_TRY_ASSIGN(auto snap, find_usable(true, &report.skipped));
  if (!snap) return report;
  HN_TRY(m_engine.set_base(std::move(snap->state), snap->covers_events_up_to));
  report.snapshot = snap->covers_events_up_to;
  m_newest_covers = snap->covers_events_up_to;
  return report;
}

bool LogUpkeep::snapshot_due(Lamport lamport) const {
  const Lamport covers = std::max<Lamport>(m_newest_covers.load(), 0);
  return lamport - covers >= m_options.snapshot_lag;
}

Result<std::optional<Snapshot>> LogUpkeep::build_snapshot_now() {
  std::lock_guard lk(m_mutex);
  HN_TRY_ASSIGN(auto capture, m_engine.capture());
  if (capture.covers_events_up_to <= std::max<Lamport>(m_newest_covers.load(), 0)) {
    return std::optional<Snapshot>();
  }
  HN_TRY_ASSIGN(auto snap, build_snapshot(std::move(capture.state), m_log.community_id(),
                                          capture.covers_events_up_to, m_keys, m_clock));
  HN_TRY(m_store.write(snap));  // atomic: a crash leaves the old set, never a torn file
  HN_TRY(m_store.prune(m_options.keep_snapshots));
  m_newest_covers = snap.covers_events_up_to;
  ++m_built;
  return std::optional<Snapshot>(std::move(snap));
}

Result<std::int64_t> LogUpkeep::prune(std::span<const std::string> peers) {
  std::lock_guard lk(m_mutex);
  // Covered by the oldest kept snapshot: whichever snapshot a later start restores (the
  // newest may be damaged by then), the pruned events' effects are in its state.
  HN_TRY_ASSIGN(auto oldest, find_usable(false, nullptr));
  if (!oldest) return std::int64_t{0};
  PruneRule rule;
  rule.max_lamport = oldest->covers_events_up_to;
  HN_TRY_ASSIGN(rule.max_seq, m_log.max_seq());
  HN_TRY_ASSIGN(auto acks, m_log.peer_acks());
  for (const auto& peer : peers) {
    auto it = acks.find(peer);
    rule.max_seq = std::min(rule.max_seq, it == acks.end() ? 0 : it->second);
  }
  if (rule.max_seq <= 0) return std::int64_t{0};
  rule.received_before_ms = m_clock.now_ms() - m_options.retention_days * 86'400'000;
  rule.keep_types = m_options.keep_types;
  HN_TRY_ASSIGN(auto n, m_log.prune(rule));
  m_pruned += n;
  return n;
}

Result<Json> LogUpkeep::serve_snapshot() const {
  std::lock_guard lk(m_mutex);
  HN_TRY_ASSIGN(auto snap, find_usable(true, nullptr));
  if (!snap) return make_error(ErrorCode::not_found, "no snapshot yet");
  return to_json(*snap);
}

Result<std::optional<Lamport>> LogUpkeep::adopt_peer_snapshot(const Json& json,
                                                              std::span<const NodeId> trusted) {
  HN_TRY_ASSIGN(auto snap, parse_snapshot(json));
  if (snap.community_id != m_log.community_id()) {
    return make_error(ErrorCode::wrong_community, "the peer's snapshot is for community " +
                                                      snap.community_id.str());
  }
  // Only this path trusts keys other than ours: the peer's state replaces what pruned
  // events would have built, so its signer must be one the community itself trusts.
  HN_TRY(verify_snapshot_signature(snap, trusted));
  std::lock_guard lk(m_mutex);
  if (snap.covers_events_up_to <= m_engine.base_covers().value_or(-1)) return std::optional<Lamport>();
  HN_TRY(m_engine.restore(snap.state, snap.covers_events_up_to));
  m_adopted_covers = snap.covers_events_up_to;
  ++m_adopted;
  return std::optional<Lamport>(snap.covers_events_up_to);
}

Result<std::optional<Lamport>> LogUpkeep::bootstrap_from(SyncPeer& peer, std::span<const NodeId> trusted) {
  HN_TRY_ASSIGN(auto json, peer.snapshot());
  return adopt_peer_snapshot(json, trusted);
}

UpkeepStats LogUpkeep::stats() const {
  UpkeepStats s;
  if (const Lamport c = m_newest_covers.load(); c >= 0) s.newest_covers = c;
  s.built = m_built.load();
  s.pruned = m_pruned.load();
  if (const Lamport c = m_adopted_covers.load(); c >= 0) s.adopted_covers = c;
  s.adopted = m_adopted.load();
  return s;
}

}  // namespace hn::events
