// erase.cpp — the erase plan, careful removal, and stopping the node first.
#include "cli/erase.h"

#include <thread>

#include "blobs/store.h"
#include "config/paths.h"
#include "identity/keys.h"
#include "node/local_client.h"
#include "node/node.h"

namespace hn::cli {
namespace fs = std::filesystem;
namespace {

bool is_temp(const std::string& name) {  // atomic writes leave ".<name>.tmp-<ulid>"
  return name.starts_with(".") && name.find(".tmp-") != std::string::npos;
}

bool is_hex2(const std::string& name) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  return name.size() == 2 && hex(name[0]) && hex(name[1]);
}

bool is_sqlite_of(const std::string& name, const std::string& db) {
  return name == db || name == db + "-wal" || name == db + "-shm" || name == db + "-journal";
}

bool is_inside(const fs::path& p, const fs::path& dir) {
  auto rel = p.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != "..";
}

// The paths X04 gives when the config names none (node.data_dir and every explicit path
// cleared): the folders that are HearthNet's by name.
Result<config::Paths> default_paths(const node::NodeHome& home, const config::Env& env) {
  config::Config cfg = home.config;
  cfg.node.data_dir.clear();
  cfg.identity.keys_dir.clear();
  cfg.community.state_dir.clear();
  cfg.events.db_path.clear();
  cfg.events.snapshots_dir.clear();
  cfg.file.blobs_dir.clear();
  cfg.rag.corpora_dir.clear();
  cfg.observability.log_dir.clear();
  return config::resolve_paths(cfg, env, home.paths.config_file);
}

EraseTarget folder(std::string what, const fs::path& path, const fs::path& default_path,
                   std::function<bool(const std::string&)> ours) {
  return EraseTarget{std::move(what), path, path == default_path, std::move(ours)};
}

}  // namespace

Result<std::vector<EraseTarget>> plan_erase(const node::NodeHome& home, const config::Env& env,
                                            const EraseChoice& choice) {
  const auto& p = home.paths;
  HN_TRY_ASSIGN(config::Paths d, default_paths(home, env));
  const std::string events_db = p.events_db.filename().string();
  std::vector<EraseTarget> out;
  // 2. The community's events, manifests, snapshots.
  out.push_back(folder(
      "community state", p.community_dir, d.community_dir, [events_db](const std::string& n) {
        return n == "manifest.json" || n == "snapshots" || is_sqlite_of(n, "events.sqlite") ||
               is_sqlite_of(n, events_db) || is_temp(n);
      }));
  if (!is_inside(p.events_db, p.community_dir)) {
    out.push_back(folder("event log", p.events_db.parent_path(), fs::path(),
                         [events_db](const std::string& n) { return is_sqlite_of(n, events_db); }));
  }
  if (!is_inside(p.snapshots_dir, p.community_dir)) {
    out.push_back(folder("snapshots", p.snapshots_dir, d.snapshots_dir,
                         [](const std::string& n) { return n.ends_with(".bin") || is_temp(n); }));
  }
  // Peer certificate pins beside the communities (X01 §4.2): state about this community's
  // peers. The state folder itself may be the data root, so only the pin store goes.
  out.push_back(folder("peer pins", p.state_dir, fs::path(), [](const std::string& n) {
    return is_sqlite_of(n, "pinned_certs.sqlite");
  }));
  // 3. Stored files.
  if (!choice.keep_blobs) {
    out.push_back(folder("files", p.blobs_dir, d.blobs_dir, [](const std::string& n) {
      return is_hex2(n) || n == blobs::PINNED_FILE || is_temp(n);
    }));
  }
  // 4. The cache: always HearthNet's own folder by name.
  out.push_back(EraseTarget{"cache", p.cache_dir, true, {}});
  if (!is_inside(p.corpora_dir, p.cache_dir)) {
    // The RAG corpora: the default folder is HearthNet's by name (erased whole); in a
    // folder the user named, nothing is ours to judge.
    out.push_back(folder("corpora", p.corpora_dir, d.corpora_dir,
                         [](const std::string&) { return false; }));
  }
  // 5. Logs.
  if (!choice.keep_logs) {
    out.push_back(folder("logs", p.logs_dir, d.logs_dir,
                         [](const std::string& n) { return n.starts_with("hearthnet.log"); }));
  }
  // 6. Keys.
  if (!choice.keep_keys) {
    out.push_back(folder("keys", p.keys_dir, d.keys_dir, [](const std::string& n) {
      return n == identity::SIGNING_KEY_FILE || n == identity::VERIFY_KEY_FILE ||
             n == node::TLS_CERT_FILE || n == node::TLS_KEY_FILE || is_temp(n);
    }));
  }
  return out;
}

EraseResult erase_target(const EraseTarget& target) {
  EraseResult r;
  std::error_code ec;
  if (!fs::exists(target.path, ec)) return r;
  if (target.whole) {
    r.removed = fs::remove_all(target.path, ec);
  } else {
    for (auto it = fs::directory_iterator(target.path, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!target.ours || !target.ours(name)) {
        ++r.kept;
        continue;
      }
      std::error_code rm;
      r.removed += fs::remove_all(it->path(), rm);
      if (rm) {
        ec = rm;
        break;
      }
    }
  }
  if (ec) {
    r.status = make_error(ErrorCode::io_error, "could not erase " + target.what + " at " +
                                                   target.path.string() + ": " + ec.message());
  }
  return r;
}

Result<node::HomeLock> stop_node_for_erase(const node::NodeHome& home, bool* stopped_node,
                                           std::chrono::milliseconds wait) {
  const std::string then = "(Ctrl-C, or `kill` its process) and run `hearthnet erase` again";
  *stopped_node = false;
  auto lock = node::HomeLock::try_acquire(home, then);
  if (lock) return lock;
  if (!lock.error().detail.is_object() || !lock.error().detail.value("node_running", false)) {
    return lock.take_error();
  }
  // M12 §3.10 step 1: ask the node over IPC, then wait for it to let go of the home.
  *stopped_node = true;
  if (auto client = node::LocalClient::connect(home, std::chrono::seconds(5))) {
    auto answer = (*client)->request("POST", node::NODE_SHUTDOWN_PATH, Json::object());
    (void)answer;  // the node may close the connection as it stops; the lock tells
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto again = node::HomeLock::try_acquire(home, then);
    if (again || std::chrono::steady_clock::now() >= deadline) return again;
  }
}

}  // namespace hn::cli
