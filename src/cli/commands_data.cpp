// commands_data.cpp — the user's data (M12 §3.9–3.10): `hearthnet export` writes a signed
// archive without secrets (the private key only with --include-keys, sealed under a
// passphrase); `hearthnet erase` stops the node and removes HearthNet's own files.
#include <sqlite3.h>

#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/node_access.h"
#include "cli/erase.h"
#include "cli/export_archive.h"
#include "cli/prompt.h"
#include "cli/sealed_keys.h"
#include "core/file_util.h"
#include "core/time.h"
#include "core/ulid.h"
#include "identity/keys.h"
#include "node/home.h"
#include "node/node.h"

namespace hn::cli {
namespace fs = std::filesystem;
namespace {

// Copies an SQLite database consistently (also while a node writes to it): VACUUM INTO.
Status snapshot_database(const fs::path& from, const fs::path& to) {
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
  if (rc != SQLITE_OK)
    return make_error(ErrorCode::storage_error, "snapshot of " + from.string() + ": " + message);
  return {};
}

void add_tree(std::vector<ExportEntry>& entries, const fs::path& dir, const std::string& prefix) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file(ec)) continue;
    const auto rel = fs::relative(it->path(), dir, ec).generic_string();
    // SQLite files are exported through a consistent snapshot instead (see below).
    if (rel.find(".sqlite") != std::string::npos) continue;
    entries.push_back({prefix + "/" + rel, it->path()});
  }
}

// A scratch folder removed on scope exit.
struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("hn-export-" + new_ulid());
  Scratch() {
    std::error_code ec;
    fs::create_directories(dir, ec);
    fs::permissions(dir, fs::perms::owner_all, ec);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

constexpr const char* KEYS_WARNING =
    "WARNING: this export holds the node's private key, sealed under your passphrase.\n"
    "         Anyone who has the file and the passphrase can act as this node in its community.\n"
    "         Keep the file and the passphrase apart; lose the passphrase and the key is gone.\n";

}  // namespace

int command_export(const GlobalOptions& global, const ExportArgs& args) {
  auto home = node::open_home(global.config_path, global.env);
  if (!home) return fail(home.error());
  auto keys = identity::load_keys(home->paths.keys_dir);
  if (!keys) return fail(keys.error());
  const auto& paths = home->paths;
  fs::path out;
  if (args.out) {
    out = *args.out;
  } else {
    auto h = global.env.get("HOME");
    out = fs::path(h ? *h : ".") /
          ("hearthnet-export-" +
           format_rfc3339(SystemClock::instance().now_seconds()).substr(0, 10) + ".zip");
  }
  std::string passphrase;
  if (args.include_keys) {
    auto p = read_passphrase({args.passphrase_file, /*repeat=*/true}, global.env);
    if (!p) return fail(p.error());
    passphrase = std::move(*p);
  } else if (args.passphrase_file) {
    std::cerr << "hearthnet: --passphrase-file is only used with --include-keys\n";
    return EXIT_USAGE;
  }

  // M12 §3.9: settings (config.toml names no secret: backends' keys are read from the
  // environment variable it names), the public identity, the community state, the logs.
  std::vector<ExportEntry> entries;
  entries.push_back({"config.toml", paths.config_file});
  entries.push_back({std::string("keys/") + identity::VERIFY_KEY_FILE,
                     paths.keys_dir / identity::VERIFY_KEY_FILE});
  std::error_code ec;
  if (fs::exists(paths.keys_dir / node::TLS_CERT_FILE, ec)) {  // made by the first `run`
    entries.push_back(
        {std::string("keys/") + node::TLS_CERT_FILE, paths.keys_dir / node::TLS_CERT_FILE});
  }
  add_tree(entries, paths.community_dir, "state");
  add_tree(entries, paths.logs_dir, "logs");

  Scratch scratch;
  // The event log through a consistent snapshot, so exporting a running node is safe.
  if (fs::exists(paths.events_db, ec)) {
    auto snap = scratch.dir / "events.sqlite";
    if (auto s = snapshot_database(paths.events_db, snap); !s) return fail(s.error());
    entries.push_back({"state/events.sqlite", snap});
  }
  if (args.include_keys) {
    SecretFiles secrets{{identity::SIGNING_KEY_FILE, std::string(as_chars(keys->seed()))}};
    if (auto tls_key = read_file(paths.keys_dir / node::TLS_KEY_FILE))
      secrets[node::TLS_KEY_FILE] = *tls_key;
    auto sealed = seal_secrets(secrets, passphrase);
    if (!sealed) return fail(sealed.error());
    const auto sealed_file = scratch.dir / "sealed-keys.json";
    if (auto s = atomic_write_file(sealed_file, canonical_json(*sealed), fs::perms(0600)); !s) {
      return fail(s.error());
    }
    entries.push_back({SEALED_KEYS_PATH, sealed_file});
    std::cerr << KEYS_WARNING;
  }
  Json extra = {{"display_name", home->config.node.display_name},
                {"secrets", args.include_keys ? "sealed" : "none"}};
  if (args.include_keys) extra["sealed_keys"] = SEALED_KEYS_PATH;
  if (home->config.community.community_id)
    extra["community_id"] = *home->config.community.community_id;
  if (auto status = write_signed_export(out, entries, *keys, extra); !status)
    return fail(status.error());
  if (args.json) {
    std::cout << Json{{"out", out.string()},
                      {"entries", entries.size()},
                      {"includes_keys", args.include_keys}}
                     .dump()
              << std::endl;
  } else {
    std::cout << "exported " << entries.size() << " files to " << out.string() << "\n"
              << (args.include_keys ? "the private key is in it, sealed under your passphrase\n"
                                    : "no secrets in it; add --include-keys to back up the "
                                      "private key (sealed under a passphrase)\n");
  }
  return EXIT_OK;
}

int command_erase(const GlobalOptions& global, const EraseArgs& args) {
  auto home = node::open_home(global.config_path, global.env);
  if (!home) return fail(home.error());
  auto plan = plan_erase(*home, global.env, {args.keep_keys, args.keep_blobs, args.keep_logs});
  if (!plan) return fail(plan.error());
  std::ostream& talk = args.json ? std::cerr : std::cout;  // stdout stays JSON with --json
  if (!args.yes) {
    talk << "hearthnet erase removes HearthNet's own files from:\n";
    for (const auto& t : *plan) talk << "  " << t.what << "  " << t.path.string() << "\n";
    // M12 §3.10: prompts thrice.
    if (!confirm(std::cin, talk, "Erase this node's local state?") ||
        !confirm(std::cin, talk, "This cannot be undone. Really erase?") ||
        !confirm(std::cin, talk, "Last chance. Erase now?")) {
      std::cerr << "hearthnet: erase aborted; nothing was changed\n";
      return EXIT_USAGE;
    }
  }
  // 1. Stop the running node (and hold the home's lock so none starts meanwhile).
  bool stopped = false;
  auto lock = stop_node_for_erase(*home, &stopped);
  if (!lock) return fail(lock.error());
  if (stopped) talk << "stopped the running node\n";

  Json erased = Json::array();
  int failures = 0;
  for (const auto& target : *plan) {
    auto r = erase_target(target);
    if (!r.status) {
      std::cerr << "hearthnet: " << r.status.error().message << "\n";
      ++failures;
    }
    erased.push_back({{"what", target.what},
                      {"path", target.path.string()},
                      {"removed", r.removed},
                      {"kept", r.kept}});
    if (!args.json && r.removed + r.kept > 0) {
      std::cout << "erased " << target.what << " (" << r.removed << " entries) "
                << target.path.string();
      if (r.kept) std::cout << "; kept " << r.kept << " entries HearthNet did not create";
      std::cout << "\n";
    }
  }
  // The config no longer names a community this node has state for.
  bool cleared = false;
  if (home->config_exists && home->config.community.community_id) {
    auto cfg = home->config;
    cfg.community.community_id.reset();
    if (auto s = config::save_config(cfg, home->paths.config_file); !s) return fail(s.error());
    cleared = true;
  }
  if (args.json) {
    std::cout << Json{{"stopped_node", stopped},
                      {"erased", erased},
                      {"failures", failures},
                      {"community_cleared", cleared}}
                     .dump()
              << std::endl;
  } else if (cleared) {
    std::cout << "config: community cleared; run `hearthnet init` to found or join one\n";
  }
  return failures ? EXIT_ERROR : EXIT_OK;
}

}  // namespace hn::cli
