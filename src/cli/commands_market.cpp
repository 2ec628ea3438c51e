// commands_market.cpp — `hearthnet market post|list|search|expire` (issue #13 §2): each is one
// bus call (market.post / market.list / market.search / market.expire @1.0) through the
// running node, like `hearthnet call`; the CLI never touches the marketplace service itself.
#include <CLI/CLI.hpp>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/node_access.h"
#include "core/ulid.h"

namespace hn::cli {
namespace {

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


const Version V10{1, 0};

// One market.* call; prints the output as JSON with --json, else via `print`.
int market_call(const GlobalOptions& global, const char* capability, Json input, bool json,
                const std::function<void(const Json&)>& print) {
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  auto r =
      c.client->call(capability, V10, Json{{"input", std::move(input)}}, std::chrono::seconds(30));
  if (!r) return fail(r.error());
  const Json out = r->value("output", Json::object());
  if (json) {
    std::cout << out.dump(2) << "\n";
  } else {
    print(out);
  }
  return EXIT_OK;
}

void print_posts(const Json& out, bool with_score) {
  const Json posts = out.value("posts", Json::array());
  if (posts.empty()) std::cout << "no posts\n";
  for (const auto& p : posts) {
    std::cout << p.value("event_id", "") << "  " << std::left << std::setw(9)
              << p.value("category", "");
    if (with_score)
      std::cout << std::fixed << std::setprecision(3) << p.value("score", 0.0) << "  ";
    std::cout << p.value("title", "");
    const Json tags = p.value("tags", Json::array());
    if (!tags.empty()) {
      std::cout << "  [";
      for (std::size_t i = 0; i < tags.size(); ++i)
        std::cout << (i ? " " : "") << tags[i].get<std::string>();
      std::cout << "]";
    }
    std::cout << "  until " << p.value("expires_at", "") << "\n";
    if (const std::string body = p.value("body", ""); !body.empty())
      std::cout << "    " << body << "\n";
  }
  if (out.contains("next_cursor")) std::cout << "(more: --json shows next_cursor)\n";
}

void add_market_options(CLI::App& app, MarketCli& m) {
  auto* market =
      app.add_subcommand("market", "The neighbourhood marketplace (offers, requests, info)");
  market->require_subcommand(1);
  m.post_cmd = market->add_subcommand("post", "Post an offer, a request, info or an emergency");
  m.post_cmd->add_option("--category", m.category, "offer | request | info | emergency")
      ->required();
  m.post_cmd->add_option("--title", m.title, "Title (1..200 characters)")->required();
  m.post_cmd->add_option("--body", m.body, "Text of the post");
  m.post_cmd->add_option("--tag", m.tags, "A tag; repeatable");
  m.post_cmd->add_option("--ttl-hours", m.ttl_hours,
                         "Hours until it expires (default: config market.default_ttl_seconds)");
  m.post_cmd->add_option("--client-id", m.client_id,
                         "Idempotency key: a retry with the same one makes no second post");
  m.post_cmd->add_flag("--json", m.json, "Machine-readable output");

  m.list_cmd = market->add_subcommand("list", "Current posts, newest first");
  m.list_cmd->add_option("--category", m.list_category, "Only this category");
  m.list_cmd->add_option("--tag", m.list_tags,
                         "Only posts with this tag; repeatable (all must match)");
  m.list_cmd->add_option("--limit", m.limit, "At most this many (1..500, default 50)");
  m.list_cmd->add_flag("--json", m.json, "Machine-readable output");

  m.search_cmd = market->add_subcommand(
      "search", "Search current posts (BM25, blended with embeddings when offered)");
  m.search_cmd->add_option("query", m.query, "Words to look for")->required();
  m.search_cmd->add_option("--k", m.k, "How many results (1..100, default 10)");
  m.search_cmd->add_flag("--json", m.json, "Machine-readable output");

  m.expire_cmd =
      market->add_subcommand("expire", "End a post (yours, or any as a trusted moderator)");
  m.expire_cmd->add_option("event_id", m.event_id, "The post's event id")->required();
  m.expire_cmd->add_option("--reason", m.reason, "fulfilled | withdrawn | user_request | stale")
      ->required();
  m.expire_cmd->add_flag("--json", m.json, "Machine-readable output");
}

std::optional<int> run_market(const GlobalOptions& global, const MarketCli& m) {
  if (m.post_cmd != nullptr && *m.post_cmd) {
    Json in{{"client_id", m.client_id.value_or(new_ulid())},
            {"category", m.category},
            {"title", m.title}};
    if (m.body) in["body"] = *m.body;
    if (!m.tags.empty()) in["tags"] = m.tags;
    if (m.ttl_hours) in["ttl_seconds"] = static_cast<std::int64_t>(*m.ttl_hours) * 3600;
    return market_call(global, "market.post", std::move(in), m.json, [](const Json& out) {
      std::cout << (out.value("duplicate", false) ? "already posted " : "posted ")
                << out.value("event_id", "") << " (lamport " << out.value("lamport", 0) << ")\n";
    });
  }
  if (m.list_cmd != nullptr && *m.list_cmd) {
    Json in{{"limit", m.limit}};
    if (m.list_category) in["category"] = *m.list_category;
    if (!m.list_tags.empty()) in["tags"] = m.list_tags;
    return market_call(global, "market.list", std::move(in), m.json,
                       [](const Json& out) { print_posts(out, false); });
  }
  if (m.search_cmd != nullptr && *m.search_cmd) {
    return market_call(global, "market.search", Json{{"query", m.query}, {"k", m.k}}, m.json,
                       [](const Json& out) { print_posts(out, true); });
  }
  if (m.expire_cmd != nullptr && *m.expire_cmd) {
    Json in{{"client_id", new_ulid()}, {"event_id", m.event_id}, {"reason", m.reason}};
    return market_call(global, "market.expire", std::move(in), m.json, [](const Json& out) {
      std::cout << (out.value("duplicate", false) ? "expired before by " : "expired by ")
                << out.value("event_id", "") << " (lamport " << out.value("lamport", 0) << ")\n";
    });
  }
  return std::nullopt;
}

}  // namespace

CommandDispatch add_market_commands(CLI::App& app) {
  auto m = std::make_shared<MarketCli>();
  add_market_options(app, *m);
  return [m](const GlobalOptions& global) { return run_market(global, *m); };
}

}  // namespace hn::cli
