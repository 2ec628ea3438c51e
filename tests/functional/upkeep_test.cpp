// upkeep_test.cpp — a real node killed with SIGKILL while it builds snapshots (one per event:
// snapshot_lag_lamport = 1) comes back with its whole log, and every snapshot file it left
// parses and verifies: a write is a temp file renamed into place (X02 §5.4, core/file_util).
// A member who joins after the founder pruned hears `pruned`, adopts the founder's snapshot
// (GET /sync/v1/snapshot, signed by an anchor of its own view) and its community view equals
// the founder's.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "events/snapshot.h"
#include "identity/keys.h"
#include "support/node_fixture.h"
#include "support/test_node.h"
#include "support/test_support.h"

namespace hn {
namespace {

namespace fs = std::filesystem;

// Sets [events] `name` in the config `init` wrote (every key is there).
void set_events_key(const fs::path& home, const std::string& name, int value) {
  const fs::path file = home / "config.toml";
  std::string text = test::read_text(file);
  const std::string key = "\n" + name + " = ";
  const auto at = text.find(key);
  ASSERT_NE(at, std::string::npos) << text;
  const auto end = text.find('\n', at + 1);
  text.replace(at, end - at, key + std::to_string(value));
  std::ofstream(file, std::ios::trunc) << text;
}

void set_snapshot_lag(const fs::path& home, int lag) { set_events_key(home, "snapshot_lag_lamport", lag); }

fs::path find_snapshots_dir(const fs::path& home) {
  for (const auto& e : fs::recursive_directory_iterator(home)) {
    if (e.is_directory() && e.path().filename() == "snapshots") return e.path();
  }
  return {};
}

TEST(NodeUpkeep, KilledWhileWritingSnapshotsRestartsWithTheWholeLogAndValidSnapshots) {
  test::NodeProcess node({.name = "keeper"});
  set_snapshot_lag(node.home(), 1);
  std::string error;
  ASSERT_TRUE(node.start(&error)) << error;
  const Json before = test::status_of(node);
  const std::int64_t genesis = before["event_log"]["events"];
  auto emitted = node.cli({"debug", "emit", "300"});
  ASSERT_EQ(emitted.exit_code, 0) << emitted.err;
  node.stop(SIGKILL);  // wherever the upkeep pass is: mid-snapshot or not

  ASSERT_TRUE(node.start(&error)) << error;
  const Json after = test::status_of(node);
  EXPECT_EQ(after["event_log"]["events"], genesis + 300);  // acknowledged appends survive
  EXPECT_EQ(after["event_log"]["upkeep"]["snapshots_skipped"], 0);
  EXPECT_EQ(after["community"]["member_count"], 1);

  // A snapshot was restored, or (killed before the first one) is built now the head is due.
  EXPECT_TRUE(test::eventually(
      [&] { return !test::status_of(node)["event_log"]["upkeep"]["snapshot_covers"].is_null(); }));
  const fs::path dir = find_snapshots_dir(node.home());
  ASSERT_FALSE(dir.empty());
  const auto keys = identity::load_keys(node.home() / "keys");
  ASSERT_TRUE(keys.has_value()) << keys.error().to_string();
  const CommunityId community(after["community"]["community_id"].get<std::string>());
  const std::vector<NodeId> trusted{keys->node_id()};
  events::SnapshotStore store(dir, community);
  const auto lamports = store.list();
  ASSERT_TRUE(lamports.has_value());
  EXPECT_FALSE(lamports->empty());
  for (Lamport l : *lamports) {
    auto snap = events::read_snapshot(store.path_for(l), community, trusted);
    EXPECT_TRUE(snap.has_value()) << l << ": " << snap.error().to_string();
  }
  EXPECT_EQ(node.stop(SIGTERM), 0) << node.output();
}

TEST(NodeUpkeep, AMemberJoiningAfterPruningAdoptsTheSnapshotAndConverges) {
  test::NodeProcess founder({.name = "keeper"});
  set_snapshot_lag(founder.home(), 5);
  set_events_key(founder.home(), "retention_days", 0);
  std::string error;
  ASSERT_TRUE(founder.start(&error)) << error;
  auto emitted = founder.cli({"debug", "emit", "12"});
  ASSERT_EQ(emitted.exit_code, 0) << emitted.err;
  // Alone, nobody's acknowledgement is needed: covered events go at once.
  ASSERT_TRUE(test::eventually([&] {
    const Json up = test::status_of(founder)["event_log"]["upkeep"];
    return up.contains("pruned") && up["pruned"].get<std::int64_t>() > 0;
  })) << test::status_of(founder).dump();

  test::NodeProcess late({.name = "late",
                          .discovery = std::string(test::NO_DISCOVERY) + "bootstrap_peers = [\"127.0.0.1:" +
                                       std::to_string(founder.port()) + "\"]\n",
                          .found_community = false});
  late.add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=1");
  ASSERT_TRUE(test::join(founder, late));
  ASSERT_TRUE(late.start(&error)) << error;
  // Told `pruned`, it adopts the founder's snapshot: the one the founder serves.
  ASSERT_TRUE(test::eventually([&] {
    return test::status_of(late)["event_log"]["upkeep"]["snapshots_adopted"] == 1;
  })) << test::status_of(late).dump() << late.output();
  const Json late_up = test::status_of(late)["event_log"]["upkeep"];
  const Json founder_up = test::status_of(founder)["event_log"]["upkeep"];
  EXPECT_EQ(late_up["snapshot_adopted"], founder_up["snapshot_covers"]);
  // Both views agree (members, levels, revocations).
  EXPECT_TRUE(test::eventually([&] {
    return test::status_of(late)["community"] == test::status_of(founder)["community"];
  })) << test::status_of(late)["community"].dump() << test::status_of(founder)["community"].dump();
  EXPECT_EQ(test::status_of(late)["community"]["member_count"], 2);
  EXPECT_EQ(late.stop(SIGTERM), 0) << late.output();
  EXPECT_EQ(founder.stop(SIGTERM), 0) << founder.output();
}

}  // namespace
}  // namespace hn
