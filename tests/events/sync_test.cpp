// sync_test.cpp — event sync by range-based set reconciliation (X02 §3.6, §6; CONTRACT
// §7.6; DESIGN.md "Event sync must converge"): convergence for partitioned writers with
// overlapping Lamports, only the difference moving, idempotence, refused authors, community
// mismatch, and hostile peers. Every peer here is a SyncServer behind a JSON text round trip
// over real SQLite files.
#include "events/sync.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>

#include "core/encoding.h"
#include "core/ulid.h"
#include "events_test_util.h"

namespace hn::events {
namespace {

using test::key_from_byte;
using test::make_signed;

using Keys = std::vector<std::pair<Lamport, EventId>>;

// One node: its own key, log file and sync server.
struct Node {
  Node(const std::filesystem::path& path, const CommunityId& community, std::uint8_t key_byte,
       const Clock& clock)
      : keys(key_from_byte(key_byte)) {
    EventLogOptions options;
    options.clock = &clock;
    auto opened = EventLog::open(path, community, keys, options);
    EXPECT_TRUE(opened.has_value()) << (opened ? "" : opened.error().to_string());
    log = std::move(*opened);
    server = std::make_unique<SyncServer>(*log);
  }

  Keys ids() const { return *log->ids_in_range(0, MAX_LAMPORT); }
  void write(int n, const std::string& tag) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(
          log->append_local(EventType::chat_message_sent, Json{{"text", tag + std::to_string(i)}}));
    }
  }

  identity::KeyPair keys;
  std::unique_ptr<EventLog> log;
  std::unique_ptr<SyncServer> server;
};

// Counts what crosses the wire between a client and an inner peer; `tamper` may rewrite
// any reply (a hostile peer) before the client sees it.
class CountingPeer : public SyncPeer {
 public:
  using Tamper = std::function<Json(std::string_view endpoint, const Json& request, Json reply)>;
  explicit CountingPeer(SyncPeer& inner, Tamper tamper = {}, std::string key = "peer")
      : m_inner(inner), m_tamper(std::move(tamper)), m_key(std::move(key)) {}

  Result<Json> heads() override { return pass("heads", Json(), m_inner.heads()); }
  Result<Json> reconcile(const Json& request) override {
    ++reconciles;
    auto r = pass("reconcile", request, m_inner.reconcile(request));
    if (r && r->contains("answers") && (*r)["answers"].is_array()) {
      for (const auto& a : (*r)["answers"]) {
        if (a.is_object() && a.contains("ids") && a["ids"].is_array())
          listed_ids += a["ids"].size();
      }
    }
    return r;
  }
  Result<Json> fetch(const Json& request) override {
    ++fetches;
    auto r = pass("fetch", request, m_inner.fetch(request));
    if (r && r->contains("events") && (*r)["events"].is_array())
      events_pulled += (*r)["events"].size();
    return r;
  }
  Result<Json> push_events(const Json& request) override {
    ++pushes;
    events_pushed += request["events"].size();
    return pass("events", request, m_inner.push_events(request));
  }
  std::string peer_key() const override { return m_key; }

  std::size_t messages() const { return 1 + reconciles + fetches + pushes; }
  void reset() { reconciles = fetches = pushes = listed_ids = events_pulled = events_pushed = 0; }

  std::size_t reconciles = 0, fetches = 0, pushes = 0;
  std::size_t listed_ids = 0, events_pulled = 0, events_pushed = 0;

 private:
  Result<Json> pass(std::string_view endpoint, const Json& request, Result<Json> reply) {
    if (!reply || !m_tamper) return reply;
    return m_tamper(endpoint, request, std::move(*reply));
  }
  SyncPeer& m_inner;
  Tamper m_tamper;
  std::string m_key;
};

class SyncTest : public ::testing::Test {
 protected:
  SyncTest() : community(key_from_byte(1).node_id().str()) {}

  std::unique_ptr<Node> make_node(std::uint8_t key_byte, const std::string& name,
                                  std::optional<CommunityId> other_community = std::nullopt) {
    return std::make_unique<Node>(dir / (name + ".db"), other_community.value_or(community),
                                  key_byte, clock);
  }

  // Copies every event of `from` into `to` (shared history before a partition).
  static void copy_all(Node& from, Node& to) {
    auto events = from.log->read_events();
    ASSERT_TRUE(events.has_value());
    auto r = to.log->append_received_batch(*events);
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->rejected, 0u);
  }

  Result<SyncResult> sync(Node& client, Node& server, CountingPeer::Tamper tamper = {},
                          SyncOptions options = {}) {
    InProcessSyncPeer inner(*server.server);
    CountingPeer peer(inner, std::move(tamper));
    SyncClient c(*client.log, options);
    auto r = c.run_round(peer);
    last_messages = peer.messages();
    return r;
  }

  hn::test::TempDir dir;
  ManualClock clock;
  CommunityId community;
  std::size_t last_messages = 0;
};

// ---------------------------------------------------------------------------------------
// Convergence and idempotence

TEST_F(SyncTest, IdenticalLogsMoveNothingInOneMessage) {
  auto a = make_node(1, "a");
  auto b = make_node(2, "b");
  a->write(300, "a");
  copy_all(*a, *b);
  auto r = sync(*a, *b);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->sent_count, 0);
  EXPECT_EQ(r->received_count, 0);
  EXPECT_EQ(r->rounds, 0);
  EXPECT_EQ(r->messages, 1);  // heads only: count and fingerprint match
  EXPECT_EQ(last_messages, 1u);
}

TEST_F(SyncTest, EmptyLogsMoveNothing) {
  auto a = make_node(1, "a");
  auto b = make_node(2, "b");
  auto r = sync(*a, *b);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->sent_count + r->received_count, 0);
  EXPECT_EQ(r->messages, 1);
}

// Two nodes write 500 events each while partitioned; their Lamports overlap (both count up
// from the shared head), so "send everything above the peer's max Lamport" would lose
// events. One round makes the sets identical; a second round moves nothing.
TEST_F(SyncTest, PartitionedWritersWithOverlappingLamportsConvergeInOneRound) {
  auto a = make_node(1, "a");
  auto b = make_node(2, "b");
  a->write(100, "shared");
  copy_all(*a, *b);
  a->write(500, "a");
  b->write(500, "b");
  // Both wrote Lamports just above the shared head: the ranges overlap.
  EXPECT_LT(a->log->head()->lamport, 700);
  EXPECT_LT(b->log->head()->lamport, 700);

  InProcessSyncPeer inner(*b->server);
  CountingPeer peer(inner);
  SyncClient client(*a->log);
  auto r = client.run_round(peer);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->sent_count, 500);
  EXPECT_EQ(r->peer_accepted_count, 500);
  EXPECT_EQ(r->received_count, 500);
  EXPECT_EQ(r->rejected_count + r->peer_rejected_count + r->missing_count, 0);
  EXPECT_GE(r->rounds, 1);
  EXPECT_EQ(peer.events_pushed, 500u);  // exactly the difference moved
  EXPECT_EQ(peer.events_pulled, 500u);
  EXPECT_EQ(a->ids(), b->ids());
  EXPECT_EQ(*a->log->count(), 1100);
  // CONTRACT §7.3: the clock observed what arrived.
  EXPECT_GE(a->log->clock(), a->log->head()->lamport);

  peer.reset();
  auto again = client.run_round(peer);
  ASSERT_TRUE(again.has_value()) << again.error().to_string();
  EXPECT_EQ(again->sent_count + again->received_count, 0);
  EXPECT_EQ(again->messages, 1);
  EXPECT_EQ(peer.events_pushed + peer.events_pulled, 0u);
}

// A peer's events may all sit BELOW our head: they still arrive.
TEST_F(SyncTest, LowLamportEventsOfAPartitionedPeerAreNotLost) {
  auto a = make_node(1, "a");
  auto b = make_node(2, "b");
  a->write(400, "a");  // Lamports 1..400
  b->write(7, "b");    // Lamports 1..7
  auto r = sync(*a, *b);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->received_count, 7);
  EXPECT_EQ(r->sent_count, 400);
  EXPECT_EQ(a->ids(), b->ids());
}

// Only the difference moves: 3 + 2 events scattered through 3000 shared ones. The keys
// listed during reconciliation stay a few leaves' worth, not the log.
TEST_F(SyncTest, OnlyTheDifferenceMoves) {
  auto a = make_node(1, "a");
  auto b = make_node(2, "b");
  auto author = key_from_byte(9);
  std::vector<Event> shared;
  for (int i = 0; i < 3000; ++i) {
    shared.push_back(
        make_signed(author, community, EventType::chat_message_sent, 10 * (i + 1), Json{{"n", i}}));
  }
  ASSERT_TRUE(a->log->append_received_batch(shared));
  ASSERT_TRUE(b->log->append_received_batch(shared));
  for (Lamport l : {15, 14'995, 29'995}) {
    ASSERT_TRUE(a->log->append_received(
        make_signed(author, community, EventType::chat_message_sent, l, {})));
  }
  for (Lamport l : {5'005, 20'005}) {
    ASSERT_TRUE(b->log->append_received(
        make_signed(author, community, EventType::chat_message_sent, l, {})));
  }

  InProcessSyncPeer inner(*b->server);
  CountingPeer peer(inner);
  SyncClient client(*a->log);
  auto r = client.run_round(peer);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->sent_count, 3);
  EXPECT_EQ(r->received_count, 2);
  EXPECT_EQ(peer.events_pushed, 3u);
  EXPECT_EQ(peer.events_pulled, 2u);
  EXPECT_LE(peer.listed_ids, 5 * SYNC_LEAF_SIZE);
  EXPECT_EQ(peer.fetches, 1u);
  EXPECT_EQ(peer.pushes, 1u);
  EXPECT_LE(r->rounds, 4);  // log16(3000 / 64) + 1 levels
  EXPECT_EQ(a->ids(), b->ids());
}

// An empty node pulls a whole log in bounded batches; with and without the pipeline.
TEST_F(SyncTest, EmptyNodePullsEverythingInBatches) {
  for (bool pipeline : {true, false}) {
    SCOPED_TRACE(pipeline);
    hn::test::TempDir sub;
    Node a(sub / "a.db", community, 1, clock);
    Node b(sub / "b.db", community, 2, clock);
    b.write(2500, "b");
    SyncOptions options;
    options.batch_size = 1000;
    options.pipeline = pipeline;
    InProcessSyncPeer inner(*b.server);
    CountingPeer peer(inner);
    SyncClient client(*a.log, options);
    auto r = client.run_round(peer);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_EQ(r->received_count, 2500);
    EXPECT_EQ(r->sent_count, 0);
    EXPECT_EQ(peer.fetches, 3u);
    EXPECT_EQ(a.ids(), b.ids());
    EXPECT_EQ(*a.log->head(), *b.log->head());
  }
}

// Large events: the server truncates a fetch reply at its byte budget and the client asks
// again; the client bounds its pushes by max_batch_bytes.
TEST_F(SyncTest, ByteBudgetsSplitLargeEvents) {
  auto a = make_node(1, "a");
  auto b = make_node(2, "b");
  const std::string blob(200'000, 'x');
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(
        b->log->append_local(EventType::rag_document_ingested, Json{{"blob", blob}, {"i", i}}));
    ASSERT_TRUE(
        a->log->append_local(EventType::rag_document_ingested, Json{{"blob", blob}, {"j", i}}));
  }
  InProcessSyncPeer inner(*b->server);
  CountingPeer peer(inner);
  SyncOptions options;
  options.max_batch_bytes = 1'000'000;
  SyncClient client(*a->log, options);
  auto r = client.run_round(peer);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->received_count, 30);
  EXPECT_EQ(r->sent_count, 30);
  EXPECT_GE(peer.fetches, 2u);  // 30 × 200 kB > SYNC_MAX_BATCH_BYTES
  EXPECT_GE(peer.pushes, 6u);   // ≤ 1 MB per push
  EXPECT_EQ(a->ids(), b->ids());
}

// X02 §9 test_three_way_partition_then_heal.
TEST_F(SyncTest, ThreeWayPartitionThenHeal) {
  auto a = make_node(1, "a");
  auto b = make_node(2, "b");
  auto c = make_node(3, "c");
  a->write(50, "a");
  b->write(80, "b");
  c->write(20, "c");
  ASSERT_TRUE(sync(*a, *b));  // partition {a, b} | {c}
  a->write(10, "a2");
  c->write(10, "c2");
  ASSERT_TRUE(sync(*b, *c));  // heal
  ASSERT_TRUE(sync(*c, *a));
  ASSERT_TRUE(sync(*a, *b));
  EXPECT_EQ(a->ids(), b->ids());
  EXPECT_EQ(b->ids(), c->ids());
  EXPECT_EQ(a->ids().size(), 170u);
}

// ---------------------------------------------------------------------------------------
// Refused events

// Events of a revoked author are refused, counted, and not fetched again next round.
TEST_F(SyncTest, RevokedAuthorsEventsAreRejectedOnceNotEndlessly) {
  auto a = make_node(1, "a");
  auto b = make_node(2, "b");
  auto mallory = key_from_byte(7);
  b->write(20, "b");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(b->log->append_local(EventType::chat_message_sent, Json{{"m", i}}, mallory));
  }
  a->log->set_author_policy([&](const Event& e) {
    return e.author == mallory.node_id() ? AuthorVerdict::revoked_author : AuthorVerdict::ok;
  });

  InProcessSyncPeer inner(*b->server);
  CountingPeer peer(inner);
  SyncClient client(*a->log);
  auto r = client.run_round(peer);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->received_count, 20);
  EXPECT_EQ(r->rejected_count, 5);
  EXPECT_EQ(*a->log->count(), 20);

  peer.reset();
  auto again = client.run_round(peer);
  ASSERT_TRUE(again.has_value()) << again.error().to_string();
  EXPECT_EQ(again->received_count, 0);
  EXPECT_EQ(again->rejected_count, 0);
  EXPECT_EQ(again->skipped_count, 5);
  EXPECT_EQ(peer.fetches, 0u);
  EXPECT_EQ(peer.events_pulled, 0u);
}

// The other direction: the peer refuses our pushes; we remember and stop pushing them.
TEST_F(SyncTest, EventsThePeerRefusesAreNotPushedAgain) {
  auto a = make_node(1, "a");
  auto b = make_node(2, "b");
  auto mallory = key_from_byte(7);
  a->write(3, "a");
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(a->log->append_local(EventType::chat_message_sent, Json{{"m", i}}, mallory));
  }
  b->log->set_author_policy([&](const Event& e) {
    return e.author == mallory.node_id() ? AuthorVerdict::revoked_author : AuthorVerdict::ok;
  });
  InProcessSyncPeer inner(*b->server);
  CountingPeer peer(inner);
  SyncClient client(*a->log);
  auto r = client.run_round(peer);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->sent_count, 7);
  EXPECT_EQ(r->peer_accepted_count, 3);
  EXPECT_EQ(r->peer_rejected_count, 4);
  peer.reset();
  auto again = client.run_round(peer);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->sent_count, 0);
  EXPECT_EQ(again->skipped_count, 4);
  EXPECT_EQ(peer.pushes, 0u);
}

// unknown_author may heal (a join arrives later): retried once our log has grown.
TEST_F(SyncTest, UnknownAuthorIsRetriedAfterTheLogGrows) {
  auto a = make_node(1, "a");
  auto b = make_node(2, "b");
  auto newcomer = key_from_byte(8);
  ASSERT_TRUE(b->log->append_local(EventType::chat_message_sent, Json{{"hi", 1}}, newcomer));
  bool admitted = false;
  a->log->set_author_policy([&](const Event& e) {
    return e.author == newcomer.node_id() && !admitted ? AuthorVerdict::unknown_author
                                                       : AuthorVerdict::ok;
  });
  InProcessSyncPeer inner(*b->server);
  CountingPeer peer(inner);
  SyncClient client(*a->log);
  auto r = client.run_round(peer);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rejected_count, 1);
  auto same = client.run_round(peer);  // nothing changed here: not retried
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->skipped_count, 1);
  EXPECT_EQ(same->rejected_count, 0);

  a->write(1, "grow");  // our log grew (in real life: the join event)
  admitted = true;
  auto healed = client.run_round(peer);
  ASSERT_TRUE(healed.has_value()) << healed.error().to_string();
  EXPECT_EQ(healed->received_count, 1);
  EXPECT_EQ(a->ids(), b->ids());
}

// ---------------------------------------------------------------------------------------
// Community mismatch

TEST_F(SyncTest, WrongCommunityIsRefusedBothWays) {
  auto a = make_node(1, "a");
  auto other = make_node(2, "other", CommunityId(key_from_byte(5).node_id().str()));
  a->write(3, "a");
  other->write(3, "o");
  auto r = sync(*a, *other);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::wrong_community);
  EXPECT_EQ(*a->log->count(), 3);
  EXPECT_EQ(*other->log->count(), 3);

  // A server asked about another community refuses every endpoint.
  ReconcileRequest rr{community, {SyncRange{sync_key_min(), sync_key_top(), {}}}};
  auto rec = other->server->handle_reconcile(to_json(rr));
  ASSERT_FALSE(rec.has_value());
  EXPECT_EQ(rec.error().code, ErrorCode::wrong_community);
  auto fetch = other->server->serve_fetch(FetchRequest{community, {}});
  ASSERT_FALSE(fetch.has_value());
  EXPECT_EQ(fetch.error().code, ErrorCode::wrong_community);
  auto events = a->log->read_events();
  auto push = other->server->serve_events(EventsRequest{community, *events});
  ASSERT_FALSE(push.has_value());
  EXPECT_EQ(push.error().code, ErrorCode::wrong_community);
  EXPECT_EQ(*other->log->count(), 3);
}

// ---------------------------------------------------------------------------------------
// Hostile peers: typed errors, nothing half-stored.

class HostileSyncTest : public SyncTest {
 protected:
  void SetUp() override {
    a = make_node(1, "a");
    b = make_node(2, "b");
    a->write(10, "a");
    b->write(150, "b");
  }
  // Runs one round with `tamper`, expects `code`, and checks a stored nothing from b.
  void expect_error(CountingPeer::Tamper tamper, ErrorCode code) {
    auto before = a->ids();
    auto r = sync(*a, *b, std::move(tamper));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, code) << r.error().to_string();
    EXPECT_EQ(a->ids(), before);
  }
  std::unique_ptr<Node> a, b;
};

TEST_F(HostileSyncTest, GarbageHeads) {
  for (Json bad : {Json("heads"), Json::array(), Json::object(),
                   Json{{"community_id", 5},
                        {"head", 1},
                        {"count", 1},
                        {"heads_by_type", Json::object()},
                        {"fingerprint", std::string(64, '0')}}}) {
    SCOPED_TRACE(bad.dump());
    expect_error(
        [&](std::string_view ep, const Json&, Json reply) { return ep == "heads" ? bad : reply; },
        ErrorCode::bad_request);
  }
  // Huge counts and Lamports.
  expect_error(
      [](std::string_view ep, const Json&, Json reply) {
        if (ep == "heads") reply["count"] = std::uint64_t{1} << 62;
        return reply;
      },
      ErrorCode::bad_request);
  expect_error(
      [](std::string_view ep, const Json&, Json reply) {
        if (ep == "heads") reply["head"] = -1;
        return reply;
      },
      ErrorCode::bad_request);
  expect_error(
      [](std::string_view ep, const Json&, Json reply) {
        if (ep == "heads") reply["fingerprint"] = "xyz";
        return reply;
      },
      ErrorCode::bad_request);
}

TEST_F(HostileSyncTest, GarbageReconcileReplies) {
  auto on_reconcile = [](std::function<void(Json&)> f) {
    return [f](std::string_view ep, const Json&, Json reply) {
      if (ep == "reconcile") f(reply);
      return reply;
    };
  };
  expect_error(on_reconcile([](Json& r) { r = Json("nope"); }), ErrorCode::bad_request);
  expect_error(on_reconcile([](Json& r) { r["answers"] = "x"; }), ErrorCode::bad_request);
  expect_error(on_reconcile([](Json& r) { r["answers"] = Json::array(); }), ErrorCode::bad_request);
  expect_error(on_reconcile([](Json& r) {
                 r["answers"][0] = Json{{"kind", "maybe"}};
               }),
               ErrorCode::bad_request);
  expect_error(on_reconcile([](Json& r) {
                 r["answers"][0] = Json{{"kind", "ids"}, {"ids", Json::array({1})}};
               }),
               ErrorCode::bad_request);
  // Keys outside the range asked about, or unsorted.
  expect_error(
      on_reconcile([](Json& r) {
        r["answers"][0] = Json{
            {"kind", "ids"},
            {"ids", Json::array({Json::array({5, new_ulid()}), Json::array({4, new_ulid()})})}};
      }),
      ErrorCode::bad_request);
  // A split that does not cover the range, or is not contiguous, or claims huge counts.
  expect_error(on_reconcile([](Json& r) {
                 auto& parts = r["answers"][0]["parts"];
                 if (parts.is_array()) parts.erase(parts.size() - 1);
               }),
               ErrorCode::bad_request);
  expect_error(on_reconcile([](Json& r) {
                 auto& parts = r["answers"][0]["parts"];
                 if (parts.is_array()) parts[1]["lo"] = Json::array({0, ""});
               }),
               ErrorCode::bad_request);
  expect_error(on_reconcile([](Json& r) {
                 auto& parts = r["answers"][0]["parts"];
                 if (parts.is_array()) parts[0]["count"] = std::uint64_t{1} << 60;
               }),
               ErrorCode::bad_request);
  // Too many keys for one reply.
  expect_error(on_reconcile([](Json& r) {
                 Json ids = Json::array();
                 for (std::size_t i = 0; i < SYNC_MAX_REPLY_IDS + 1; ++i)
                   ids.push_back(Json::array({1, "x"}));
                 r["answers"][0] = Json{{"kind", "ids"}, {"ids", std::move(ids)}};
               }),
               ErrorCode::bad_request);
}

// A peer that splits forever is cut off after SYNC_MAX_ROUNDS levels.
TEST_F(HostileSyncTest, EndlessSplitsAreCutOff) {
  expect_error(
      [](std::string_view ep, const Json& request, Json reply) {
        if (ep != "reconcile") return reply;
        Json answers = Json::array();
        for (const auto& range : request["ranges"]) {
          if (!answers.empty()) {
            answers.push_back(Json{{"kind", "equal"}});
            continue;
          }
          const Lamport lo = range["lo"][0].get<Lamport>();
          const Lamport hi = range["hi"][0].get<Lamport>();
          const Lamport mid = lo + (hi - lo) / 2;
          if (hi - lo < 2) {
            answers.push_back(Json{{"kind", "ids"}, {"ids", Json::array()}});
            continue;
          }
          Json left = Json{{"lo", range["lo"]},
                           {"hi", Json::array({mid, ""})},
                           {"count", 1},
                           {"fp", std::string(64, 'a')}};
          Json right = Json{{"lo", Json::array({mid, ""})},
                            {"hi", range["hi"]},
                            {"count", 1},
                            {"fp", std::string(64, 'b')}};
          answers.push_back(Json{{"kind", "split"}, {"parts", Json::array({left, right})}});
        }
        return Json{{"answers", answers}};
      },
      ErrorCode::bad_request);
}

// Keys the peer lists but cannot deliver are counted as missing, not an error.
TEST_F(HostileSyncTest, ListedIdsThatDoNotExist) {
  const std::string ghost = new_ulid();
  auto r = sync(*a, *b, [&](std::string_view ep, const Json& request, Json reply) {
    if (ep == "reconcile") {
      for (std::size_t i = 0; i < reply["answers"].size(); ++i) {
        auto& ans = reply["answers"][i];
        if (ans["kind"] == "ids" && request["ranges"][i]["hi"][0] == SYNC_TOP_LAMPORT) {
          ans["ids"].push_back(Json::array({MAX_LAMPORT - 1, ghost}));
        }
      }
    }
    return reply;
  });
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->missing_count, 1);
  EXPECT_EQ(r->received_count, 150);
  EXPECT_FALSE(*a->log->has(EventId(ghost)));
}

TEST_F(HostileSyncTest, FetchRepliesWithUnrequestedOrDuplicateEvents) {
  auto stranger = make_signed(key_from_byte(2), community, EventType::chat_message_sent, 3, {});
  expect_error(
      [&](std::string_view ep, const Json&, Json reply) {
        if (ep == "fetch") reply["events"].push_back(to_json(stranger));
        return reply;
      },
      ErrorCode::bad_request);
  expect_error(
      [&](std::string_view ep, const Json&, Json reply) {
        if (ep == "fetch" && !reply["events"].empty())
          reply["events"].push_back(reply["events"][0]);
        return reply;
      },
      ErrorCode::bad_request);
  expect_error(
      [&](std::string_view ep, const Json&, Json reply) {
        if (ep == "fetch") reply = Json{{"events", Json::array()}, {"truncated", true}};
        return reply;
      },
      ErrorCode::bad_request);
  expect_error(
      [&](std::string_view ep, const Json&, Json reply) {
        if (ep == "fetch") reply["events"] = Json::array({Json{{"event_id", 1}}});
        return reply;
      },
      ErrorCode::bad_request);
}

// Forged events (bad signatures) are refused one by one; the good ones land.
TEST_F(HostileSyncTest, EventsWithBadSignaturesAreRejectedNotStored) {
  std::set<std::string> forged;
  auto tamper = [&](std::string_view ep, const Json&, Json reply) {
    if (ep == "fetch") {
      for (std::size_t i = 0; i < reply["events"].size(); i += 10) {
        reply["events"][i]["data"]["text"] = "forged";
        forged.insert(reply["events"][i]["event_id"].get<std::string>());
      }
    }
    return reply;
  };
  InProcessSyncPeer inner(*b->server);
  CountingPeer peer(inner, tamper);
  SyncClient client(*a->log);
  auto r = client.run_round(peer);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->rejected_count, 15);
  EXPECT_EQ(r->received_count, 135);
  for (const auto& id : forged) EXPECT_FALSE(*a->log->has(EventId(id)));
  ASSERT_TRUE(a->log->check_integrity());

  // Refused from this peer: not fetched again from it…
  peer.reset();
  auto again = client.run_round(peer);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->skipped_count, 15);
  EXPECT_EQ(peer.fetches, 0u);
  // …but another (honest) peer still delivers the real events.
  InProcessSyncPeer inner2(*b->server);
  CountingPeer honest_peer(inner2, {}, "honest");
  auto honest = client.run_round(honest_peer);
  ASSERT_TRUE(honest.has_value()) << honest.error().to_string();
  EXPECT_EQ(honest->received_count, 15);
  EXPECT_EQ(a->ids().size(), 160u);
}

TEST_F(HostileSyncTest, GarbageEventsReplies) {
  // Each case pushes a fresh event (b stores the earlier ones despite the bad replies).
  a->write(1, "push");
  expect_error(
      [](std::string_view ep, const Json&, Json reply) {
        if (ep == "events") reply["accepted"] = std::uint64_t{1} << 63;
        return reply;
      },
      ErrorCode::bad_request);
  a->write(1, "push");
  expect_error(
      [](std::string_view ep, const Json&, Json reply) {
        if (ep == "events") reply["accepted"] = 0;  // does not account for what was sent
        return reply;
      },
      ErrorCode::bad_request);
  a->write(1, "push");
  expect_error(
      [](std::string_view ep, const Json&, Json reply) {
        if (ep == "events")
          reply["rejected_reasons"] = Json::array({Json{{"event_id", "x"}, {"reason", 3}}});
        return reply;
      },
      ErrorCode::bad_request);
  a->write(1, "push");
  expect_error(
      [](std::string_view ep, const Json&, Json reply) {
        if (ep == "events") reply = Json::array();
        return reply;
      },
      ErrorCode::bad_request);
}

// A peer's error envelope reaches the caller with its code.
class FailingPeer : public SyncPeer {
 public:
  Result<Json> heads() override { return make_error(ErrorCode::timeout, "peer timed out"); }
  Result<Json> reconcile(const Json&) override {
    return make_error(ErrorCode::internal_error, "x");
  }
  Result<Json> fetch(const Json&) override { return make_error(ErrorCode::internal_error, "x"); }
  Result<Json> push_events(const Json&) override {
    return make_error(ErrorCode::internal_error, "x");
  }
};

TEST_F(SyncTest, PeerErrorsPropagateWithTheirCode) {
  auto a = make_node(1, "a");
  FailingPeer peer;
  SyncClient client(*a->log);
  auto r = client.run_round(peer);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::timeout);
}

// ---------------------------------------------------------------------------------------
// Server and codec

TEST_F(SyncTest, ServerRefusesMalformedAndOversizedRequests) {
  auto a = make_node(1, "a");
  a->write(5, "a");
  for (Json bad : {Json::array(), Json{{"community_id", community.str()}},
                   Json{{"community_id", community.str()}, {"ranges", Json::array()}},
                   Json{{"community_id", community.str()},
                        {"ranges", Json::array({Json{{"lo", Json::array({5, ""})},
                                                     {"hi", Json::array({5, ""})},
                                                     {"count", 0},
                                                     {"fp", std::string(64, '0')}}})}}}) {
    auto r = a->server->handle_reconcile(bad);
    ASSERT_FALSE(r.has_value()) << bad.dump();
    EXPECT_EQ(r.error().code, ErrorCode::bad_request);
  }
  Json many = Json::array();
  for (std::size_t i = 0; i <= SYNC_MAX_BATCH; ++i) many.push_back(Json::array({1, new_ulid()}));
  auto f = a->server->handle_fetch(Json{{"community_id", community.str()}, {"ids", many}});
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code, ErrorCode::bad_request);
  auto e = a->server->handle_events(
      Json{{"community_id", community.str()}, {"events", Json::array({1})}});
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code, ErrorCode::bad_request);
  EXPECT_EQ(*a->log->count(), 5);
}

TEST_F(SyncTest, ServerReportsRejectedReasons) {
  auto a = make_node(1, "a");
  auto good = make_signed(key_from_byte(3), community, EventType::chat_message_sent, 4, {});
  auto forged = make_signed(key_from_byte(3), community, EventType::chat_message_sent, 5, {});
  forged.data["x"] = 1;
  auto r = a->server->serve_events(EventsRequest{community, {forged, good, good}});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->accepted, 1);
  EXPECT_EQ(r->duplicates, 1);
  EXPECT_EQ(r->rejected, 1);
  ASSERT_EQ(r->rejected_reasons.size(), 1u);
  EXPECT_EQ(r->rejected_reasons[0].event_id, forged.event_id);
  EXPECT_EQ(r->rejected_reasons[0].reason, ErrorCode::invalid_signature);
  EXPECT_EQ(r->new_head_lamport, 4);
  auto j = to_json(*r);
  EXPECT_EQ(j["rejected_reasons"][0]["reason"], "invalid_signature");
  EXPECT_EQ(j["new_head_lamport"], 4);
}

TEST_F(SyncTest, HeadsReportDescribesTheLog) {
  auto a = make_node(1, "a");
  a->write(3, "a");
  ASSERT_TRUE(a->log->append_local(EventType::market_post_created, Json::object()));
  auto h = a->server->serve_heads();
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->community_id, community);
  EXPECT_EQ(h->head, 4);
  EXPECT_EQ(h->count, 4);
  EXPECT_EQ(h->heads_by_type.at(EventType::chat_message_sent), 3);
  EXPECT_EQ(h->heads_by_type.at(EventType::market_post_created), 4);
  auto j = to_json(*h);
  EXPECT_EQ(j["heads_by_type"]["market.post.created"], 4);
  auto back = parse_heads_report(j);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, *h);
  // The whole-log fingerprint is the log's own range fingerprint.
  EXPECT_EQ(h->fingerprint, a->log->range_fingerprint(0, MAX_LAMPORT)->digest);
}

TEST_F(SyncTest, IndexFingerprintsMatchTheLog) {
  auto a = make_node(1, "a");
  a->write(200, "a");
  auto index = SyncIndex::build(*a->log);
  ASSERT_TRUE(index.has_value());
  for (auto [lo, hi] :
       std::vector<std::pair<Lamport, Lamport>>{{1, 200}, {5, 5}, {17, 133}, {300, 400}}) {
    EXPECT_EQ(index->fingerprint(SyncKey{lo, ""}, SyncKey{hi + 1, ""}),
              *a->log->range_fingerprint(lo, hi));
  }
  EXPECT_EQ(index->find(index->key(7)), 7u);
  EXPECT_EQ(index->find(SyncKey{7, "nope"}), index->size());
}

// The cache rebuilds after a commit and not otherwise.
TEST_F(SyncTest, IndexCacheFollowsTheLog) {
  auto a = make_node(1, "a");
  a->write(3, "a");
  SyncIndexCache cache(*a->log);
  auto first = cache.get();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ((*first)->size(), 3u);
  EXPECT_EQ(cache.get()->get(), first->get());
  a->write(1, "b");
  EXPECT_EQ((*cache.get())->size(), 4u);
}

TEST(SyncCodecTest, MessagesRoundTrip) {
  const CommunityId c(key_from_byte(1).node_id().str());
  const SyncKey k1{3, new_ulid()};
  const SyncKey k2{9, new_ulid()};
  RangeFingerprint fp;
  fp.count = 2;
  fp.digest[0] = 0xab;
  const SyncRange range{SyncKey{1, ""}, sync_key_top(), fp};

  auto req = parse_reconcile_request(to_json(ReconcileRequest{c, {range}}));
  ASSERT_TRUE(req.has_value()) << req.error().to_string();
  EXPECT_EQ(req->community_id, c);
  ASSERT_EQ(req->ranges.size(), 1u);
  EXPECT_EQ(req->ranges[0], range);

  ReconcileReply reply;
  reply.answers.push_back(RangeAnswer{RangeAnswer::Kind::equal, {}, {}});
  reply.answers.push_back(RangeAnswer{RangeAnswer::Kind::ids, {k1, k2}, {}});
  reply.answers.push_back(
      RangeAnswer{RangeAnswer::Kind::split,
                  {},
                  {SyncRange{sync_key_min(), k1, fp}, SyncRange{k1, sync_key_top(), {}}}});
  auto rep = parse_reconcile_reply(to_json(reply));
  ASSERT_TRUE(rep.has_value()) << rep.error().to_string();
  EXPECT_EQ(rep->answers, reply.answers);

  auto fr = parse_fetch_request(to_json(FetchRequest{c, {k1, k2}}));
  ASSERT_TRUE(fr.has_value());
  EXPECT_EQ(fr->ids, (std::vector<SyncKey>{k1, k2}));

  auto ev = make_signed(key_from_byte(2), c, EventType::chat_message_sent, 5, Json{{"t", "x"}});
  auto fy = parse_fetch_reply(to_json(FetchReply{{ev}, true}));
  ASSERT_TRUE(fy.has_value());
  EXPECT_TRUE(fy->truncated);
  ASSERT_EQ(fy->events.size(), 1u);
  EXPECT_EQ(fy->events[0], ev);

  auto er = parse_events_request(to_json(EventsRequest{c, {ev}}));
  ASSERT_TRUE(er.has_value());
  EXPECT_EQ(er->events, std::vector<Event>{ev});

  EventsReply ey{3, 1, 2, 77, {EventRejection{ev.event_id, ErrorCode::revoked_author}}};
  auto eyj = to_json(ey);
  EXPECT_EQ(eyj["new_head"], 77);  // X02 §6's name, beside CONTRACT §7.6's
  auto eyb = parse_events_reply(eyj);
  ASSERT_TRUE(eyb.has_value());
  EXPECT_EQ(*eyb, ey);
}

TEST(SyncCodecTest, DecodersRejectGarbageWithBadRequest) {
  const std::string c = key_from_byte(1).node_id().str();
  const std::string zero(64, '0');
  const std::vector<Json> bad_ranges = {
      Json{{"lo", Json::array({2, ""})}, {"hi", Json::array({1, ""})}, {"count", 0}, {"fp", zero}},
      Json{{"lo", Json::array({0, ""})},
           {"hi", Json::array({SYNC_TOP_LAMPORT + 1, ""})},
           {"count", 0},
           {"fp", zero}},
      Json{{"lo", Json::array({0, ""})}, {"hi", Json::array({1, ""})}, {"count", -1}, {"fp", zero}},
      Json{{"lo", Json::array({0, ""})},
           {"hi", Json::array({1, ""})},
           {"count", 0},
           {"fp", std::string(64, 'a')}},
      Json{{"lo", Json::array({0, ""})}, {"hi", Json::array({1, ""})}, {"count", 1}, {"fp", "ab"}},
      Json{
          {"lo", Json::array({0.5, ""})}, {"hi", Json::array({1, ""})}, {"count", 1}, {"fp", zero}},
      Json{{"lo", Json::array({0, std::string(100, 'z')})},
           {"hi", Json::array({1, ""})},
           {"count", 1},
           {"fp", zero}},
      Json{{"lo", "0"}, {"hi", Json::array({1, ""})}, {"count", 1}, {"fp", zero}},
  };
  for (const auto& r : bad_ranges) {
    auto p = parse_reconcile_request(Json{{"community_id", c}, {"ranges", Json::array({r})}});
    ASSERT_FALSE(p.has_value()) << r.dump();
    EXPECT_EQ(p.error().code, ErrorCode::bad_request);
  }
  EXPECT_FALSE(parse_reconcile_request(Json{{"community_id", ""}, {"ranges", Json::array()}}));
  EXPECT_FALSE(parse_fetch_request(
      Json{{"community_id", c}, {"ids", Json::array({Json::array({1, "not-a-ulid"})})}}));
  EXPECT_FALSE(parse_fetch_request(
      Json{{"community_id", c}, {"ids", Json::array({Json::array({-1, new_ulid()})})}}));
  EXPECT_FALSE(parse_fetch_reply(Json{{"events", Json::array()}}));
  EXPECT_FALSE(parse_fetch_reply(Json{{"events", Json::array()}, {"truncated", "no"}}));
  EXPECT_FALSE(parse_events_request(Json{{"community_id", c}, {"events", Json::object()}}));
  EXPECT_FALSE(parse_events_reply(Json{{"accepted", 1}, {"rejected", 0}, {"duplicates", 0}}));
  EXPECT_FALSE(parse_heads_report(Json{{"community_id", c},
                                       {"head", 1},
                                       {"count", 1},
                                       {"heads_by_type", Json{{"chat.message.sent", "3"}}},
                                       {"fingerprint", zero}}));
  // A type a newer peer knows and we do not is skipped, not fatal.
  auto h = parse_heads_report(Json{{"community_id", c},
                                   {"head", 1},
                                   {"count", 1},
                                   {"heads_by_type", Json{{"future.type", 3}}},
                                   {"fingerprint", zero}});
  ASSERT_TRUE(h.has_value());
  EXPECT_TRUE(h->heads_by_type.empty());
}

}  // namespace
}  // namespace hn::events
