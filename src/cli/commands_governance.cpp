// commands_governance.cpp — the community's governance on the command line (M12 §3;
// doc/design/governance.md "Gathering co-signatures"):
//   hearthnet member promote|demote NODE --level L   [--cosig FILE]... [--request FILE]
//   hearthnet member revoke NODE [--reason R]         [--cosig FILE]... [--request FILE]
//     … --request-out FILE   writes the co-sign request instead of acting
//   hearthnet member cosign FILE [--out FILE]        this node's signature over a request
//   hearthnet member list [--json]                   members, levels and states
// `member revoke` is the bus call community.revoke@1.0 on this node, which asks online
// trusted members to co-sign (each signs when its own operator asked for the same
// revocation); --cosig files add signatures gathered by hand.
//   hearthnet community policy set KEY VALUE | show
// Acting talks to the running node (its self-only routes, node/node.h); writing and signing a
// request only needs the home (config and keys), so a co-signer's node may be stopped.
//
// Thread-safety: called once per process from main's thread.
#include <fstream>
#include <iomanip>
#include <iostream>
#include <variant>

#include "cli/cli.h"
#include "cli/node_access.h"
#include "cli/commands.h"
#include "core/file_util.h"
#include "core/ulid.h"
#include "events/governance.h"
#include "identity/cosign.h"
#include "identity/keys.h"
#include "identity/manifest.h"
#include "node/home.h"
#include "node/local_client.h"
#include "node/node.h"
#include "transport/envelope.h"

namespace hn::cli {
namespace {

int usage(const std::string& message) {
  std::cerr << "hearthnet: bad_request: " << message << "\n";
  return EXIT_USAGE;
}

Result<Json> read_json_file(const std::filesystem::path& path) {
  HN_TRY_ASSIGN(std::string text, read_file(path, 1 << 20));
  auto json = parse_json(text);
  if (!json) return make_error(ErrorCode::bad_request, path.string() + ": not JSON");
  return std::move(*json);
}

Status write_json_file(const std::optional<std::filesystem::path>& path, const Json& json) {
  if (!path) {
    std::cout << json.dump(2) << std::endl;
    return {};
  }
  return atomic_write_file(*path, json.dump(2) + "\n");
}

// POSTs body to a self-only route of the running node; the answer's body, or the exit code.
std::variant<Json, int> ask_node(const GlobalOptions& global, const char* path, const Json& body) {
  Connected c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  auto r = c.client->request("POST", path, body);
  if (!r) return fail(r.error());
  if (r->status / 100 != 2) {
    auto error = transport::parse_error_response(r->status, r->body);
    if (error.code == ErrorCode::unauthorized && error.detail.contains("required")) {
      std::cerr << "hearthnet: " << error.message << ".\n"
                << "  Write a co-sign request with --request-out FILE, have trusted members run\n"
                << "  `hearthnet member cosign FILE --out SIG`, then pass --request FILE --cosig "
                   "SIG...\n";
      return exit_code_for(error);
    }
    return fail(error);
  }
  return r->body;
}

Result<CommunityId> our_community(const GlobalOptions& global) {
  HN_TRY_ASSIGN(auto home, node::open_home(global.config_path, global.env));
  if (!home.config.community.community_id) {
    return make_error(ErrorCode::not_found,
                      "this node belongs to no community; run `hearthnet init`");
  }
  return CommunityId(*home.config.community.community_id);
}

std::string describe(const events::GovernanceRequest& r) {
  if (r.type == events::EventType::community_member_revoked) {
    return "revoke " + r.target.str() + (r.reason.empty() ? "" : " (" + r.reason + ")");
  }
  const char* verb =
      r.type == events::EventType::community_member_promoted ? "promote " : "demote ";
  return verb + r.target.str() + " to " + r.new_level;
}

// The request from the arguments, or from --request (which the arguments must agree with).
Result<events::GovernanceRequest> request_of(const GlobalOptions& global, const MemberActionArgs& a,
                                             events::EventType type) {
  auto mismatch = [](const char* what) {
    return make_error(ErrorCode::bad_request,
                      std::string("the request file names another ") + what);
  };
  if (a.request) {
    HN_TRY_ASSIGN(Json payload, read_json_file(*a.request));
    HN_TRY_ASSIGN(auto r, events::parse_governance_request(payload));
    HN_TRY_ASSIGN(auto ours, our_community(global));
    if (r.community != ours) {
      return make_error(ErrorCode::wrong_community, "the request belongs to another community");
    }
    if (r.type != type) return mismatch("action");
    if (a.node_id && *a.node_id != r.target.str()) return mismatch("node");
    if (a.level && *a.level != r.new_level) return mismatch("level");
    if (a.reason && *a.reason != r.reason) return mismatch("reason");
    return r;
  }
  events::GovernanceRequest r;
  r.type = type;
  HN_TRY_ASSIGN(r.community, our_community(global));
  if (!a.node_id)
    return make_error(ErrorCode::bad_request, "name the node (or pass --request FILE)");
  r.target = NodeId(*a.node_id);
  if (type != events::EventType::community_member_revoked) {
    if (!a.level) return make_error(ErrorCode::bad_request, "--level is required");
    r.new_level = *a.level;
  }
  r.reason = a.reason.value_or("");
  r.client_id = UlidGenerator().next();
  // Checks node id and level the way a co-signer will.
  HN_TRY(events::parse_governance_request(r.payload()));
  return r;
}

// `member revoke`: community.revoke@1.0 on this node (CONTRACT §4.18).
int revoke_over_bus(const GlobalOptions& global, const MemberActionArgs& args,
                    const events::GovernanceRequest& request,
                    const std::vector<identity::CoSignature>& cosigs) {
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  Json input{{"target_node_id", request.target.str()},
             {"client_id", request.client_id},
             {"reason", request.reason},
             {"co_signers", identity::co_signers_to_json(cosigs)}};
  auto answer = c.client->call("community.revoke", Version{1, 0}, Json{{"input", input}},
                               std::chrono::seconds(90));
  if (!answer) {
    const Error& error = answer.error();
    if (error.code == ErrorCode::unauthorized && error.detail.contains("required")) {
      std::cerr << "hearthnet: " << error.message << ".\n"
                << "  Asked online trusted members: " << error.detail.value("asked", Json::array()).size()
                << "; each co-signs once its own operator runs `hearthnet member revoke "
                << request.target.str() << "` too.\n"
                << "  Offline: --request-out FILE, `hearthnet member cosign FILE --out SIG`,\n"
                << "  then --request FILE --cosig SIG...\n";
      if (args.json) std::cout << error.detail.dump() << std::endl;
      return exit_code_for(error);
    }
    return fail(error);
  }
  const Json out = (*answer)["output"];
  if (args.json) {
    std::cout << out.dump() << std::endl;
  } else if (out.value("already", false)) {
    std::cout << request.target.str() << " was revoked before." << std::endl;
  } else {
    std::cout << "Done: " << describe(request) << " (" << out.value("signatures", 0) << " of "
              << out.value("required", 0) << " signatures; event " << out.value("event_id", "")
              << ")." << std::endl;
  }
  return EXIT_OK;
}

}  // namespace

int command_member_list(const GlobalOptions& global, const MemberListArgs& args) {
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  auto list = c.client->get_json(node::NODE_MEMBERS_PATH);
  if (!list) return fail(list.error());
  if (args.json) {
    std::cout << list->dump() << std::endl;
    return EXIT_OK;
  }
  const Json members = (*list)["members"];
  std::cout << std::left << std::setw(60) << "NODE" << std::setw(9) << "LEVEL" << std::setw(9)
            << "STATE" << std::setw(7) << "ONLINE" << "NAME\n";
  for (const auto& m : members) {
    std::string id = m.value("node_id", "");
    if (m.value("self", false)) id += " (you)";
    std::cout << std::setw(60) << id << std::setw(9) << m.value("level", "") << std::setw(9)
              << m.value("state", "") << std::setw(7) << (m.value("online", false) ? "yes" : "no")
              << m.value("display_name", "") << "\n";
  }
  std::cout << (*list).value("member_count", 0) << " members, " << (*list).value("revoked_count", 0)
            << " revoked" << std::endl;
  return EXIT_OK;
}

int command_member_action(const GlobalOptions& global, const MemberActionArgs& args) {
  events::EventType type = events::EventType::community_member_revoked;
  if (args.action == "promote") type = events::EventType::community_member_promoted;
  if (args.action == "demote") type = events::EventType::community_member_demoted;
  auto request = request_of(global, args, type);
  if (!request)
    return request.error().code == ErrorCode::bad_request ? usage(request.error().message)
                                                          : fail(request.error());
  if (args.request_out) {
    auto written = write_json_file(args.request_out, request->payload());
    if (!written) return fail(written.error());
    if (args.json) {
      std::cout
          << Json{{"request", args.request_out->string()}, {"payload", request->payload()}}.dump()
          << std::endl;
    } else {
      std::cout << "Wrote the co-sign request to " << args.request_out->string() << " ("
                << describe(*request) << ").\nEach co-signer runs `hearthnet member cosign "
                << args.request_out->filename().string() << " --out SIG`; then run this command "
                << "again with --request " << args.request_out->string() << " --cosig SIG ..."
                << std::endl;
    }
    return EXIT_OK;
  }
  std::vector<identity::CoSignature> cosigs;
  for (const auto& path : args.cosigs) {
    auto json = read_json_file(path);
    if (!json) return usage(json.error().message);
    auto sig = identity::parse_co_signature(*json);
    if (!sig) return usage(path.string() + ": " + sig.error().message);
    cosigs.push_back(std::move(*sig));
  }
  Json body{{"node_id", request->target.str()},
            {"client_id", request->client_id},
            {"co_signers", identity::co_signers_to_json(cosigs)}};
  const char* path = node::NODE_MEMBER_LEVEL_PATH;
  if (type == events::EventType::community_member_revoked) {
    return revoke_over_bus(global, args, *request, cosigs);
  } else {
    body["action"] = args.action;
    body["level"] = request->new_level;
    path = node::NODE_MEMBER_LEVEL_PATH;
  }
  auto answer = ask_node(global, path, body);
  if (auto* rc = std::get_if<int>(&answer)) return *rc;
  const Json& out = std::get<Json>(answer);
  if (args.json) {
    std::cout << out.dump() << std::endl;
  } else if (out.value("already", false)) {
    std::cout << request->target.str() << " was revoked before." << std::endl;
  } else {
    std::cout << "Done: " << describe(*request) << " (" << out.value("signatures", 0) << " of "
              << out.value("required", 0) << " signatures; event " << out.value("event_id", "")
              << ")." << std::endl;
  }
  return EXIT_OK;
}

int command_member_cosign(const GlobalOptions& global, const MemberCosignArgs& args) {
  auto payload = read_json_file(args.request);
  if (!payload) return usage(payload.error().message);
  auto request = events::parse_governance_request(*payload);
  if (!request) return usage(request.error().message);
  auto community = our_community(global);
  if (!community) return fail(community.error());
  if (request->community != *community) {
    return fail(
        make_error(ErrorCode::wrong_community, "the request belongs to another community"));
  }
  auto home = node::open_home(global.config_path, global.env);
  if (!home) return fail(home.error());
  auto keys = identity::load_keys(home->paths.keys_dir);
  if (!keys) return fail(keys.error());
  // Sign what the request says, rebuilt from its fields (never bytes we did not read).
  auto sig = identity::cosign(request->payload(), *keys);
  if (!sig) return fail(sig.error());
  std::cerr << "Co-signing: " << describe(*request) << " (request " << request->client_id << ")\n";
  auto written = write_json_file(args.out, sig->to_json());
  if (!written) return fail(written.error());
  if (args.out && args.json) std::cout << sig->to_json().dump() << std::endl;
  return EXIT_OK;
}

int command_policy_set(const GlobalOptions& global, const PolicySetArgs& args) {
  Json value;
  if (args.value == "true" || args.value == "false") {
    value = args.value == "true";
  } else {
    auto parsed = parse_json(args.value);
    if (!parsed || !parsed->is_number_integer())
      return usage("VALUE must be an integer, true or false");
    value = *parsed;
  }
  auto answer = ask_node(global, node::NODE_POLICY_PATH, Json{{"set", {{args.key, value}}}});
  if (auto* rc = std::get_if<int>(&answer)) return *rc;
  const Json& out = std::get<Json>(answer);
  if (args.json) {
    std::cout << out.dump() << std::endl;
  } else {
    std::cout << "Policy updated (event " << out.value("event_id", "") << "):\n"
              << out["policy"].dump(2) << std::endl;
  }
  return EXIT_OK;
}

// The policy in force: the running node's community view (GET NODE_POLICY_PATH), which
// every node replays; with no node running, the community manifest file (on a member's
// node that file can lag a policy change: only the root regenerates it).
Result<Json> policy_in_force(const node::NodeHome& home) {
  auto client = node::LocalClient::connect(home);
  if (client) return (*client)->get_json(node::NODE_POLICY_PATH);
  if (!node::is_no_node_error(client.error())) return client.take_error();
  HN_TRY_ASSIGN(auto manifest, identity::load_community_manifest(home.paths.community_dir));
  return Json{{"policy", manifest.policy.to_json()}, {"head_lamport", manifest.head_lamport}};
}

int command_policy_show(const GlobalOptions& global, const PolicyShowArgs& args) {
  auto home = node::open_home(global.config_path, global.env);
  if (!home) return fail(home.error());
  auto shown = policy_in_force(*home);
  if (!shown) return fail(shown.error());
  if (args.json) {
    std::cout << shown->dump() << std::endl;
  } else {
    const Json policy = (*shown)["policy"];
    for (const auto& [key, value] : policy.items())
      std::cout << key << " = " << value.dump() << "\n";
  }
  return EXIT_OK;
}

}  // namespace hn::cli
