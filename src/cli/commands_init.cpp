// commands_init.cpp — `hearthnet init` (M12 §3.1) with the M13 first-run flow: on a
// terminal a node without a community is asked whether to create one or join one; flags
// (--create, --join INVITE) choose without asking; without a terminal (or with
// --non-interactive) nothing is asked and, as before, a community is founded unless
// --join names an invite.
#include <unistd.h>

#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/node_access.h"
#include "cli/first_run.h"
#include "cli/prompt.h"
#include "core/types.h"
#include "node/home.h"
#include "node/init.h"
#include "node/join.h"

namespace hn::cli {
int command_init(const GlobalOptions& global, const InitArgs& args) {
  auto home = node::open_home(global.config_path, global.env);
  if (!home) return fail(home.error());
  node::InitOptions options;
  options.display_name = args.name;
  options.community_name = args.community_name;
  if (args.profile) {
    auto profile = parse_profile(*args.profile);
    if (!profile) {
      std::cerr << "hearthnet: --profile must be anchor, hearth, spark or bridge\n";
      return EXIT_USAGE;
    }
    options.profile = profile;
  }
  std::optional<FirstRunPath> path;
  if (args.create) path = FirstRunPath::create;
  if (args.join) path = FirstRunPath::join;
  std::string invite_argument = args.join.value_or("");

  const bool needs_community = !home->config.community.community_id;
  const bool interactive = !args.non_interactive && ::isatty(STDIN_FILENO) != 0;
  std::ostream& talk = args.json ? std::cerr : std::cout;  // stdout stays JSON with --json
  // A node that has a community already is asked nothing (a config without one has none).
  if (interactive && needs_community) {
    FirstRunQuestions q;
    q.ask_name = !args.name && !home->config_exists;
    q.default_name =
        args.name.value_or(home->config.node.display_name.empty() ? node::default_display_name()
                                                                  : home->config.node.display_name);
    q.path = path;
    q.ask_community_name = !args.community_name;
    const auto& h = *home;
    q.id_card = [&h] { return node::node_id_card(h); };
    auto answers = ask_first_run(std::cin, talk, q);
    if (!answers) {
      if (is_aborted(answers.error())) {
        std::cerr << "hearthnet: " << answers.error().message << "; nothing more was changed\n";
        return EXIT_USAGE;
      }
      return fail(answers.error());
    }
    if (answers->display_name) options.display_name = answers->display_name;
    path = answers->path;
    if (answers->community_name && !options.community_name)
      options.community_name = answers->community_name;
    if (answers->path == FirstRunPath::join && !args.join) invite_argument = answers->invite;
  }

  const bool join = path == FirstRunPath::join;
  std::string invite;
  if (join) {
    auto text = read_invite_argument(invite_argument, std::cin);
    if (!text) return fail(text.error());
    invite = std::move(*text);
  }
  options.found_community = !join;
  auto report = node::initialise_node(*home, options, global.env);
  if (!report) return fail(report.error());
  std::optional<node::JoinReport> joined;
  if (join) {
    auto r = node::join_community(*home, invite, global.env);
    if (!r) {
      std::cerr << "hearthnet: identity and config are ready, but joining failed: "
                << r.error().to_string() << "\n"
                << "hearthnet: fix the cause and run `hearthnet invite redeem INVITE_OR_FILE`\n";
      return exit_code_for(r.error());
    }
    joined = std::move(*r);
  }

  const std::string community_id = joined ? joined->community_id.str() : report->community_id;
  const std::string community_name = joined ? joined->community_name : report->community_name;
  if (args.json) {
    Json out{{"node_id", report->node_id.str()},     {"short_id", report->short_id},
             {"display_name", report->display_name}, {"profile", to_string(report->profile)},
             {"created_keys", report->created_keys}, {"community_id", community_id},
             {"community_name", community_name},     {"founded", report->created_community},
             {"joined", joined.has_value()},         {"config", home->paths.config_file.string()},
             {"data", home->paths.home.string()}};
    if (joined) out["level"] = to_string(joined->level);
    std::cout << out.dump() << std::endl;
    return EXIT_OK;
  }
  std::cout << "node        " << report->short_id
            << (report->created_keys ? "  (new identity)" : "") << "\n"
            << "node id     " << report->node_id.str() << "\n"
            << "name        " << report->display_name << " (" << to_string(report->profile) << ")\n"
            << "community   " << community_name;
  if (report->created_community) std::cout << "  (founded, this node is root and anchor)";
  if (joined)
    std::cout << "  (joined as " << to_string(joined->level) << " via " << joined->bootstrap << ")";
  std::cout << "\n"
            << "config      " << home->paths.config_file.string() << "\n"
            << "data        " << home->paths.home.string() << "\n";
  if (joined && !joined->pushed)
    std::cout << "The join travels with the next sync (" << joined->push_error << ").\n";
  std::cout << "Next: start the node with `hearthnet run`";
  if (report->created_community)
    std::cout << "; invite a device with `hearthnet invite create --node-id <its id card>`";
  std::cout << "." << std::endl;
  return EXIT_OK;
}

}  // namespace hn::cli
