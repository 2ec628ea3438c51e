// init.cpp — the init flow.
#include "node/init.h"

#include <sys/sysinfo.h>
#include <unistd.h>

#include <thread>

#include "events/community_view.h"
#include "events/event_log.h"
#include "events/replay.h"
#include "identity/keys.h"
#include "core/time.h"
#include "identity/manifest.h"

namespace hn::node {
std::string default_display_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "hearthnet-node";
  return std::string(buf).substr(0, 58);
}

Profile detect_profile() {
  struct sysinfo si {};
  double ram_gib = 0;
  if (::sysinfo(&si) == 0) ram_gib = static_cast<double>(si.totalram) * si.mem_unit / (1024.0 * 1024 * 1024);
  const unsigned cores = std::thread::hardware_concurrency();
  if (ram_gib >= 16 && cores >= 8) return Profile::anchor;
  if (ram_gib > 0 && ram_gib < 4) return Profile::spark;
  return Profile::hearth;
}

namespace {

// M13 §3.1 create_community step 4: the root device's own community.member.invited and
// .joined, written once after the genesis (a run killed half-way writes what is missing).
// The invite names `trusted`, the highest level an invite may grant (CONTRACT §4.17); the
// root is an anchor by community.created, and the view leaves a member's level alone.
Status record_root_membership(events::EventLog& log, const identity::KeyPair& keys,
                              const config::Config& cfg) {
  const std::string root = keys.node_id().str();
  std::optional<EventId> invite_id;
  bool joined = false;
  events::ReplayOptions options;
  options.types = {events::EventType::community_member_invited,
                   events::EventType::community_member_joined};
  HN_TRY(log.replay(options, [&](const events::Event& e) {
    if (e.author.str() != root) return true;
    if (e.event_type == events::EventType::community_member_joined) {
      joined = true;
    } else if (auto it = e.data.find("invitee_node_id");
               !invite_id && it != e.data.end() && it->is_string() && *it == root) {
      invite_id = e.event_id;
    }
    return true;
  }));
  if (!invite_id) {
    Json data = {{"invitee_node_id", root},
                 {"display_name", cfg.node.display_name},
                 {"initial_level", "trusted"},
                 {"expires_at", format_rfc3339(SystemClock::instance().now_seconds() + 86400)}};
    HN_TRY_ASSIGN(auto invited,
                  log.append_local(events::EventType::community_member_invited, std::move(data)));
    invite_id = invited.event_id;
  }
  if (joined) return {};
  identity::NodeManifestInput input;
  input.community_id = CommunityId(root);
  input.display_name = cfg.node.display_name;
  input.profile = cfg.node.profile;
  const auto manifest = identity::build_node_manifest(keys, input);
  HN_TRY(log.append_local(events::EventType::community_member_joined,
                          Json{{"invite_event_id", invite_id->str()},
                               {"node_manifest", manifest.to_json()}}));
  return {};
}

}  // namespace

Status refresh_community_manifest(const NodeHome& home, const identity::KeyPair& keys) {
  if (!home.config.community.community_id) {
    return make_error(ErrorCode::not_found, "this node belongs to no community; run `hearthnet init`");
  }
  CommunityId community(*home.config.community.community_id);
  HN_TRY_ASSIGN(auto log, events::EventLog::open(home.paths.events_db, community, keys));
  events::CommunityView view;
  events::ReplayEngine engine(*log);
  HN_TRY(engine.register_view(view, events::CommunityView::event_types()));
  HN_TRY(engine.rebuild_all());
  if (!view.state().created) {
    return make_error(ErrorCode::not_found, "the community log holds no community.created event");
  }
  const Json state = view.snapshot_state();
  HN_TRY(identity::load_or_regenerate(home.paths.community_dir, &keys, &state));
  return {};
}

Result<InitReport> initialise_node(NodeHome& home, const InitOptions& options,
                                   const config::Env& env) {
  InitReport report;
  auto& cfg = home.config;

  // 1. Identity (M01 §5.1).
  const bool had_keys = identity::load_keys(home.paths.keys_dir).has_value();
  HN_TRY_ASSIGN(identity::KeyPair keys, identity::load_or_generate_keys(home.paths.keys_dir));
  report.created_keys = !had_keys;
  report.node_id = keys.node_id();
  report.short_id = keys.short_id();

  // 2. Node settings: explicit options win, then what the config has, then defaults.
  if (options.display_name) cfg.node.display_name = *options.display_name;
  if (cfg.node.display_name.empty()) cfg.node.display_name = default_display_name();
  if (options.profile) {
    cfg.node.profile = *options.profile;
  } else if (!home.config_exists) {
    cfg.node.profile = detect_profile();
  }
  report.display_name = cfg.node.display_name;
  report.profile = cfg.node.profile;

  // 3. Community: found one with this node as root when the config names none.
  if (!cfg.community.community_id && options.found_community) {
    cfg.community.community_id = keys.node_id().str();  // CONTRACT §6.2: community_id = root key
    report.created_community = true;
  }
  report.community_id = cfg.community.community_id.value_or("");
  HN_TRY(refresh_paths(home, env));

  const bool founder = report.community_id == keys.node_id().str();
  if (founder) {
    HN_TRY_ASSIGN(auto log, events::EventLog::open(home.paths.events_db,
                                                   CommunityId(report.community_id), keys));
    HN_TRY_ASSIGN(auto head, log->head());
    if (head.lamport == 0) {  // the genesis event (CONTRACT §7.2 community.created)
      report.community_name = options.community_name.value_or(cfg.node.display_name + "'s community");
      Json data = {{"name", report.community_name},
                   {"founder_node_id", keys.node_id().str()},
                   {"policy", identity::CommunityPolicy{}.to_json()}};
      HN_TRY(log->append_local(events::EventType::community_created, std::move(data)));
      report.created_community = true;
    }
    HN_TRY(record_root_membership(*log, keys, cfg));
  }

  // 4. Config on disk (atomic), then the manifest derived from the log.
  HN_TRY(config::save_config(cfg, home.paths.config_file));
  report.created_config = !home.config_exists;
  home.config_exists = true;
  if (founder) {
    HN_TRY(refresh_community_manifest(home, keys));
    auto manifest = identity::load_community_manifest(home.paths.community_dir);
    if (manifest) report.community_name = manifest->name;
  }
  return report;
}

}  // namespace hn::node
