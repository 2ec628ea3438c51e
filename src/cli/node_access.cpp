// node_access.cpp — see node_access.h.
#include "cli/node_access.h"

#include <iostream>

namespace hn::cli {

int fail(const Error& error) {
  std::cerr << "hearthnet: " << error.to_string() << "\n";
  return exit_code_for(error);
}

Connected connect_to_node(const GlobalOptions& global, std::chrono::milliseconds timeout) {
  Connected c;
  auto home = node::open_home(global.config_path, global.env);
  if (!home) {
    c.exit_code = fail(home.error());
    return c;
  }
  c.home = std::move(*home);
  auto client = node::LocalClient::connect(c.home, timeout);
  if (!client) {
    if (node::is_no_node_error(client.error())) {
      std::cerr << "hearthnet: " << client.error().message << "\n";
      c.exit_code = EXIT_NO_NODE;
    } else {
      c.exit_code = fail(client.error());
    }
    return c;
  }
  c.client = std::move(*client);
  return c;
}

}  // namespace hn::cli
