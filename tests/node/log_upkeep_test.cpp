// log_upkeep_test.cpp — the node keeps its event log (X02 §5.4, CONTRACT §7.5): it builds a
// snapshot once the head is snapshot_lag_lamport past the last one, starts from the newest
// usable snapshot (views equal to a full replay, fewer events replayed), ignores a damaged
// or foreign-signed snapshot (full replay), and prunes covered events of a node without
// peers while keeping the community's governance events.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "events/community_view.h"
#include "events/event_log.h"
#include "events/replay.h"
#include "events/snapshot.h"
#include "node/init.h"
#include "node/local_client.h"
#include "node/node.h"
#include "support/test_support.h"

namespace hn::node {
namespace {

NodeHome founded_home(const std::filesystem::path& dir, const std::string& events_section) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.toml") << "[transport]\nhost = \"127.0.0.1\"\nport = 0\n"
                                     << "[discovery]\nmdns_enabled = false\nudp_enabled = false\n"
                                     << "[events]\n" << events_section;
  config::Env env({{"HEARTHNET_HOME", dir.string()}, {"HOME", dir.string()}});
  auto home = open_home(std::nullopt, env);
  EXPECT_TRUE(home.has_value());
  auto report = initialise_node(*home, {.display_name = "keeper"}, env);
  EXPECT_TRUE(report.has_value()) << report.error().to_string();
  return *home;
}

NodeOptions test_options() {
  NodeOptions o;
  o.init_logging = false;
  o.handle_signals = false;
  return o;
}

identity::KeyPair node_keys(const NodeHome& home) { return identity::load_keys(home.paths.keys_dir).value(); }

std::unique_ptr<events::EventLog> open_log(const NodeHome& home) {
  return events::EventLog::open(home.paths.events_db, CommunityId(*home.config.community.community_id),
                                node_keys(home))
      .value();
}

// n new members, each an invite by the founder and the invitee's join (2 events each).
void add_members(const NodeHome& home, int n, std::uint8_t first_seed) {
  auto log = open_log(home);
  for (int i = 0; i < n; ++i) {
    identity::Seed seed{};
    seed.fill(static_cast<std::uint8_t>(first_seed + i));
    auto member = identity::KeyPair::from_seed(seed).value();
    ASSERT_TRUE(log->append_local(events::EventType::community_member_invited,
                                  {{"invitee_node_id", member.node_id().str()}}));
    ASSERT_TRUE(log->append_local(events::EventType::community_member_joined, Json::object(), member));
  }
}

// The community view of a snapshot-free replay of the home's whole log.
events::CommunityState full_replay(const NodeHome& home) {
  auto log = open_log(home);
  events::ReplayEngine engine(*log);
  events::CommunityView view;
  EXPECT_TRUE(engine.register_view(view, events::CommunityView::event_types()));
  return view.state();
}

std::vector<std::string> manifest_members(const Node& node) {
  std::vector<std::string> out;
  const auto manifest = node.community_manifest();
  if (!manifest) return out;
  for (const auto& m : manifest->members) out.push_back(m.node_id.str());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> state_members(const events::CommunityState& s) {
  std::vector<std::string> out;
  for (const auto& [id, m] : s.members) out.push_back(id);
  return out;
}

class Running {
 public:
  explicit Running(Node& node) : m_node(node) {
    EXPECT_TRUE(node.start().has_value());
    m_thread = std::thread([this] { (void)m_node.run(); });
  }
  ~Running() {
    m_node.stop();
    m_thread.join();
  }

 private:
  Node& m_node;
  std::thread m_thread;
};

Json upkeep_of(const Node& node) { return node.status()["event_log"]["upkeep"]; }

TEST(NodeLogUpkeep, BuildsSnapshotsEveryLagAndStartsFromTheNewest) {
  test::TempDir dir;
  auto home = founded_home(dir.path(), "snapshot_lag_lamport = 5\n");
  add_members(home, 5, 40);  // head: genesis events + 10
  Lamport covers = 0;
  {
    auto node = Node::open(home, test_options()).value();
    EXPECT_TRUE(upkeep_of(*node)["snapshot_restored"].is_null());
    Running running(*node);
    // Due at start (the head is ≥ 5 past nothing): built on the sync queue.
    ASSERT_TRUE(test::eventually([&] { return upkeep_of(*node)["snapshots_built"] == 1; }));
    const Lamport head = node->status()["event_log"]["head_lamport"];
    EXPECT_EQ(upkeep_of(*node)["snapshot_covers"], head);
    // Five more events (debug emit) put the head 5 past it: a second snapshot.
    auto client = LocalClient::connect(home).value();
    auto emitted = client->request("POST", NODE_DEBUG_EMIT_PATH, Json{{"count", 5}});
    ASSERT_TRUE(emitted.has_value() && emitted->status == 200);
    ASSERT_TRUE(test::eventually([&] { return upkeep_of(*node)["snapshots_built"] == 2; }));
    covers = upkeep_of(*node)["snapshot_covers"];
    EXPECT_EQ(covers, head + 5);
  }
  events::SnapshotStore store(home.paths.snapshots_dir, CommunityId(*home.config.community.community_id));
  EXPECT_EQ(store.list()->size(), 2u);

  add_members(home, 1, 90);  // two events after the snapshot
  const auto full = full_replay(home);
  auto node = Node::open(home, test_options()).value();
  EXPECT_EQ(upkeep_of(*node)["snapshot_restored"], covers);
  EXPECT_EQ(upkeep_of(*node)["replayed_at_start"], 2);  // community events after the snapshot
  EXPECT_EQ(manifest_members(*node), state_members(full));
  EXPECT_EQ(node->status()["community"]["member_count"], full.members.size());
}

TEST(NodeLogUpkeep, DamagedOrForeignSnapshotMeansAFullReplay) {
  test::TempDir dir;
  auto home = founded_home(dir.path(), "snapshot_lag_lamport = 4\n");
  add_members(home, 4, 40);
  {
    auto node = Node::open(home, test_options()).value();
    Running running(*node);
    ASSERT_TRUE(test::eventually([&] { return upkeep_of(*node)["snapshots_built"] == 1; }));
  }
  const CommunityId community(*home.config.community.community_id);
  events::SnapshotStore store(home.paths.snapshots_dir, community);
  const Lamport good = store.list()->back();
  // The good one is damaged in place; a newer one is signed by a key that is not ours.
  std::ofstream(store.path_for(good), std::ios::trunc) << "{\"schema_version\": 1, \"sta";
  identity::Seed seed{};
  seed.fill(7);
  auto stranger = identity::KeyPair::from_seed(seed).value();
  auto foreign = events::build_snapshot(Json{{"community", Json::object()}}, community, good + 1, stranger);
  ASSERT_TRUE(foreign.has_value());
  ASSERT_TRUE(store.write(*foreign));

  const auto full = full_replay(home);
  auto node = Node::open(home, test_options()).value();
  EXPECT_TRUE(upkeep_of(*node)["snapshot_restored"].is_null());
  EXPECT_EQ(upkeep_of(*node)["snapshots_skipped"], 2);
  EXPECT_EQ(upkeep_of(*node)["replayed_at_start"], node->status()["event_log"]["events"]);
  EXPECT_EQ(manifest_members(*node), state_members(full));
}

TEST(NodeLogUpkeep, RetentionPrunesCoveredEventsButKeepsGovernance) {
  test::TempDir dir;
  // No other member: nobody's acknowledgement is needed; retention 0 days: covered is enough.
  auto home = founded_home(dir.path(), "snapshot_lag_lamport = 5\nretention_days = 0\n");
  auto node = Node::open(home, test_options()).value();
  const std::int64_t governance = node->status()["event_log"]["events"];
  {
    Running running(*node);
    auto client = LocalClient::connect(home).value();
    auto emitted = client->request("POST", NODE_DEBUG_EMIT_PATH, Json{{"count", 12}});
    ASSERT_TRUE(emitted.has_value() && emitted->status == 200);
    ASSERT_TRUE(test::eventually([&] { return upkeep_of(*node)["pruned"].get<std::int64_t>() > 0; }));
    const std::int64_t pruned = upkeep_of(*node)["pruned"];
    const std::int64_t left = node->status()["event_log"]["events"];
    EXPECT_EQ(left + pruned, governance + 12);
    // Every governance (community.*) event is still in the log.
    auto log = open_log(home);
    std::int64_t kept = 0;
    const auto stored = log->read_events().value();
    for (const auto& e : stored) {
      if (events::to_string(e.event_type).starts_with("community.")) ++kept;
    }
    EXPECT_EQ(kept, governance);
  }
  // A restart still knows the community.
  node.reset();
  auto again = Node::open(home, test_options()).value();
  EXPECT_EQ(again->status()["community"]["member_count"], 1);
}

}  // namespace
}  // namespace hn::node
