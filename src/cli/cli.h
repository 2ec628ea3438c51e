// cli.h — the `hearthnet` command line (M12): parses arguments and runs one command.
//
// Thread-safety: run() is called once, from main.
#pragma once

#include "core/error.h"

namespace hn::cli {

// Exit codes — M12 §6.
enum ExitCode : int {
  EXIT_OK = 0,
  EXIT_ERROR = 1,
  EXIT_USAGE = 2,  // bad usage or the user aborted
  EXIT_NO_NODE = 3,
  EXIT_AUTH = 4,
  EXIT_DISK_FULL = 5,
};

// The exit code an error maps to (M12 §6).
int exit_code_for(const Error& error);

// Runs the command line; returns the process exit code.
int run(int argc, char** argv);

}  // namespace hn::cli
