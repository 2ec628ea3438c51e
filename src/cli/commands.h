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

}  // namespace hn::cli
