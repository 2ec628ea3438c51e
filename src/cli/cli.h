// cli.h — the `hearthnet` command line (M12): parses arguments and runs one command.
//
// Thread-safety: run() is called once, from main.
#pragma once

namespace hn::cli {

// Exit codes — M12 §6.
enum ExitCode : int {
  EXIT_OK = 0,
  EXIT_ERROR = 1,
  EXIT_USAGE = 2,
  EXIT_NO_NODE = 3,
};

// Runs the command line; returns the process exit code.
int run(int argc, char** argv);

}  // namespace hn::cli
