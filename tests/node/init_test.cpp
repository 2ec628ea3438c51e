// init_test.cpp — the init flow: genesis event, manifest derived from the log, idempotence,
// finishing a run that stopped half-way.
#include "node/init.h"

#include <gtest/gtest.h>

#include "events/event_log.h"
#include "identity/manifest.h"
#include "support/test_support.h"

namespace hn::node {
namespace {

config::Env env_for(const test::TempDir& dir) {
  return config::Env({{"HEARTHNET_HOME", dir.path().string()}, {"HOME", dir.path().string()}});
}

TEST(Init, FoundsCommunityAsFirstEventAndDerivesManifest) {
  test::TempDir dir;
  auto env = env_for(dir);
  auto home = open_home(std::nullopt, env);
  ASSERT_TRUE(home.has_value());
  auto report = initialise_node(*home, {.display_name = "alpha", .profile = Profile::spark}, env);
  ASSERT_TRUE(report.has_value()) << report.error().to_string();
  EXPECT_TRUE(report->created_keys);
  EXPECT_TRUE(report->created_community);
  EXPECT_EQ(report->community_id, report->node_id.str());

  auto keys = identity::load_keys(home->paths.keys_dir);
  ASSERT_TRUE(keys.has_value());
  auto log = events::EventLog::open(home->paths.events_db, CommunityId(report->community_id), *keys);
  ASSERT_TRUE(log.has_value());
  auto all = (*log)->read_events();
  ASSERT_TRUE(all.has_value());
  // M13 §3.1: the genesis, then the root device's own invite and join.
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].event_type, events::EventType::community_created);
  EXPECT_EQ((*all)[1].event_type, events::EventType::community_member_invited);
  EXPECT_EQ((*all)[1].data["invitee_node_id"], report->node_id.str());
  EXPECT_EQ((*all)[1].data["initial_level"], "trusted");  // CONTRACT §4.17: never anchor
  EXPECT_EQ((*all)[2].event_type, events::EventType::community_member_joined);
  EXPECT_EQ((*all)[2].data["invite_event_id"], (*all)[1].event_id.str());
  EXPECT_EQ((*all)[2].data["node_manifest"]["node_id"], report->node_id.str());
  for (const auto& e : *all) EXPECT_EQ(e.author, report->node_id);

  auto manifest = identity::load_community_manifest(home->paths.community_dir);
  ASSERT_TRUE(manifest.has_value());
  EXPECT_EQ(manifest->level_of(report->node_id), TrustLevel::anchor);
  EXPECT_EQ(manifest->head_lamport, 1);
}

TEST(Init, SecondRunChangesNothing) {
  test::TempDir dir;
  auto env = env_for(dir);
  auto home = open_home(std::nullopt, env);
  ASSERT_TRUE(initialise_node(*home, {}, env).has_value());
  auto again_home = open_home(std::nullopt, env);
  ASSERT_TRUE(again_home->config_exists);
  auto again = initialise_node(*again_home, {}, env);
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->created_keys);
  EXPECT_FALSE(again->created_community);
  EXPECT_FALSE(again->created_config);
  auto keys = identity::load_keys(again_home->paths.keys_dir);
  auto log = events::EventLog::open(again_home->paths.events_db, CommunityId(again->community_id), *keys);
  EXPECT_EQ(*(*log)->count(), 3);  // created, invited, joined — once
}

// A run killed right after the genesis: the next one writes the root's invite and join.
TEST(Init, WritesTheRootsMembershipEventsAfterAGenesisOnly) {
  test::TempDir dir;
  auto env = env_for(dir);
  auto home = open_home(std::nullopt, env);
  auto keys = identity::load_or_generate_keys(home->paths.keys_dir);
  ASSERT_TRUE(keys.has_value());
  const CommunityId community(keys->node_id().str());
  {
    home->config.community.community_id = community.str();
    ASSERT_TRUE(refresh_paths(*home, env));
    auto log = events::EventLog::open(home->paths.events_db, community, *keys);
    ASSERT_TRUE(log.has_value());
    ASSERT_TRUE((*log)->append_local(events::EventType::community_created,
                                     Json{{"name", "n"}, {"founder_node_id", community.str()},
                                          {"policy", identity::CommunityPolicy{}.to_json()}}));
  }
  auto report = initialise_node(*home, {}, env);
  ASSERT_TRUE(report.has_value()) << report.error().to_string();
  auto log = events::EventLog::open(home->paths.events_db, community, *keys);
  auto all = (*log)->read_events();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[1].event_type, events::EventType::community_member_invited);
  EXPECT_EQ((*all)[2].event_type, events::EventType::community_member_joined);
}

TEST(Init, FinishesARunKilledBeforeTheConfigWasWritten) {
  test::TempDir dir;
  auto env = env_for(dir);
  auto home = open_home(std::nullopt, env);
  ASSERT_TRUE(initialise_node(*home, {}, env).has_value());
  // Simulate a kill after the genesis event but before config and manifest landed.
  std::filesystem::remove(home->paths.config_file);
  std::filesystem::remove(home->paths.community_manifest);
  auto fresh = open_home(std::nullopt, env);
  auto report = initialise_node(*fresh, {}, env);
  ASSERT_TRUE(report.has_value()) << report.error().to_string();
  EXPECT_FALSE(report->created_keys);
  auto manifest = identity::load_community_manifest(fresh->paths.community_dir);
  ASSERT_TRUE(manifest.has_value());
  EXPECT_EQ(manifest->head_lamport, 1);  // still one genesis event, not two
}

}  // namespace
}  // namespace hn::node
