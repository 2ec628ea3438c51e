// commands_chat.h — `hearthnet chat send|history|peers|read` (M10, issue #13 §3): each is a
// bus call to this node's chat service over POST /node/v1/call pinned to "self" (the CLI
// reaches services only through bus calls; chat.send signs as this node). cli.cpp builds
// one ChatCommands and asks it to run after parsing.
//
// Thread-safety: the CLI's one thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace hn::cli {

class ChatCommands {
 public:
  // Adds `chat` and its subcommands to app.
  explicit ChatCommands(CLI::App& app);
  // The exit code when a chat command was chosen, nullopt otherwise.
  std::optional<int> run(const GlobalOptions& global) const;

 private:
  CLI::App* m_send = nullptr;
  CLI::App* m_history = nullptr;
  CLI::App* m_peers = nullptr;
  CLI::App* m_read = nullptr;
  std::string m_node_id;
  std::string m_text;
  std::vector<std::string> m_attach;
  std::optional<std::string> m_client_id;
  std::optional<std::string> m_peer;
  int m_limit = 50;
  bool m_json = false;
};

}  // namespace hn::cli
