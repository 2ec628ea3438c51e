// upkeep.h — the event log's upkeep (X02 §5.4, CONTRACT §7.5): which snapshot a start
// restores, when a snapshot is built, and what retention prunes. The node decides WHEN
// (timers, its work queues); this class decides WHAT, so the rules are tested without a node.
//
// Rules (doc/design/events.md "Snapshots" and "Retention"):
// - Start: the newest snapshot on disk that parses, is for this community, is signed by this
//   node's key and covers no more than the log holds becomes the ReplayEngine's base; a
//   damaged or foreign-signed one is skipped (the next older is tried), none → full replay.
// - Build: when the log's head is SNAPSHOT_LAG_LAMPORT (configurable) past the newest
//   snapshot's coverage, and daily; each covers what every view has applied. Old files
//   beyond keep_snapshots are deleted.
// - Prune: an event goes only when ALL hold — it is covered by the OLDEST kept snapshot (so
//   any kept snapshot can restore without it), it was received more than retention_days
//   ago, every current peer acknowledged holding it (EventLog::record_peer_ack, written by
//   clean sync rounds), and its type is not kept (governance: community.*).
// - Bootstrap: a node told that keys are pruned (SyncResult::pruned_count) fetches the
//   peer's newest snapshot and adopts it when it parses, is for this community, is signed
//   by a member at trusted or anchor level in the node's OWN community view (peer_signers)
//   and covers more than the current base; the views take its state and replay the log
//   after it, all-or-nothing. Anything else is a typed error and changes nothing.
//
// Thread-safety: safe for concurrent use (one internal mutex serialises build and prune).
// Lifetime: the log, the engine and the keys must outlive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/constants.h"
#include "core/error.h"
#include "events/event_log.h"
#include "events/community_view.h"
#include "events/replay.h"
#include "events/snapshot.h"
#include "events/sync.h"
#include "identity/keys.h"

namespace hn::events {

struct UpkeepOptions {
  Lamport snapshot_lag = SNAPSHOT_LAG_LAMPORT;  // build once the head is this far past coverage
  std::int64_t retention_days = EVENT_LOG_RETENTION_DAYS;  // prune only events older than this
  std::size_t keep_snapshots = SNAPSHOT_KEEP_DEFAULT;
  std::vector<EventType> keep_types;  // never pruned
};

// What the start-up restored (for status).
struct StartReport {
  std::optional<Lamport> snapshot;  // covers_events_up_to of the restored snapshot
  std::int64_t skipped = 0;         // snapshot files refused (damaged, foreign, ahead of the log)
};

// Counters for status.
struct UpkeepStats {
  std::optional<Lamport> newest_covers;  // of the newest snapshot on disk (ours)
  std::int64_t built = 0;                // snapshots built by this process
  std::int64_t pruned = 0;               // events pruned by this process
  std::optional<Lamport> adopted_covers;  // of the last peer snapshot adopted
  std::int64_t adopted = 0;               // peer snapshots adopted by this process
};

// Who may sign a snapshot another node serves us: the members at trusted or anchor level
// (revoked ones are no members). Our own key is trusted separately.
std::vector<NodeId> peer_signers(const CommunityState& state);

class LogUpkeep {
 public:
  LogUpkeep(EventLog& log, ReplayEngine& engine, SnapshotStore store, const identity::KeyPair& keys,
            UpkeepOptions options, const Clock& clock = SystemClock::instance());

  // Before any view is registered: sets the engine's base from the newest usable snapshot.
  Result<StartReport> choose_base();
  // Whether an event at `lamport` puts the head far enough past the newest snapshot.
  bool snapshot_due(Lamport lamport) const;
  // Builds and stores a snapshot of every view, then deletes files beyond keep_snapshots.
  // Nothing (nullopt) when the views cover nothing newer than the newest snapshot.
  Result<std::optional<Snapshot>> build_snapshot_now();
  // Prunes what the rules allow; `peers` are the peer keys (full node ids) whose
  // acknowledgement is needed. Returns the number pruned.
  Result<std::int64_t> prune(std::span<const std::string> peers);

  // Our newest usable snapshot, CONTRACT §7.5 JSON (GET /sync/v1/snapshot); not_found
  // when there is none.
  Result<Json> serve_snapshot() const;
  // Verifies a peer's snapshot (bad_request / schema_unknown when malformed,
  // wrong_community, invalid_signature unless signed by one of `trusted`) and, when it
  // covers more than the current base, restores every view from it (ReplayEngine::restore:
  // all-or-nothing). Returns its coverage, or nullopt when it brings nothing newer.
  Result<std::optional<Lamport>> adopt_peer_snapshot(const Json& json, std::span<const NodeId> trusted);
  // peer.snapshot(), then adopt_peer_snapshot.
  Result<std::optional<Lamport>> bootstrap_from(SyncPeer& peer, std::span<const NodeId> trusted);

  UpkeepStats stats() const;
  const UpkeepOptions& options() const { return m_options; }

 private:
  // The newest / oldest of our snapshots that verifies (nullopt when none).
  Result<std::optional<Snapshot>> find_usable(bool newest, std::int64_t* skipped) const;

  EventLog& m_log;
  ReplayEngine& m_engine;
  SnapshotStore m_store;
  const identity::KeyPair& m_keys;
  UpkeepOptions m_options;
  const Clock& m_clock;
  std::vector<NodeId> m_trusted;  // our own node id: we restore only what we signed

  mutable std::mutex m_mutex;  // serialises build and prune
  std::atomic<Lamport> m_newest_covers{-1};  // -1: no snapshot
  std::atomic<std::int64_t> m_built{0};
  std::atomic<std::int64_t> m_pruned{0};
  std::atomic<Lamport> m_adopted_covers{-1};  // -1: none adopted
  std::atomic<std::int64_t> m_adopted{0};
};

}  // namespace hn::events
