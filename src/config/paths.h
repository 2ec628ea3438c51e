// paths.h — where a node keeps its files (GLOSSARY "File paths", X04 §4 resolve_paths).
//
// Two layouts:
//   * $HEARTHNET_HOME set (non-empty): everything under it —
//       H/config.toml, H/keys, H/state/communities/<id>/{events.sqlite,snapshots},
//       H/blobs, H/rag (the RAG corpora), H/cache, H/logs, H/run.
//   * otherwise XDG (GLOSSARY):
//       <CONFIG> = $XDG_CONFIG_HOME/hearthnet  (~/.config/hearthnet)  → config.toml
//       <DATA>   = $XDG_DATA_HOME/hearthnet    (~/.local/share/hearthnet)
//                  → keys, communities/<id>/{events.sqlite,snapshots}, blobs, rag
//       <CACHE>  = $XDG_CACHE_HOME/hearthnet   (~/.cache/hearthnet)
//       <LOG>    = $XDG_STATE_HOME/hearthnet/logs (~/.local/state/hearthnet/logs)
//       run      = $XDG_RUNTIME_DIR/hearthnet, else $XDG_STATE_HOME/hearthnet/run
//     XDG variables that are empty or relative are ignored (XDG Base Directory spec).
// node.data_dir replaces the data root (H or <DATA>) and everything derived from it; every
// explicit path in the config (identity.keys_dir, community.state_dir, events.*,
// file.blobs_dir, rag.corpora_dir, observability.log_dir) wins over the derived one.
// A leading "~/" expands to $HOME; other relative paths are taken relative to the data root.
//
// Thread-safety: pure functions over values. Invariants: every path in a resolved Paths is
// absolute and lexically normal; nothing is created on disk.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/env.h"
#include "core/error.h"

namespace hn::config {

inline constexpr std::string_view APP_DIR_NAME = "hearthnet";
inline constexpr std::string_view CONFIG_FILE_NAME = "config.toml";
inline constexpr std::string_view HEARTHNET_HOME_ENV = "HEARTHNET_HOME";

struct Paths {
  fs::path home;                // $HEARTHNET_HOME, or <DATA>: the data root
  fs::path config_file;         // the config.toml in use
  fs::path keys_dir;            // identity keys (M01 §4)
  fs::path state_dir;           // holds communities/<id>/ (H/state, or <DATA>)
  fs::path community_dir;       // this community's state (community.state_dir)
  fs::path community_manifest;  // <community_dir>/manifest.json
  fs::path events_db;           // <community_dir>/events.sqlite
  fs::path snapshots_dir;       // <community_dir>/snapshots
  fs::path blobs_dir;           // <DATA>/blobs
  fs::path cache_dir;           // <CACHE>
  fs::path corpora_dir;         // <DATA>/rag
  fs::path logs_dir;            // <LOG>
  fs::path run_dir;             // local control endpoint files
  fs::path control_socket;      // <run_dir>/control.sock
  fs::path control_port_file;   // <run_dir>/control.port
  bool operator==(const Paths&) const = default;
};

// The community's directory name under communities/: the id with every character outside
// [A-Za-z0-9._-] replaced by '_' ("ed25519:abc" → "ed25519_abc"); "local" before init.
std::string community_dir_name(const std::optional<std::string>& community_id);

// The config file to use: explicit_path when given (~ expanded, made absolute against the
// working directory), else $HEARTHNET_HOME/config.toml, else <CONFIG>/config.toml.
// config_error (reason path_resolution) when no HEARTHNET_HOME / XDG_CONFIG_HOME / HOME.
Result<fs::path> resolve_config_path(const std::optional<fs::path>& explicit_path,
                                     const Env& env);

// Every path the node uses, per the layouts above. config_file is the file the Config came
// from when known (else resolve_config_path(nullopt, env)). config_error (reason
// path_resolution) when a needed base directory cannot be determined.
Result<Paths> resolve_paths(const Config& cfg, const Env& env,
                            const std::optional<fs::path>& config_file = std::nullopt);

// X04 §4 resolve_paths in the spec's shape: a copy of cfg whose empty path fields
// (identity.keys_dir, community.state_dir, file.blobs_dir, rag.corpora_dir,
// observability.log_dir, events.*) hold the resolved locations. Idempotent.
Config with_resolved_paths(const Config& cfg, const Paths& paths);

}  // namespace hn::config
