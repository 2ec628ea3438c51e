// cli.cpp — argument parsing (CLI11) and dispatch for `hearthnet`.
#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <iostream>

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
  GlobalOptions global;
  std::string config_path;
  app.add_option("--config", config_path, "Path to config.toml (default: $HEARTHNET_HOME or XDG)");

  InitArgs init;
  auto* init_cmd = app.add_subcommand("init", "Create identity, config and (if none) a community");
  init_cmd->add_option("--name", init.name, "Display name of this node");
  init_cmd->add_option("--profile", init.profile, "anchor | hearth | spark | bridge");
  init_cmd->add_option("--community-name", init.community_name, "Name of a new community");
  init_cmd->add_flag("--non-interactive", init.non_interactive, "Ask nothing; use defaults");

  auto* version_cmd = app.add_subcommand("version", "Print version information");

  DoctorArgs doctor;
  auto* doctor_cmd = app.add_subcommand("doctor", "Run self-diagnostics");
  doctor_cmd->add_option("--check", doctor.check, "Run one check by name");
  doctor_cmd->add_flag("--json", doctor.json, "Machine-readable output");

  ExportArgs export_args;
  auto* export_cmd = app.add_subcommand("export", "Write a signed archive of keys, state and logs");
  export_cmd->add_option("--out", export_args.out, "Output ZIP (default ~/hearthnet-export-<date>.zip)");

  EraseArgs erase;
  auto* erase_cmd = app.add_subcommand("erase", "Erase local state");
  erase_cmd->add_flag("--keep-keys", erase.keep_keys, "Keep the device key (rejoin later)");
  erase_cmd->add_flag("--keep-blobs", erase.keep_blobs, "Keep stored files");
  erase_cmd->add_flag("--keep-logs", erase.keep_logs, "Keep log files");
  erase_cmd->add_flag("--yes", erase.yes, "Do not ask for confirmation");

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
  return EXIT_USAGE;
}

}  // namespace hn::cli
