// commands.h — one function per `hearthnet` subcommand; cli.cpp only parses arguments.
// Each returns the process exit code and prints to stdout (results) / stderr (errors).
//
// Thread-safety: called once per process from main's thread.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/env.h"

namespace CLI {
class App;
}  // namespace CLI

namespace hn::cli {

// Options every command shares.
struct GlobalOptions {
  std::optional<std::filesystem::path> config_path;  // --config
  config::Env env = config::Env::from_process();
};

struct InitArgs {
  std::optional<std::string> name;
  std::optional<std::string> profile;
  std::optional<std::string> community_name;
  bool non_interactive = false;
  bool create = false;               // --create: found a community without asking
  std::optional<std::string> join;   // --join TEXT_OR_PATH: join with this invite instead
  bool json = false;
};
// `hearthnet init` (M12 §3.1, M13 first run): asks create-or-join when stdin is a terminal
// and the node has no community yet (commands_init.cpp); otherwise founds one, as before,
// unless --join names an invite.
int command_init(const GlobalOptions& global, const InitArgs& args);

int command_version();

struct DoctorArgs {
  std::optional<std::string> check;
  bool json = false;
};
int command_doctor(const GlobalOptions& global, const DoctorArgs& args);

struct ExportArgs {
  std::optional<std::filesystem::path> out;
  bool include_keys = false;  // the private key, sealed under a passphrase
  std::optional<std::filesystem::path> passphrase_file;
  bool json = false;
};
// `hearthnet export` / `erase` (commands_data.cpp).
int command_export(const GlobalOptions& global, const ExportArgs& args);

struct EraseArgs {
  bool keep_keys = false;
  bool keep_blobs = false;
  bool keep_logs = false;
  bool yes = false;
  bool json = false;
};
int command_erase(const GlobalOptions& global, const EraseArgs& args);

// --- commands that run or talk to a node (commands_node.cpp, M12 §3.2–3.7) ---

struct RunArgs {
  bool no_ui = false;
  bool debug = false;
};
int command_run(const GlobalOptions& global, const RunArgs& args);

struct StatusArgs {
  bool json = false;
};
int command_status(const GlobalOptions& global, const StatusArgs& args);

struct CapsArgs {
  bool local_only = false;
  bool remote_only = false;
  std::optional<std::string> name;
  bool json = false;
};
int command_caps(const GlobalOptions& global, const CapsArgs& args);

struct CallArgs {
  std::string capability;  // NAME[@VERSION]
  std::string body = "{}";
  bool stream = false;
  int timeout_seconds = 0;  // 0: the node's default for the capability
  // --node: "self" (this node only), "remote" (the first healthy peer) or a full node id;
  // the call bypasses the router's choice (not with --stream).
  std::optional<std::string> node;
};
int command_call(const GlobalOptions& global, const CallArgs& args);

struct AskArgs {
  std::string question;
  std::optional<std::string> model;  // --model: a model name from `hearthnet models`
  std::optional<std::string> node;   // --node self | remote | a full node id
  int max_tokens = 0;                // 0: the capability's default
  int timeout_seconds = 0;
  std::optional<std::string> corpus;  // --corpus: ask with sources (rag.answer, commands_rag.cpp)
  int k = 0;                          // --k: how many sources (0: rag.answer's default)
  bool json = false;
};
// `hearthnet ask` / `models` (commands_llm.cpp): llm.chat streamed; the models on the mesh.
// With --corpus, command_ask_corpus (below).
int command_ask(const GlobalOptions& global, const AskArgs& args);

struct ModelsArgs {
  bool json = false;
};
int command_models(const GlobalOptions& global, const ModelsArgs& args);

struct TraceArgs {
  int n = 20;
  std::optional<std::string> capability;
  bool json = false;
};
int command_trace_recent(const GlobalOptions& global, const TraceArgs& args);

struct LogArgs {
  bool follow = false;
  std::optional<std::string> level;
  std::optional<std::string> component;
  int lines = 100;
};
int command_log(const GlobalOptions& global, const LogArgs& args);

// --- mesh commands (commands_mesh.cpp) ---

struct DebugEmitArgs {
  int count = 1;
};
// `hearthnet debug emit N`: the running node appends N diagnostic events (sync tests).
int command_debug_emit(const GlobalOptions& global, const DebugEmitArgs& args);

// --- governance (commands_governance.cpp, doc/design/governance.md) ---

struct MemberActionArgs {
  std::string action;                  // "promote" | "demote" | "revoke"
  std::optional<std::string> node_id;  // full "ed25519:..." id (or from --request)
  std::optional<std::string> level;    // promote / demote: member | trusted | anchor
  std::optional<std::string> reason;   // revoke
  std::optional<std::filesystem::path> request;      // a co-sign request file to act on
  std::vector<std::filesystem::path> cosigs;         // co-signatures (member cosign output)
  std::optional<std::filesystem::path> request_out;  // write the co-sign request, do not act
  bool json = false;
};
// `hearthnet member promote|demote|revoke`: the running node appends the event when the
// policy's co-signatures are there (events/governance.h), else exits EXIT_AUTH saying how
// many are needed; with --request-out only writes the request for co-signers.
int command_member_action(const GlobalOptions& global, const MemberActionArgs& args);

struct MemberListArgs {
  bool json = false;
};
// `hearthnet member list`: members, invitees and revoked nodes with level, state, online.
int command_member_list(const GlobalOptions& global, const MemberListArgs& args);

struct MemberCosignArgs {
  std::filesystem::path request;
  std::optional<std::filesystem::path> out;  // default: stdout
  bool json = false;
};
// `hearthnet member cosign FILE`: this node's co-signature over a request of its community
// (needs the keys, not a running node).
int command_member_cosign(const GlobalOptions& global, const MemberCosignArgs& args);

struct PolicySetArgs {
  std::string key;    // a CommunityPolicy field (M01)
  std::string value;  // an integer, true or false
  bool json = false;
};
// `hearthnet community policy set KEY VALUE`: the running node (the root) appends
// community.policy.updated with the whole policy.
int command_policy_set(const GlobalOptions& global, const PolicySetArgs& args);

struct PolicyShowArgs {
  bool json = false;
};
// `hearthnet community policy show`: the policy of the stored community manifest.
int command_policy_show(const GlobalOptions& global, const PolicyShowArgs& args);

// `hearthnet id`: this node's hearthnet-id://v1/… card (M13 §4.4); creates keys if absent.
int command_id(const GlobalOptions& global);

struct InviteCreateArgs {
  std::string node_id;  // a full node id or an id card
  std::string level = "member";
  std::optional<int> ttl_hours;
};
// `hearthnet invite create`: the running node issues the invite (its event lands in the
// node's log, its endpoint is the bootstrap endpoint); prints the hearthnet://v1/… text.
int command_invite_create(const GlobalOptions& global, const InviteCreateArgs& args);

struct InviteRedeemArgs {
  std::string text;  // the invite text, a file holding it, or "-" for stdin (M12 §3.12)
  bool json = false;
};
// `hearthnet invite redeem TEXT_OR_PATH`: joins standalone (node/join.h); the node must
// not run.
int command_invite_redeem(const GlobalOptions& global, const InviteRedeemArgs& args);

// --- files (commands_files.cpp, issue #12) ---

struct FilePutArgs {
  std::filesystem::path path;
  bool pin = false;
  bool json = false;
};
// `hearthnet file put PATH [--pin]`: prints the blob's CID.
int command_file_put(const GlobalOptions& global, const FilePutArgs& args);

struct FileGetArgs {
  std::string cid;
  std::optional<std::filesystem::path> out;  // default: ./<name>
  bool force = false;                        // replace an existing --out
  bool copy = false;                         // an independent, writable copy (not a link)
  bool json = false;
};
// `hearthnet file get CID [--out PATH] [--force] [--copy]`: a progress bar on a terminal.
int command_file_get(const GlobalOptions& global, const FileGetArgs& args);

struct FileLsArgs {
  bool remote = false;
  bool json = false;
};
int command_file_ls(const GlobalOptions& global, const FileLsArgs& args);

struct FilePinArgs {
  std::string cid;
  bool pinned = true;
  bool json = false;
};
// `hearthnet file pin|unpin CID`.
int command_file_pin(const GlobalOptions& global, const FilePinArgs& args);

// Runs the command a parse selected, or nullopt when it selected none of this group.
using CommandDispatch = std::function<std::optional<int>(const GlobalOptions&)>;
// The service command groups, one way each: add a group's subcommands to app and get back
// what runs the one a parse chose. Each is bus calls through the running node.
CommandDispatch add_file_commands(CLI::App& app);    // file put|get|ls|pin|unpin (commands_files.cpp)
CommandDispatch add_chat_commands(CLI::App& app);    // chat send|history|peers|read (commands_chat.cpp)
CommandDispatch add_market_commands(CLI::App& app);  // market post|list|search|expire (commands_market.cpp)
CommandDispatch add_rag_commands(CLI::App& app);     // rag list|ingest|reindex|query (commands_rag.cpp)

// `hearthnet ask QUESTION --corpus NAME`: rag.answer streamed, then the sources (commands_rag.cpp).
int command_ask_corpus(const GlobalOptions& global, const AskArgs& args);

}  // namespace hn::cli
