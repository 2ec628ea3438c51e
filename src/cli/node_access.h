// node_access.h — what every CLI command shares: reporting an error as M12 §6 says, and
// reaching the running node of this home over its local admin client.
//
// Thread-safety: called from the CLI's one thread.
#pragma once

#include <chrono>
#include <memory>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/error.h"
#include "node/home.h"
#include "node/local_client.h"

namespace hn::cli {

// Prints "hearthnet: <error>" to stderr; returns the exit code it maps to.
int fail(const Error& error);

// The running node of this home, or the exit code to return (the message already printed).
struct Connected {
  node::NodeHome home;
  std::unique_ptr<node::LocalClient> client;
  int exit_code = EXIT_OK;
};
Connected connect_to_node(const GlobalOptions& global,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace hn::cli
