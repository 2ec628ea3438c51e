// commands.h — one function per `hearthnet` subcommand; cli.cpp only parses arguments.
// Each returns the process exit code and prints to stdout (results) / stderr (errors).
//
// Thread-safety: called once per process from main's thread.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "config/env.h"

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
};
int command_init(const GlobalOptions& global, const InitArgs& args);

int command_version();

struct DoctorArgs {
  std::optional<std::string> check;
  bool json = false;
};
int command_doctor(const GlobalOptions& global, const DoctorArgs& args);

struct ExportArgs {
  std::optional<std::filesystem::path> out;
};
int command_export(const GlobalOptions& global, const ExportArgs& args);

struct EraseArgs {
  bool keep_keys = false;
  bool keep_blobs = false;
  bool keep_logs = false;
  bool yes = false;
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
};
int command_call(const GlobalOptions& global, const CallArgs& args);

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

}  // namespace hn::cli
