// doctor_checks.cpp — cold-disk doctor checks for a node home.
#include "node/doctor_checks.h"

#include <sqlite3.h>

#include "events/event_log.h"
#include "identity/keys.h"
#include "identity/manifest.h"
#include "node/doctor_live_checks.h"
#include "observability/doctor_checks.h"

namespace hn::node {
namespace {

// Takes the database's write lock and releases it without changing anything.
Status probe_writable(const std::filesystem::path& db_path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  auto close = [&] { sqlite3_close(db); };
  if (rc != SQLITE_OK) {
    Error e = make_error(ErrorCode::storage_error, "cannot open " + db_path.string() + " for writing");
    close();
    return e;
  }
  sqlite3_busy_timeout(db, 2000);
  char* err = nullptr;
  rc = sqlite3_exec(db, "BEGIN IMMEDIATE; ROLLBACK;", nullptr, nullptr, &err);
  std::string message = err ? err : "";
  sqlite3_free(err);
  close();
  if (rc != SQLITE_OK) return make_error(ErrorCode::storage_error, "write lock refused: " + message);
  return {};
}

}  // namespace

Status register_standard_checks(observability::Doctor& doctor, const NodeHome& home) {
  using observability::check_fail;
  using observability::check_ok;
  const config::Paths paths = home.paths;
  const auto community_id = home.config.community.community_id;
  const std::string fix_init = "run: hearthnet init";

  HN_TRY(doctor.register_check(observability::make_file_check(
      "keys_present", paths.keys_dir / identity::SIGNING_KEY_FILE, std::filesystem::perms(0600),
      "run `hearthnet init`, or chmod 600 the key file")));

  HN_TRY(doctor.register_check({"keys_loadable", [paths] {
    auto keys = identity::load_keys(paths.keys_dir);
    if (!keys) {
      const bool perms = keys.error().code == ErrorCode::keys_permissions;
      return check_fail(keys.error().to_string(),
                        perms ? "chmod 600 " + (paths.keys_dir / identity::SIGNING_KEY_FILE).string()
                              : std::string("run: hearthnet init"));
    }
    return check_ok("Ed25519, 32 bytes, node " + keys->short_id());
  }}));

  HN_TRY(doctor.register_check({"community_present", [paths, community_id, fix_init] {
    if (!community_id) return check_fail("no community configured", fix_init);
    auto manifest = identity::load_community_manifest(paths.community_dir);
    if (!manifest) return check_fail(manifest.error().to_string(), fix_init);
    return check_ok("'" + manifest->name + "', " + std::to_string(manifest->members.size()) +
                    " member(s), head lamport " + std::to_string(manifest->head_lamport));
  }}));

  HN_TRY(doctor.register_check({"event_log_writable", [paths, community_id, fix_init] {
    if (!community_id) return check_fail("no community configured", fix_init);
    std::error_code ec;
    if (!std::filesystem::exists(paths.events_db, ec)) {
      return check_fail("no event log at " + paths.events_db.string(), fix_init);
    }
    auto status = probe_writable(paths.events_db);
    if (!status) return check_fail(status.error().to_string(), "check permissions and free space");
    return check_ok(paths.events_db.string());
  }}));

  auto node = running_node(home);
  HN_TRY(doctor.register_check(make_mdns_socket_check(home)));
  HN_TRY(doctor.register_check(make_udp_multicast_check(home, node)));
  HN_TRY(doctor.register_check(make_transport_port_check(home, node)));
  HN_TRY(doctor.register_check(make_capability_check(node)));
  HN_TRY(doctor.register_check(observability::make_disk_space_check(paths.home)));
  HN_TRY(doctor.register_check(observability::make_clock_sanity_check(SystemClock::instance())));
  HN_TRY(doctor.register_check(make_llm_backend_check(home, node)));
  HN_TRY(doctor.register_check(make_error_rate_check(node)));
  return {};
}

}  // namespace hn::node
