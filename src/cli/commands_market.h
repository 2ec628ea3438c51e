// commands_market.h — `hearthnet market post|list|search|expire` (issue #13 §2): each is one
// bus call (market.post / market.list / market.search / market.expire @1.0) through the
// running node, like `hearthnet call`; the CLI never touches the marketplace service itself.
//
// Thread-safety: called once per process from main's thread.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace hn::cli {

struct MarketCli {
  // market post
  std::string category;
  std::string title;
  std::optional<std::string> body;
  std::vector<std::string> tags;
  std::optional<int> ttl_hours;
  std::optional<std::string> client_id;  // default: a fresh ULID (retry with the same to dedup)
  // market list
  std::optional<std::string> list_category;
  std::vector<std::string> list_tags;
  int limit = 50;
  // market search
  std::string query;
  int k = 10;
  // market expire
  std::string event_id;
  std::string reason;
  bool json = false;

  CLI::App* post_cmd = nullptr;
  CLI::App* list_cmd = nullptr;
  CLI::App* search_cmd = nullptr;
  CLI::App* expire_cmd = nullptr;
};

// Adds `market` and its subcommands to app, filling m when parsed.
void add_market_commands(CLI::App& app, MarketCli& m);
// Runs the market subcommand that was parsed; nullopt when none was.
std::optional<int> run_market_command(const GlobalOptions& global, const MarketCli& m);

}  // namespace hn::cli
