// snapshot_test.cpp — signed snapshots (X02 §3.5, §9 test_snapshot_roundtrip; CONTRACT §7.5).
#include "events/snapshot.h"

#include <fstream>

#include <gtest/gtest.h>

#include "core/file_util.h"
#include "events/community_view.h"
#include "events_test_util.h"

namespace hn::events {
namespace {

using test::key_from_byte;
using test::make_signed;

class SnapshotTest : public test::LogFixture {
 protected:
  void seed_community(EventLog& log) {
    auto alice = key_from_byte(11);
    ASSERT_TRUE(log.append_local(EventType::community_created,
                                 {{"name", "Demo"}, {"founder_node_id", keys.node_id().str()}, {"policy", Json::object()}}));
    ASSERT_TRUE(log.append_local(EventType::community_member_invited, {{"invitee_node_id", alice.node_id().str()}}));
    ASSERT_TRUE(log.append_received(make_signed(alice, community, EventType::community_member_joined, 3, {})));
  }
  std::vector<NodeId> trusted() const { return {key_from_byte(99).node_id(), keys.node_id()}; }
};

TEST_F(SnapshotTest, BuildWriteRestoreRoundTrip) {
  auto log = open_log();
  ReplayEngine engine(*log);
  CommunityView view;
  ASSERT_TRUE(engine.register_view(view, CommunityView::event_types()));
  seed_community(*log);

  auto snap = build_snapshot(engine, community, keys, clock);
  ASSERT_TRUE(snap.has_value()) << snap.error().to_string();
  EXPECT_EQ(snap->covers_events_up_to, 3);  // created 1, invited 2, joined received at 3
  SnapshotStore store(dir / "snapshots", community);
  ASSERT_TRUE(store.write(*snap));
  auto lamports = store.list();
  ASSERT_EQ(*lamports, std::vector<Lamport>{snap->lamport});

  // A new node: empty log, restore from the snapshot, then live events continue.
  hn::test::TempDir other;
  auto fresh = *EventLog::open(other / "e.db", community, keys);
  ReplayEngine fresh_engine(*fresh);
  CommunityView fresh_view;
  ASSERT_TRUE(fresh_engine.register_view(fresh_view, CommunityView::event_types()));
  auto restored = restore_from_snapshot(*store.latest_path().value(), community, trusted(), fresh_engine);
  ASSERT_TRUE(restored.has_value()) << restored.error().to_string();
  EXPECT_EQ(fresh_view.state(), view.state());
  EXPECT_EQ(*restored, *snap);
  auto latest = store.latest(trusted());
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(**latest, *snap);
}

TEST_F(SnapshotTest, TamperedSnapshotIsInvalidSignatureAndLeavesViewsAlone) {
  auto log = open_log();
  ReplayEngine engine(*log);
  CommunityView view;
  ASSERT_TRUE(engine.register_view(view, CommunityView::event_types()));
  seed_community(*log);
  auto snap = *build_snapshot(engine, community, keys, clock);
  SnapshotStore store(dir / "snapshots", community);
  ASSERT_TRUE(store.write(snap));

  hn::test::TempDir other;
  auto fresh = *EventLog::open(other / "e.db", community, keys);
  ReplayEngine fresh_engine(*fresh);
  CommunityView fresh_view;
  ASSERT_TRUE(fresh_engine.register_view(fresh_view, CommunityView::event_types()));
  const auto before = fresh_view.state();

  auto path = store.path_for(snap.lamport);
  std::string text = *read_file(path);
  auto pos = text.find("Demo");
  ASSERT_NE(pos, std::string::npos);
  text[pos] = 'X';
  ASSERT_TRUE(atomic_write_file(path, text));
  auto r = restore_from_snapshot(path, community, trusted(), fresh_engine);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_signature);
  EXPECT_EQ(fresh_view.state(), before);

  // Signed by a key that is not trusted.
  auto foreign = *build_snapshot(snap.state, community, snap.lamport, key_from_byte(50), clock);
  ASSERT_TRUE(store.write(foreign));
  EXPECT_EQ(restore_from_snapshot(path, community, trusted(), fresh_engine).error().code,
            ErrorCode::invalid_signature);
  // Another community.
  EXPECT_EQ(read_snapshot(path, CommunityId("other"), trusted()).error().code, ErrorCode::wrong_community);
  EXPECT_EQ(fresh_view.state(), before);
}

TEST_F(SnapshotTest, GarbageSnapshotIsTypedError) {
  hn::test::TempDir other;
  auto log = open_log();
  ReplayEngine engine(*log);
  CommunityView view;
  ASSERT_TRUE(engine.register_view(view, CommunityView::event_types()));
  seed_community(*log);
  const auto before = view.state();
  auto expect_code = [&](const std::string& content, ErrorCode code) {
    auto path = other / "1.bin";
    ASSERT_TRUE(atomic_write_file(path, content));
    auto r = restore_from_snapshot(path, community, trusted(), engine);
    ASSERT_FALSE(r.has_value()) << content;
    EXPECT_EQ(r.error().code, code) << content << " → " << r.error().to_string();
    EXPECT_EQ(view.state(), before);
  };
  expect_code("\x01\x02garbage", ErrorCode::bad_request);
  expect_code("[]", ErrorCode::bad_request);
  expect_code(R"({"schema_version":1})", ErrorCode::bad_request);
  expect_code(R"({"schema_version":9,"community_id":"c","lamport":1,"wall_clock":"2026-05-26T08:14:22Z",)"
              R"("state":{},"covers_events_up_to":1,"signature":"ed25519:x"})",
              ErrorCode::schema_unknown);
  EXPECT_EQ(read_snapshot(other / "missing.bin", community, trusted()).error().code, ErrorCode::not_found);
}

TEST_F(SnapshotTest, SignedStateThatAViewRejectsLeavesNoPartialState) {
  auto log = open_log();
  ReplayEngine engine(*log);
  CommunityView view;
  ASSERT_TRUE(engine.register_view(view, CommunityView::event_types()));
  seed_community(*log);
  const auto before = view.state();
  auto snap = *build_snapshot(Json{{"community", {{"bogus", true}}}}, community, 7, keys, clock);
  SnapshotStore store(dir / "snapshots", community);
  ASSERT_TRUE(store.write(snap));
  auto r = restore_from_snapshot(store.path_for(7), community, trusted(), engine);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::bad_request);
  EXPECT_EQ(view.state(), before);
  // Missing view state entirely.
  auto empty = *build_snapshot(Json::object(), community, 8, keys, clock);
  ASSERT_TRUE(store.write(empty));
  EXPECT_FALSE(restore_from_snapshot(store.path_for(8), community, trusted(), engine).has_value());
  EXPECT_EQ(view.state(), before);
}

TEST_F(SnapshotTest, PruneKeepsNewest) {
  SnapshotStore store(dir / "snapshots", community);
  for (Lamport l : {5, 100, 20, 7, 1000}) {
    ASSERT_TRUE(store.write(*build_snapshot(Json::object(), community, l, keys, clock)));
  }
  {
    std::ofstream(dir / "snapshots" / "notes.txt") << "ignored";
  }
  EXPECT_EQ(*store.list(), (std::vector<Lamport>{5, 7, 20, 100, 1000}));
  ASSERT_TRUE(store.prune(2));
  EXPECT_EQ(*store.list(), (std::vector<Lamport>{100, 1000}));
  EXPECT_EQ(store.latest(trusted())->value().lamport, 1000);
  EXPECT_EQ(store.write(*build_snapshot(Json::object(), CommunityId("x"), 1, keys, clock)).error().code,
            ErrorCode::wrong_community);
}

TEST_F(SnapshotTest, RestoredViewsContinueWithLaterEvents) {
  auto log = open_log();
  ReplayEngine engine(*log);
  CommunityView view;
  ASSERT_TRUE(engine.register_view(view, CommunityView::event_types()));
  seed_community(*log);
  auto snap = *build_snapshot(engine, community, keys, clock);
  // The joining node has only events after the snapshot plus the snapshot itself.
  auto bob = key_from_byte(12);
  auto later = make_signed(keys, community, EventType::community_member_invited, snap.covers_events_up_to + 1,
                           {{"invitee_node_id", bob.node_id().str()}});
  auto joined = make_signed(bob, community, EventType::community_member_joined, snap.covers_events_up_to + 2, {});
  hn::test::TempDir other;
  auto fresh = *EventLog::open(other / "e.db", community, keys);
  ASSERT_TRUE(fresh->append_received(later));
  ReplayEngine fresh_engine(*fresh);
  CommunityView fresh_view;
  ASSERT_TRUE(fresh_engine.register_view(fresh_view, CommunityView::event_types()));
  ASSERT_TRUE(fresh_engine.restore(snap.state, snap.covers_events_up_to));
  EXPECT_TRUE(fresh_view.state().invites.count(bob.node_id().str()));
  ASSERT_TRUE(fresh->append_received(joined));
  EXPECT_TRUE(fresh_view.is_member(bob.node_id()));
  EXPECT_TRUE(fresh_view.is_member(key_from_byte(11).node_id()));
  // A full rebuild starts from the snapshot base, not from an empty log.
  ASSERT_TRUE(fresh_engine.rebuild_all());
  EXPECT_TRUE(fresh_view.is_member(key_from_byte(11).node_id()));
  EXPECT_TRUE(fresh_view.is_member(bob.node_id()));
}

}  // namespace
}  // namespace hn::events
