// cli.cpp — argument parsing (CLI11) and dispatch for `hearthnet`.
#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <vector>

#include "cli/commands.h"

namespace hn::cli {

int exit_code_for(const Error& error) {
  switch (error.code) {
    case ErrorCode::invalid_signature:
    case ErrorCode::unauthorized:
    case ErrorCode::revoked:
    case ErrorCode::keys_permissions:
    case ErrorCode::verify_failed:
      return EXIT_AUTH;
    case ErrorCode::disk_full:
    case ErrorCode::capacity_exceeded:
      return EXIT_DISK_FULL;
    default:
      return EXIT_ERROR;
  }
}

int run(int argc, char** argv) {
  CLI::App app{"HearthNet — a local-first community mesh node"};
  app.require_subcommand(1);
  // Global options go before or after the subcommand (`hearthnet run --config PATH`, as
  // M12 §3.2 writes it): subcommands made after this inherit it, and an option they do not
  // know falls through to their parent.
  app.fallthrough();
  GlobalOptions global;
  std::string config_path;
  app.add_option("--config", config_path, "Path to config.toml (default: $HEARTHNET_HOME or XDG)");

  InitArgs init;
  auto* init_cmd = app.add_subcommand("init", "Create identity, config and (if none) a community");
  init_cmd->add_option("--name", init.name, "Display name of this node");
  init_cmd->add_option("--profile", init.profile, "anchor | hearth | spark | bridge");
  init_cmd->add_option("--community-name", init.community_name, "Name of a new community");
  init_cmd->add_flag("--non-interactive", init.non_interactive, "Ask nothing; use defaults");
  auto* init_create = init_cmd->add_flag("--create", init.create, "Found a new community (do not ask)");
  init_cmd->add_option("--join", init.join, "Join with this invite: hearthnet://v1/... text, a file, or -")
      ->excludes(init_create);
  init_cmd->add_flag("--json", init.json, "Machine-readable output");

  auto* version_cmd = app.add_subcommand("version", "Print version information");

  DoctorArgs doctor;
  auto* doctor_cmd = app.add_subcommand("doctor", "Run self-diagnostics");
  doctor_cmd->add_option("--check", doctor.check, "Run one check by name");
  doctor_cmd->add_flag("--json", doctor.json, "Machine-readable output");

  ExportArgs export_args;
  auto* export_cmd = app.add_subcommand("export", "Write a signed archive of settings, state and logs (no secrets)");
  export_cmd->add_option("--out", export_args.out, "Output ZIP (default ~/hearthnet-export-<date>.zip)");
  export_cmd->add_flag("--include-keys", export_args.include_keys,
                       "Also the private key, sealed under a passphrase");
  export_cmd->add_option("--passphrase-file", export_args.passphrase_file,
                         "Read the passphrase from this file (else $HEARTHNET_EXPORT_PASSPHRASE, else asked)");
  export_cmd->add_flag("--json", export_args.json, "Machine-readable output");

  EraseArgs erase;
  auto* erase_cmd = app.add_subcommand("erase", "Stop the node and erase its local state");
  erase_cmd->add_flag("--keep-keys", erase.keep_keys, "Keep the device key (rejoin later)");
  erase_cmd->add_flag("--keep-blobs", erase.keep_blobs, "Keep stored files");
  erase_cmd->add_flag("--keep-logs", erase.keep_logs, "Keep log files");
  erase_cmd->add_flag("--yes", erase.yes, "Do not ask for confirmation");
  erase_cmd->add_flag("--json", erase.json, "Machine-readable output");

  RunArgs run_args;
  auto* run_cmd = app.add_subcommand("run", "Start the node in the foreground (until Ctrl-C)");
  run_cmd->add_flag("--no-ui", run_args.no_ui, "Do not serve the web UI");
  run_cmd->add_flag("--debug", run_args.debug, "Log at debug level, also to stderr");

  StatusArgs status;
  auto* status_cmd = app.add_subcommand("status", "Show the running node's state");
  status_cmd->add_flag("--json", status.json, "Machine-readable output");

  CapsArgs caps;
  auto* caps_cmd = app.add_subcommand("caps", "List capabilities known to the running node");
  auto* local_only = caps_cmd->add_flag("--local-only", caps.local_only, "Only this node's");
  caps_cmd->add_flag("--remote-only", caps.remote_only, "Only peers'")->excludes(local_only);
  caps_cmd->add_option("--name", caps.name, "Filter by name (glob with * and ?, or substring)");
  caps_cmd->add_flag("--json", caps.json, "Machine-readable output");

  CallArgs call;
  auto* call_cmd = app.add_subcommand("call", "Call a capability through the running node");
  call_cmd->add_option("capability", call.capability, "NAME[@VERSION], e.g. diag.echo@1.0")->required();
  call_cmd->add_option("--body", call.body, "Request body as JSON (default {})");
  call_cmd->add_flag("--stream", call.stream, "Stream frames to stdout, one JSON per line");
  call_cmd->add_option("--timeout", call.timeout_seconds, "Seconds to wait (default: the capability's)");
  call_cmd->add_option("--node", call.node, "Pin the provider: self | remote | a full node id");

  AskArgs ask;
  auto* ask_cmd = app.add_subcommand("ask", "Ask the mesh's language models a question (llm.chat)");
  ask_cmd->add_option("question", ask.question, "The question")->required();
  ask_cmd->add_option("--model", ask.model, "Model name (see `hearthnet models`)");
  ask_cmd->add_option("--node", ask.node, "Pin the provider: self | remote | a full node id");
  ask_cmd->add_option("--max-tokens", ask.max_tokens, "Longest answer in tokens");
  ask_cmd->add_option("--timeout", ask.timeout_seconds, "Seconds to wait (default: the capability's)");
  ask_cmd->add_option("--corpus", ask.corpus, "Answer from this corpus, citing its sources (rag.answer)");
  ask_cmd->add_option("--k", ask.k, "With --corpus: how many sources to quote (1..20, default 5)");
  ask_cmd->add_flag("--json", ask.json, "Machine-readable output (the whole answer at the end)");

  ModelsArgs models;
  auto* models_cmd = app.add_subcommand("models", "List every model on the mesh with its nodes and backends");
  models_cmd->add_flag("--json", models.json, "Machine-readable output");

  TraceArgs trace;
  auto* trace_cmd = app.add_subcommand("trace", "Inspect request traces");
  trace_cmd->require_subcommand(1);
  auto* trace_recent_cmd = trace_cmd->add_subcommand("recent", "The newest traces of the running node");
  trace_recent_cmd->add_option("n", trace.n, "How many (default 20)");
  trace_recent_cmd->add_option("--capability", trace.capability, "Only this capability");
  trace_recent_cmd->add_flag("--json", trace.json, "Machine-readable output");

  LogArgs log_args;
  auto* log_cmd = app.add_subcommand("log", "Show the node's structured log");
  log_cmd->add_flag("--follow,-f", log_args.follow, "Keep printing new lines (like tail -F)");
  log_cmd->add_option("--level", log_args.level, "Minimum level: debug, info, warning, error");
  log_cmd->add_option("--component", log_args.component, "Only this component (and its children)");
  log_cmd->add_option("--lines,-n", log_args.lines, "How many past lines (default 100)");

  DebugEmitArgs debug_emit;
  auto* debug_cmd = app.add_subcommand("debug", "Diagnostics for developers and tests");
  debug_cmd->require_subcommand(1);
  auto* debug_emit_cmd = debug_cmd->add_subcommand("emit", "Append N diagnostic events to the running node's log");
  debug_emit_cmd->add_option("n", debug_emit.count, "How many events")->required();

  auto* id_cmd = app.add_subcommand("id", "Print this node's id card (hearthnet-id://v1/...)");

  InviteCreateArgs invite_create;
  InviteRedeemArgs invite_redeem;
  auto* invite_cmd = app.add_subcommand("invite", "Invite a device, or join with an invite");
  invite_cmd->require_subcommand(1);
  auto* invite_create_cmd = invite_cmd->add_subcommand("create", "Issue an invite through the running node");
  invite_create_cmd->add_option("--node-id", invite_create.node_id, "The invitee's node id or id card")->required();
  invite_create_cmd->add_option("--level", invite_create.level, "member | trusted (default member)");
  invite_create_cmd->add_option("--ttl", invite_create.ttl_hours, "Hours the invite stays valid (default 24)");
  auto* invite_redeem_cmd = invite_cmd->add_subcommand("redeem", "Join a community with an invite (node stopped)");
  invite_redeem_cmd->add_option("text", invite_redeem.text,
                                "The hearthnet://v1/... invite, a file holding it, or - for stdin")
      ->required();
  invite_redeem_cmd->add_flag("--json", invite_redeem.json, "Machine-readable output");

  auto* member_cmd = app.add_subcommand("member", "Manage community members (co-signed, see docs)");
  member_cmd->require_subcommand(1);
  MemberActionArgs member_promote{"promote"}, member_demote{"demote"}, member_revoke{"revoke"};
  auto member_action = [&](MemberActionArgs& a, const char* help) {
    auto* cmd = member_cmd->add_subcommand(a.action, help);
    cmd->add_option("node_id", a.node_id, "Full node id (ed25519:...)");
    if (a.action == "revoke") {
      cmd->add_option("--reason", a.reason, "Why (recorded in the event)");
    } else {
      cmd->add_option("--level", a.level, "member | trusted | anchor");
    }
    cmd->add_option("--request", a.request, "Act on this co-sign request file");
    cmd->add_option("--cosig", a.cosigs, "A co-signature file (`member cosign` output); repeatable");
    cmd->add_option("--request-out", a.request_out, "Write a co-sign request to FILE instead of acting");
    cmd->add_flag("--json", a.json, "Machine-readable output");
    return cmd;
  };
  auto* member_promote_cmd = member_action(member_promote, "Raise a member's level (co-signed)");
  auto* member_demote_cmd = member_action(member_demote, "Lower a member's level (co-signed)");
  auto* member_revoke_cmd = member_action(member_revoke, "Revoke a member for good (co-signed)");
  MemberListArgs member_list;
  auto* member_list_cmd = member_cmd->add_subcommand("list", "Members, their levels and states");
  member_list_cmd->add_flag("--json", member_list.json, "Machine-readable output");
  MemberCosignArgs member_cosign;
  auto* member_cosign_cmd = member_cmd->add_subcommand("cosign", "Co-sign a promote/demote/revoke request");
  member_cosign_cmd->add_option("request", member_cosign.request, "The request file")->required();
  member_cosign_cmd->add_option("--out", member_cosign.out, "Write the co-signature here (default stdout)");
  member_cosign_cmd->add_flag("--json", member_cosign.json, "Also print the co-signature JSON");

  auto* community_cmd = app.add_subcommand("community", "The community's settings");
  community_cmd->require_subcommand(1);
  auto* policy_cmd = community_cmd->add_subcommand("policy", "The community policy (M01)");
  policy_cmd->require_subcommand(1);
  PolicySetArgs policy_set;
  auto* policy_set_cmd = policy_cmd->add_subcommand("set", "Change one policy field (the root only)");
  policy_set_cmd->add_option("key", policy_set.key, "e.g. min_signatures_to_revoke")->required();
  policy_set_cmd->add_option("value", policy_set.value, "An integer, true or false")->required();
  policy_set_cmd->add_flag("--json", policy_set.json, "Machine-readable output");
  PolicyShowArgs policy_show;
  auto* policy_show_cmd = policy_cmd->add_subcommand("show", "Print the community policy");
  policy_show_cmd->add_flag("--json", policy_show.json, "Machine-readable output");

  const std::vector<CommandDispatch> service_commands = {
      add_file_commands(app), add_chat_commands(app), add_market_commands(app), add_rag_commands(app)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? EXIT_OK : EXIT_USAGE;
  }
  if (!config_path.empty()) global.config_path = config_path;

  if (*init_cmd) return command_init(global, init);
  if (*version_cmd) return command_version();
  if (*doctor_cmd) return command_doctor(global, doctor);
  if (*export_cmd) return command_export(global, export_args);
  if (*erase_cmd) return command_erase(global, erase);
  if (*run_cmd) return command_run(global, run_args);
  if (*status_cmd) return command_status(global, status);
  if (*caps_cmd) return command_caps(global, caps);
  if (*call_cmd) return command_call(global, call);
  if (*ask_cmd) return command_ask(global, ask);
  if (*models_cmd) return command_models(global, models);
  if (*trace_recent_cmd) return command_trace_recent(global, trace);
  if (*log_cmd) return command_log(global, log_args);
  if (*debug_emit_cmd) return command_debug_emit(global, debug_emit);
  if (*member_promote_cmd) return command_member_action(global, member_promote);
  if (*member_demote_cmd) return command_member_action(global, member_demote);
  if (*member_revoke_cmd) return command_member_action(global, member_revoke);
  if (*member_cosign_cmd) return command_member_cosign(global, member_cosign);
  if (*member_list_cmd) return command_member_list(global, member_list);
  if (*policy_set_cmd) return command_policy_set(global, policy_set);
  if (*policy_show_cmd) return command_policy_show(global, policy_show);
  if (*id_cmd) return command_id(global);
  if (*invite_create_cmd) return command_invite_create(global, invite_create);
  if (*invite_redeem_cmd) return command_invite_redeem(global, invite_redeem);
  for (const auto& dispatch : service_commands) {
    if (auto rc = dispatch(global)) return *rc;
  }
  return EXIT_USAGE;
}

}  // namespace hn::cli
