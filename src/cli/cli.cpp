// cli.cpp — command dispatch for `hearthnet`.
#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <iostream>

namespace hn::cli {

int run(int argc, char** argv) {
  CLI::App app{"HearthNet — a local-first community mesh node"};
  app.require_subcommand(1);
  auto* version = app.add_subcommand("version", "Print the HearthNet version");
  version->callback([] { std::cout << "hearthnet " << HN_VERSION << "\n"; });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? EXIT_OK : EXIT_USAGE;
  }
  return EXIT_OK;
}

}  // namespace hn::cli
