// paths_test.cpp — HEARTHNET_HOME and XDG path resolution (GLOSSARY "File paths", X04 §4
// resolve_paths), with the environment passed in as a value.
#include "config/paths.h"

#include <gtest/gtest.h>

namespace hn::config {
namespace {

const std::string COMMUNITY = "ed25519:" + std::string(43, 'Q');

TEST(ConfigPaths, HearthnetHomeHoldsEverything) {
  Env env({{"HEARTHNET_HOME", "/hn"}, {"HOME", "/home/u"}, {"XDG_DATA_HOME", "/xdg/data"}});
  Config cfg = default_config();
  cfg.community.community_id = COMMUNITY;
  auto p = resolve_paths(cfg, env);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->home, "/hn");
  EXPECT_EQ(p->config_file, "/hn/config.toml");
  EXPECT_EQ(p->keys_dir, "/hn/keys");
  EXPECT_EQ(p->state_dir, "/hn/state");
  EXPECT_EQ(p->community_dir, "/hn/state/communities/ed25519_" + std::string(43, 'Q'));
  EXPECT_EQ(p->events_db, p->community_dir / "events.sqlite");
  EXPECT_EQ(p->snapshots_dir, p->community_dir / "snapshots");
  EXPECT_EQ(p->community_manifest, p->community_dir / "manifest.json");
  EXPECT_EQ(p->blobs_dir, "/hn/blobs");
  EXPECT_EQ(p->cache_dir, "/hn/cache");
  EXPECT_EQ(p->corpora_dir, "/hn/rag");
  EXPECT_EQ(p->logs_dir, "/hn/logs");
  EXPECT_EQ(p->run_dir, "/hn/run");
  EXPECT_EQ(p->control_socket, "/hn/run/control.sock");
  EXPECT_EQ(p->control_port_file, "/hn/run/control.port");
}

TEST(ConfigPaths, HearthnetHomeNeedsNoHome) {
  Env env({{"HEARTHNET_HOME", "/hn"}});
  auto p = resolve_paths(default_config(), env);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->community_dir, "/hn/state/communities/local");
}

TEST(ConfigPaths, XdgVariables) {
  Env env({{"HOME", "/home/u"},
           {"XDG_CONFIG_HOME", "/x/config"},
           {"XDG_DATA_HOME", "/x/data"},
           {"XDG_STATE_HOME", "/x/state"},
           {"XDG_CACHE_HOME", "/x/cache"},
           {"XDG_RUNTIME_DIR", "/run/user/1000"}});
  Config cfg = default_config();
  cfg.community.community_id = COMMUNITY;
  auto p = resolve_paths(cfg, env);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->config_file, "/x/config/hearthnet/config.toml");
  EXPECT_EQ(p->home, "/x/data/hearthnet");
  EXPECT_EQ(p->keys_dir, "/x/data/hearthnet/keys");
  // GLOSSARY: <DATA>/communities/<community_id>/events.sqlite
  EXPECT_EQ(p->events_db,
            "/x/data/hearthnet/communities/ed25519_" + std::string(43, 'Q') + "/events.sqlite");
  EXPECT_EQ(p->blobs_dir, "/x/data/hearthnet/blobs");
  EXPECT_EQ(p->corpora_dir, "/x/data/hearthnet/rag");
  EXPECT_EQ(p->logs_dir, "/x/state/hearthnet/logs");
  EXPECT_EQ(p->run_dir, "/run/user/1000/hearthnet");
}

TEST(ConfigPaths, XdgFallbacksToHome) {
  // Empty and relative XDG values are ignored (XDG Base Directory spec).
  Env env({{"HOME", "/home/u"}, {"XDG_DATA_HOME", ""}, {"XDG_CONFIG_HOME", "relative/cfg"}});
  auto p = resolve_paths(default_config(), env);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->config_file, "/home/u/.config/hearthnet/config.toml");
  EXPECT_EQ(p->home, "/home/u/.local/share/hearthnet");
  EXPECT_EQ(p->keys_dir, "/home/u/.local/share/hearthnet/keys");
  EXPECT_EQ(p->community_dir, "/home/u/.local/share/hearthnet/communities/local");
  EXPECT_EQ(p->cache_dir, "/home/u/.cache/hearthnet");
  EXPECT_EQ(p->logs_dir, "/home/u/.local/state/hearthnet/logs");
  EXPECT_EQ(p->run_dir, "/home/u/.local/state/hearthnet/run");
}

TEST(ConfigPaths, NoHomeIsPathResolutionError) {
  auto p = resolve_paths(default_config(), Env());
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code, ErrorCode::config_error);
  EXPECT_EQ(p.error().detail["reason"], "path_resolution");
  auto c = resolve_config_path(std::nullopt, Env({{"HOME", "not/absolute"}}));
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().detail["reason"], "path_resolution");
}

TEST(ConfigPaths, ExplicitConfigPathsOverride) {
  Env env({{"HEARTHNET_HOME", "/hn"}, {"HOME", "/home/u"}});
  Config cfg = default_config();
  cfg.identity.keys_dir = "/secure/keys";
  cfg.community.state_dir = "custom-state";  // relative → against the data root
  cfg.events.snapshots_dir = "~/snaps";
  cfg.file.blobs_dir = "/big/disk/blobs";
  cfg.rag.corpora_dir = "/fast/corpora";
  cfg.observability.log_dir = "/var/log/hearthnet";
  auto p = resolve_paths(cfg, env);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->keys_dir, "/secure/keys");
  EXPECT_EQ(p->community_dir, "/hn/custom-state");
  EXPECT_EQ(p->events_db, "/hn/custom-state/events.sqlite");
  EXPECT_EQ(p->snapshots_dir, "/home/u/snaps");
  EXPECT_EQ(p->blobs_dir, "/big/disk/blobs");
  EXPECT_EQ(p->corpora_dir, "/fast/corpora");
  EXPECT_EQ(p->logs_dir, "/var/log/hearthnet");
}

TEST(ConfigPaths, NodeDataDirReplacesDataRoot) {
  Env env({{"HOME", "/home/u"}});
  Config cfg = default_config();
  cfg.node.data_dir = "~/.hearthnet";
  auto p = resolve_paths(cfg, env);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->home, "/home/u/.hearthnet");
  EXPECT_EQ(p->keys_dir, "/home/u/.hearthnet/keys");
  EXPECT_EQ(p->blobs_dir, "/home/u/.hearthnet/blobs");
  EXPECT_EQ(p->logs_dir, "/home/u/.local/state/hearthnet/logs");  // not data
}

TEST(ConfigPaths, ResolveConfigPathPrecedence) {
  Env env({{"HEARTHNET_HOME", "/hn"}, {"HOME", "/home/u"}});
  EXPECT_EQ(*resolve_config_path(fs::path("/etc/hn.toml"), env), "/etc/hn.toml");
  EXPECT_EQ(*resolve_config_path(fs::path("~/my.toml"), env), "/home/u/my.toml");
  EXPECT_EQ(*resolve_config_path(std::nullopt, env), "/hn/config.toml");
  env.unset("HEARTHNET_HOME");
  EXPECT_EQ(*resolve_config_path(std::nullopt, env), "/home/u/.config/hearthnet/config.toml");
  auto rel = resolve_config_path(fs::path("rel.toml"), env);
  ASSERT_TRUE(rel.has_value());
  EXPECT_TRUE(rel->is_absolute());
  EXPECT_EQ(rel->filename(), "rel.toml");
}

TEST(ConfigPaths, ExplicitConfigFileIsReported) {
  Env env({{"HOME", "/home/u"}});
  auto p = resolve_paths(default_config(), env, fs::path("/etc/hearthnet.toml"));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->config_file, "/etc/hearthnet.toml");
}

TEST(ConfigPaths, WithResolvedPathsFillsEmptyFieldsIdempotently) {
  Env env({{"HOME", "/home/u"}});
  Config cfg = default_config();
  cfg.file.blobs_dir = "/big/blobs";
  auto p = resolve_paths(cfg, env);
  ASSERT_TRUE(p.has_value());
  Config filled = with_resolved_paths(cfg, *p);
  EXPECT_EQ(filled.identity.keys_dir, p->keys_dir);
  EXPECT_EQ(filled.community.state_dir, p->community_dir);
  EXPECT_EQ(filled.file.blobs_dir, "/big/blobs");
  EXPECT_EQ(filled.observability.log_dir, p->logs_dir);
  auto p2 = resolve_paths(filled, env);
  ASSERT_TRUE(p2.has_value());
  EXPECT_EQ(*p2, *p);
  EXPECT_EQ(with_resolved_paths(filled, *p2), filled);
  EXPECT_TRUE(validate(filled).has_value());
}

TEST(ConfigPaths, CommunityDirNameIsSafe) {
  EXPECT_EQ(community_dir_name(std::nullopt), "local");
  EXPECT_EQ(community_dir_name(std::string("ed25519:ab-_c")), "ed25519_ab-_c");
  EXPECT_EQ(community_dir_name(std::string("../x")), ".._x");
  EXPECT_EQ(community_dir_name(std::string("..")), "local");
}

TEST(ConfigPaths, EnvSnapshotOfProcess) {
  Env env = Env::from_process();
  // PATH is set in any test environment; the snapshot sees it without mutating anything.
  EXPECT_TRUE(env.get("PATH").has_value());
  EXPECT_FALSE(Env().get("PATH").has_value());
}

}  // namespace
}  // namespace hn::config
