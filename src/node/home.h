// home.h — a node's home on disk: the config it runs with and every path derived from it
// (X04 paths, HEARTHNET_HOME / XDG), opened the same way by every command and by `run`.
//
// Thread-safety: a value; build once per process.
#pragma once

#include <filesystem>
#include <optional>

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

}  // namespace hn::node
