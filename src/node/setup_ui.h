// setup_ui.h — the dashboard's first-run wizard (M08 §8.5 → M13): when `hearthnet run`
// finds a home without a community, it serves the dashboard in setup mode instead of
// failing. The page then founds a community (name; the policy follows once the node runs)
// or joins one with an invite, showing this device's id card as a QR for the inviter:
//   GET  /api/setup/state   {"id_card", "node_id", "short_id", "display_name"}
//   POST /api/setup/create  {"name"} → initialise_node (node/init.h) founds the community
//   POST /api/setup/join    {"invite"} → join_community (node/join.h)
// Each answers, then the wizard returns and `run` starts the node on the same port with the
// same session token, so the page continues as the dashboard.
//
// Thread-safety: call from one thread; the wizard's own io_context runs on it, the
// create/join work on a helper queue.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "config/env.h"
#include "core/error.h"
#include "node/home.h"

namespace hn::node {

struct SetupOutcome {
  bool joined_or_created = false;  // false: stopped by a signal first
  std::uint16_t ui_port = 0;       // where the wizard was served (the node keeps it)
};

// Creates the identity and config when missing (no community), serves the wizard with
// `token` on [ui] host:port and calls on_url with the URL once it listens. Returns when a
// community exists or on SIGINT/SIGTERM. io_error when the port cannot be bound.
Result<SetupOutcome> run_setup_ui(NodeHome& home, const config::Env& env, const std::string& token,
                                  const std::function<void(const std::string&)>& on_url);

}  // namespace hn::node
