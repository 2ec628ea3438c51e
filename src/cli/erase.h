// erase.h — what `hearthnet erase` removes (M12 §3.10), and stopping the node first.
//
// Only HearthNet's own files go. A folder is removed whole only when it is HearthNet's by
// name: the place the X04 layout puts it when the config names no path (under
// $HEARTHNET_HOME, or <DATA>/<CACHE>/<LOG> ending in "hearthnet"). A folder the user
// configured (identity.keys_dir, community.state_dir, file.blobs_dir, observability.log_dir,
// events.*, or anything under node.data_dir) may hold other things: there only the entries
// HearthNet writes are removed (the key files; the event log, manifest and snapshots; the
// blob store's two-hex-digit shards and pinned.txt; hearthnet.log*), and the folder stays.
//
// Thread-safety: free functions; call from main's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "config/env.h"
#include "core/error.h"
#include "node/home.h"

namespace hn::cli {

struct EraseChoice {
  bool keep_keys = false;
  bool keep_blobs = false;
  bool keep_logs = false;
};

// One place erase clears.
struct EraseTarget {
  std::string what;  // "community state", "files", ...
  std::filesystem::path path;
  // true: the folder is HearthNet's by name and goes whole. false: only the entries
  // directly inside path that `ours` accepts go (path may be a folder the user owns).
  bool whole = false;
  std::function<bool(const std::string& name)> ours;
};

// The targets for home, in the M12 §3.10 order. config_error when paths cannot resolve.
Result<std::vector<EraseTarget>> plan_erase(const node::NodeHome& home, const config::Env& env,
                                            const EraseChoice& choice);

struct EraseResult {
  std::uintmax_t removed = 0;  // files and folders removed
  std::uintmax_t kept = 0;     // entries left because HearthNet did not create them
  Status status;               // the first failure, if any
};
EraseResult erase_target(const EraseTarget& target);

// Stops the node running on home, if one does, and returns the home's lock held for the
// erase (so no node starts meanwhile). A running node is asked over its control route
// (POST /node/v1/shutdown); then the lock is awaited up to `wait`. stopped_node tells
// whether a node was running. io_error (detail {"node_running": true}) when it still runs.
Result<node::HomeLock> stop_node_for_erase(
    const node::NodeHome& home, bool* stopped_node,
    std::chrono::milliseconds wait = std::chrono::seconds(30));

}  // namespace hn::cli
