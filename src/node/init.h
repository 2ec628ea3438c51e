// init.h — `hearthnet init` (M12 §3.1, M13 genesis): resolve paths, create the identity if
// absent, write the config, and — when the node belongs to no community yet — found one
// with this node as root and anchor, written as the first event of its log, and derive the
// signed community manifest from that log.
//
// Idempotent and crash-safe: every step checks what exists; a run killed half-way is
// finished by the next run (the genesis event and manifest are keyed by the node's key).
// Thread-safety: call from one thread.
#pragma once

#include <optional>
#include <string>

#include "config/env.h"
#include "core/types.h"
#include "identity/keys.h"
#include "node/home.h"

namespace hn::node {

struct InitOptions {
  std::optional<std::string> display_name;    // default: the host name
  std::optional<Profile> profile;             // default: detected from the hardware
  std::optional<std::string> community_name;  // default: "<display name>'s community"
  // false: identity and config only, no community founded (the node joins one next with
  // an invite; M13 first run, `hearthnet init --join`).
  bool found_community = true;
};

struct InitReport {
  NodeId node_id;
  std::string short_id;
  std::string community_id;  // "" when found_community was false and none is set
  std::string community_name;
  std::string display_name;
  Profile profile = Profile::hearth;
  bool created_keys = false;
  bool created_config = false;
  bool created_community = false;
};

// Runs the init flow on home (its config and paths are updated in place).
Result<InitReport> initialise_node(NodeHome& home, const InitOptions& options,
                                   const config::Env& env);

// anchor: ≥ 16 GiB RAM and ≥ 8 cores; spark: < 4 GiB RAM; hearth otherwise (GLOSSARY).
Profile detect_profile();
// X04 [node] display_name when the config leaves it empty: the host name (≤ 58 chars).
std::string default_display_name();

// Replays the community log into a CommunityView and (re)writes the signed manifest when
// the log is ahead of the stored one. Used by init and by the node at start-up.
Status refresh_community_manifest(const NodeHome& home, const identity::KeyPair& keys);

}  // namespace hn::node
