// commands_mesh.cpp — CLI commands of the mesh (M12 §3): diagnostics for event sync
// (`hearthnet debug emit N`) and invites (`hearthnet invite`); member and policy commands
// are in commands_governance.cpp. Each talks to the running node over its signed self-only
// control routes (node/node.h).
//
// Thread-safety: called once per process from main's thread.
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/node_access.h"
#include "cli/prompt.h"
#include "node/home.h"
#include "node/join.h"
#include "node/local_client.h"
#include "node/node.h"
#include "transport/envelope.h"

namespace hn::cli {
namespace {

// POSTs body to a self-only route of the running node; prints the JSON answer (or, with
// field, only that string field of it).
int post_to_node(const GlobalOptions& global, const std::string& path, const Json& body,
                 const char* field = nullptr) {
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  auto r = c.client->request("POST", path, body);
  if (!r) return fail(r.error());
  if (r->status / 100 != 2) return fail(transport::parse_error_response(r->status, r->body));
  if (field != nullptr && r->body.contains(field) && r->body[field].is_string()) {
    std::cout << r->body[field].get<std::string>() << std::endl;
  } else {
    std::cout << r->body.dump() << std::endl;
  }
  return EXIT_OK;
}

}  // namespace

int command_debug_emit(const GlobalOptions& global, const DebugEmitArgs& args) {
  if (args.count < 1) {
    std::cerr << "hearthnet: bad_request: N must be at least 1\n";
    return EXIT_USAGE;
  }
  return post_to_node(global, node::NODE_DEBUG_EMIT_PATH, Json{{"count", args.count}});
}

int command_id(const GlobalOptions& global) {
  auto home = node::open_home(global.config_path, global.env);
  if (!home) return fail(home.error());
  auto card = node::node_id_card(*home);
  if (!card) return fail(card.error());
  std::cout << *card << std::endl;
  return EXIT_OK;
}

int command_invite_create(const GlobalOptions& global, const InviteCreateArgs& args) {
  Json body{{"invitee", args.node_id}, {"level", args.level}};
  if (args.ttl_hours) {
    if (*args.ttl_hours < 1) {
      std::cerr << "hearthnet: bad_request: --ttl must be at least 1 hour\n";
      return EXIT_USAGE;
    }
    body["ttl_seconds"] = static_cast<std::int64_t>(*args.ttl_hours) * 3600;
  }
  return post_to_node(global, node::NODE_INVITE_PATH, body, "invite");
}

int command_invite_redeem(const GlobalOptions& global, const InviteRedeemArgs& args) {
  auto home = node::open_home(global.config_path, global.env);
  if (!home) return fail(home.error());
  auto invite = read_invite_argument(args.text, std::cin);  // M12 §3.12 TEXT_OR_PATH
  if (!invite) return fail(invite.error());
  auto report = node::join_community(*home, *invite, global.env);
  if (!report) return fail(report.error());
  if (args.json) {
    std::cout << Json{{"community_id", report->community_id.str()},
                      {"community_name", report->community_name},
                      {"level", to_string(report->level)},
                      {"node_id", report->node_id.str()},
                      {"inviter_node_id", report->inviter_node_id.str()},
                      {"bootstrap", report->bootstrap},
                      {"pushed", report->pushed}}
                     .dump()
              << std::endl;
    return EXIT_OK;
  }
  std::cout << "Joined community \"" << report->community_name << "\" ("
            << report->community_id.str() << ") as " << to_string(report->level) << " via "
            << report->bootstrap << "\n";
  if (!report->pushed) {
    std::cout << "The join travels with the next sync (" << report->push_error << ").\n";
  }
  std::cout << "Start the node with `hearthnet run`." << std::endl;
  return EXIT_OK;
}

}  // namespace hn::cli
