// home.h — a node's home on disk: the config it runs with and every path derived from it
// (X04 paths, HEARTHNET_HOME / XDG), opened the same way by every command and by `run`.
//
// Thread-safety: a value; build once per process. HomeLock: one owner.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "config/config.h"
#include "config/env.h"
#include "config/paths.h"
#include "core/error.h"

namespace hn::node {

struct NodeHome {
  config::Config config;
  config::Paths paths;
  bool config_exists = false;  // false: defaults in memory, nothing on disk yet
};

// Resolves the config file (explicit --config, else HEARTHNET_HOME, else XDG), loads it
// when present (config_error on a bad file) and resolves every path.
Result<NodeHome> open_home(const std::optional<std::filesystem::path>& config_path,
                           const config::Env& env);

// Re-resolves paths after the config changed (e.g. a community id was set).
Status refresh_paths(NodeHome& home, const config::Env& env);

// The lock file inside paths.run_dir.
inline constexpr const char* NODE_LOCK_FILE = "node.lock";

// The home's node lock (flock on <run_dir>/node.lock): a running node holds it for its
// whole life, and so do commands that must not run beside one (invite redeem, erase).
// Released on destruction, or by the OS when the process ends.
class HomeLock {
 public:
  // Takes the lock without waiting. io_error (detail {"node_running": true}) when a node
  // (or another such command) holds it; the message ends with `then` ("stop it <then>").
  static Result<HomeLock> try_acquire(const NodeHome& home, const std::string& then);
  HomeLock(HomeLock&& o) noexcept;
  HomeLock& operator=(HomeLock&&) = delete;
  ~HomeLock();

 private:
  explicit HomeLock(int fd) : m_fd(fd) {}
  int m_fd = -1;
};

}  // namespace hn::node
