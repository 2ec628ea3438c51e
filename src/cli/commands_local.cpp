// commands_local.cpp — the standalone commands (M12 §1): init, version, doctor, export,
// erase. None needs a running node.
#include <unistd.h>

#include <iostream>
#include <sqlite3.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/export_archive.h"
#include "core/constants.h"
#include "core/file_util.h"
#include "core/time.h"
#include "core/ulid.h"
#include "identity/keys.h"
#include "node/doctor_checks.h"
#include "node/home.h"
#include "node/init.h"
#include "observability/doctor.h"

namespace hn::cli {
namespace {

int fail(const Error& error) {
  std::cerr << "hearthnet: " << error.to_string() << "\n";
  return exit_code_for(error);
}

// Copies an SQLite database consistently (also while a node writes to it): VACUUM INTO.
Status snapshot_database(const std::filesystem::path& from, const std::filesystem::path& to) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(from.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return make_error(ErrorCode::storage_error, "cannot open " + from.string());
  }
  sqlite3_busy_timeout(db, 5000);
  std::string sql = "VACUUM INTO '";
  for (char c : to.string()) sql += (c == '\'') ? std::string("''") : std::string(1, c);
  sql += "'";
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string message = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  if (rc != SQLITE_OK) return make_error(ErrorCode::storage_error, "snapshot of " + from.string() + ": " + message);
  return {};
}

void add_tree(std::vector<ExportEntry>& entries, const std::filesystem::path& dir,
              const std::string& prefix) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file(ec)) continue;
    const auto rel = std::filesystem::relative(it->path(), dir, ec).generic_string();
    // SQLite files are exported through a consistent snapshot instead (see below).
    if (rel.find(".sqlite") != std::string::npos) continue;
    entries.push_back({prefix + "/" + rel, it->path()});
  }
}

bool confirm(const std::string& question) {
  std::cout << question << " [type 'yes']: " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "yes";
}

}  // namespace

int command_version() {
  std::cout << "hearthnet " << HN_VERSION << " (contract " << CONTRACT_VERSION << ", C++"
            << __cplusplus / 100 % 100 << ", " << __VERSION__ << ", Linux)\n";
  return EXIT_OK;
}

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
  if (!args.non_interactive && ::isatty(STDIN_FILENO) && !args.name && !home->config_exists) {
    std::cout << "Display name for this node (empty for the host name): " << std::flush;
    std::string name;
    if (!std::getline(std::cin, name)) return EXIT_USAGE;
    if (!name.empty()) options.display_name = name;
  }
  auto report = node::initialise_node(*home, options, global.env);
  if (!report) return fail(report.error());
  std::cout << "node        " << report->short_id << (report->created_keys ? "  (new identity)" : "") << "\n"
            << "node id     " << report->node_id.str() << "\n"
            << "name        " << report->display_name << " (" << to_string(report->profile) << ")\n"
            << "community   " << report->community_name
            << (report->created_community ? "  (founded, this node is root and anchor)" : "") << "\n"
            << "config      " << home->paths.config_file.string() << "\n"
            << "data        " << home->paths.home.string() << "\n";
  return EXIT_OK;
}

int command_doctor(const GlobalOptions& global, const DoctorArgs& args) {
  auto home = node::open_home(global.config_path, global.env);
  if (!home) return fail(home.error());
  observability::Doctor doctor;
  if (auto s = node::register_standard_checks(doctor, *home); !s) return 2;
  std::vector<observability::CheckResult> results;
  if (args.check) {
    auto one = doctor.run_one(*args.check);
    if (!one) {
      std::cerr << "hearthnet: unknown check '" << *args.check << "'; known:";
      for (const auto& n : doctor.check_names()) std::cerr << " " << n;
      std::cerr << "\n";
      return EXIT_USAGE;
    }
    results.push_back(*one);
  } else {
    results = doctor.run_all();
  }
  if (args.json) {
    std::cout << observability::render_doctor_json(results).dump(2) << "\n";
  } else {
    std::cout << observability::render_doctor_text(results, ::isatty(STDOUT_FILENO) != 0);
  }
  return observability::doctor_exit_code(results);
}

int command_export(const GlobalOptions& global, const ExportArgs& args) {
  auto home = node::open_home(global.config_path, global.env);
  if (!home) return fail(home.error());
  auto keys = identity::load_keys(home->paths.keys_dir);
  if (!keys) return fail(keys.error());
  const auto& paths = home->paths;
  std::filesystem::path out;
  if (args.out) {
    out = *args.out;
  } else {
    auto h = global.env.get("HOME");
    out = std::filesystem::path(h ? *h : ".") /
          ("hearthnet-export-" + format_rfc3339(SystemClock::instance().now_seconds()).substr(0, 10) + ".zip");
  }

  std::vector<ExportEntry> entries;
  add_tree(entries, paths.keys_dir, "keys");
  entries.push_back({"config.toml", paths.config_file});
  add_tree(entries, paths.community_dir, "state");
  add_tree(entries, paths.logs_dir, "logs");

  // The event log through a consistent snapshot, so exporting a running node is safe.
  std::filesystem::path scratch = std::filesystem::temp_directory_path() / ("hn-export-" + new_ulid());
  std::error_code ec;
  std::filesystem::create_directories(scratch, ec);
  if (std::filesystem::exists(paths.events_db, ec)) {
    auto snap = scratch / "events.sqlite";
    if (auto s = snapshot_database(paths.events_db, snap); !s) {
      std::filesystem::remove_all(scratch, ec);
      return fail(s.error());
    }
    entries.push_back({"state/events.sqlite", snap});
  }
  Json extra = {{"display_name", home->config.node.display_name}};
  if (home->config.community.community_id) extra["community_id"] = *home->config.community.community_id;
  auto status = write_signed_export(out, entries, *keys, extra);
  std::filesystem::remove_all(scratch, ec);
  if (!status) return fail(status.error());
  std::cout << "exported " << entries.size() << " files to " << out.string() << "\n";
  return EXIT_OK;
}

int command_erase(const GlobalOptions& global, const EraseArgs& args) {
  auto home = node::open_home(global.config_path, global.env);
  if (!home) return fail(home.error());
  const auto& paths = home->paths;
  if (!args.yes) {
    // M12 §3.10: prompts thrice.
    if (!confirm("Erase this node's community state" + std::string(args.keep_blobs ? "" : ", files") +
                 (args.keep_logs ? "" : ", logs") + (args.keep_keys ? "" : " and its identity key") + "?") ||
        !confirm("This cannot be undone. Really erase?") || !confirm("Last chance. Erase now?")) {
      std::cerr << "hearthnet: erase aborted\n";
      return EXIT_USAGE;
    }
  }
  std::vector<std::pair<std::string, std::filesystem::path>> targets = {
      {"community state", paths.community_dir}, {"cache", paths.cache_dir}};
  if (!args.keep_blobs) targets.emplace_back("files", paths.blobs_dir);
  if (!args.keep_logs) targets.emplace_back("logs", paths.logs_dir);
  if (!args.keep_keys) targets.emplace_back("keys", paths.keys_dir);
  int failures = 0;
  for (const auto& [what, dir] : targets) {
    std::error_code ec;
    auto n = std::filesystem::remove_all(dir, ec);
    if (ec) {
      std::cerr << "hearthnet: could not erase " << what << " at " << dir.string() << ": " << ec.message() << "\n";
      ++failures;
    } else {
      std::cout << "erased " << what << " (" << n << " entries) " << dir.string() << "\n";
    }
  }
  // The config no longer names a community this node has state for.
  if (home->config_exists && home->config.community.community_id) {
    auto cfg = home->config;
    cfg.community.community_id.reset();
    if (auto s = config::save_config(cfg, paths.config_file); !s) return fail(s.error());
    std::cout << "config: community cleared; run `hearthnet init` to found or join one\n";
  }
  return failures ? EXIT_ERROR : EXIT_OK;
}

}  // namespace hn::cli
