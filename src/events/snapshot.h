// snapshot.h — signed snapshots of materialised view state (X02 §3.5, §5.4; CONTRACT
// §7.5) for fast bootstrap: build + sign, store atomically as <dir>/<lamport>.bin
// (canonical JSON), list, prune, and verify + restore.
//
// Thread-safety: SnapshotStore methods are reentrant; concurrent writes of one Lamport
// race by design (atomic rename: last writer wins, never a torn file).
// Invariants: a snapshot is only ever restored after its signature verified against one
// of the caller's trusted keys and its community matched; restore is all-or-nothing.
// Limitation (as in the spec): a snapshot covers the events its builder had applied;
// events with lamport ≤ covers_events_up_to that reach the restoring node later are not
// reflected in the restored views.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/json.h"
#include "core/types.h"
#include "events/replay.h"
#include "identity/keys.h"

namespace hn::events {

// CONTRACT §7.5, field names as on the wire.
struct Snapshot {
  int schema_version = EVENT_SCHEMA_VERSION;
  CommunityId community_id;
  Lamport lamport = 0;
  WallClock wall_clock;
  Json state = Json::object();  // {view name: view state}
  Lamport covers_events_up_to = 0;
  Signature signature;
  bool operator==(const Snapshot&) const = default;
};

// Largest snapshot file read back.
inline constexpr std::uintmax_t MAX_SNAPSHOT_BYTES = 256ull << 20;
// Default number of snapshots prune() keeps (X02 §3.5).
inline constexpr std::size_t SNAPSHOT_KEEP_DEFAULT = 7;

Json to_json(const Snapshot& snapshot);
// Strict: bad_request for a missing / mistyped / extra field; schema_unknown for a
// schema_version other than 1. The signature is not verified here.
Result<Snapshot> parse_snapshot(const Json& json);
// Signs snapshot (CONTRACT §1.3: canonical JSON of every field but `signature`).
void sign_snapshot(Snapshot& snapshot, const identity::KeyPair& keys);
// Verifies against each trusted node id in turn; returns the one that signed.
// invalid_signature when none did (or trusted is empty).
Result<NodeId> verify_snapshot_signature(const Snapshot& snapshot, std::span<const NodeId> trusted);

// A signed snapshot of `state` covering events up to covers_events_up_to.
Result<Snapshot> build_snapshot(Json state, CommunityId community, Lamport covers_events_up_to,
                                const identity::KeyPair& keys, const Clock& clock = SystemClock::instance());
// A signed snapshot of every view registered with engine (ReplayEngine::capture).
Result<Snapshot> build_snapshot(ReplayEngine& engine, CommunityId community,
                                const identity::KeyPair& keys, const Clock& clock = SystemClock::instance());

class SnapshotStore {
 public:
  // dir is <DATA>/communities/<id>/snapshots/ (created on first write).
  SnapshotStore(std::filesystem::path dir, CommunityId community);

  // Writes snapshot atomically (core/file_util) as <lamport>.bin; wrong_community when it
  // belongs to another community.
  Status write(const Snapshot& snapshot);
  // Lamports of the snapshots on disk, ascending (other files are ignored).
  Result<std::vector<Lamport>> list() const;
  // The newest snapshot's path, if any.
  Result<std::optional<std::filesystem::path>> latest_path() const;
  // The newest snapshot, parsed and verified against trusted (see read_snapshot).
  Result<std::optional<Snapshot>> latest(std::span<const NodeId> trusted) const;
  // Deletes all but the newest keep_last_n snapshots.
  Status prune(std::size_t keep_last_n = SNAPSHOT_KEEP_DEFAULT);
  std::filesystem::path path_for(Lamport lamport) const;

 private:
  std::filesystem::path m_dir;
  CommunityId m_community;
};

// Reads, parses and verifies a snapshot file: not_found / io_error (file), bad_request
// (not JSON or malformed), schema_unknown, wrong_community, invalid_signature.
Result<Snapshot> read_snapshot(const std::filesystem::path& path, const CommunityId& community,
                               std::span<const NodeId> trusted);
// read_snapshot, then ReplayEngine::restore: all views take the snapshot's state and
// replay the log after covers_events_up_to. Any error leaves the views as they were.
Result<Snapshot> restore_from_snapshot(const std::filesystem::path& path, const CommunityId& community,
                                       std::span<const NodeId> trusted, ReplayEngine& engine);

}  // namespace hn::events
