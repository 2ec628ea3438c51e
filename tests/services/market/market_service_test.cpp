// market_service_test.cpp — the marketplace service over real stores (an SQLite event log
// in a temporary folder, the replay engine, the bus): posts appear after apply, market.post
// is idempotent on client_id, expire's authorisation (author, moderators, others), expiry
// by time and by the sweeper, concurrent expiries de-duplicated by target, list filters and
// paging, lexical search and the blend with an embed.text provider registered on the bus,
// snapshot → restore equal state, malformed peer data skipped.
#include "services/market/market_service.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "blobs/store.h"
#include "core/time.h"
#include "events/event_log.h"
#include "events/replay.h"
#include "support/test_support.h"

namespace hn::services::market {
namespace {

const Version V10{1, 0};

class NoPublisher final : public service::Publisher {
 public:
  void publish(const std::string& topic, const Json&) override { topics.push_back(topic); }
  std::vector<std::string> topics;
};

struct Market : ::testing::Test {
  ManualClock clock{1'780'000'000'000};
  test::TempDir dir;
  identity::KeyPair keys = identity::KeyPair::generate();
  identity::KeyPair bob = identity::KeyPair::generate();    // a plain member
  identity::KeyPair carol = identity::KeyPair::generate();  // a trusted member
  CommunityId community{keys.node_id().str()};
  bus::CapabilityBus bus{keys.node_id(), bus::BusConfig{}, clock};
  std::unique_ptr<events::EventLog> log =
      events::EventLog::open(dir / "events.db", community, keys,
                             events::EventLogOptions{.clock = &clock})
          .value();
  events::ReplayEngine replay{*log};
  std::unique_ptr<blobs::BlobStore> blobs = blobs::BlobStore::open(dir / "blobs").value();
  NoPublisher publisher;
  config::Config config;
  TrustLevel our_level = TrustLevel::member;
  std::unique_ptr<MarketService> service;
  int m_foreign = 0;

  identity::CommunityManifest manifest() const {
    identity::CommunityManifest m;
    m.community_id = community;
    m.root_key = keys.node_id();
    m.members = {{keys.node_id(), our_level, "", {}},
                 {bob.node_id(), TrustLevel::member, "", {}},
                 {carol.node_id(), TrustLevel::trusted, "", {}}};
    return m;
  }

  void SetUp() override {
    service::ServiceContext ctx{
        keys,      keys.node_id(),
        community, *log,
        replay,    *blobs,
        bus,       publisher,
        config,    [this] { return std::optional<identity::CommunityManifest>(manifest()); },
        clock,     dir / "market"};
    service = std::make_unique<MarketService>(ctx, MarketOptions{});
    ASSERT_TRUE(service->start());
    ASSERT_TRUE(bus.register_service(*service));
  }
  void TearDown() override { service->stop(); }

  Result<Json> call(const char* name, Json input, bus::CallOptions o = {}) {
    return bus.call(name, V10, Json{{"input", std::move(input)}}, o);
  }
  Json post(const std::string& client_id, const std::string& title, const std::string& body = "",
            Json extra = Json::object()) {
    Json in{{"client_id", client_id}, {"category", "offer"}, {"title", title}, {"body", body}};
    in.update(extra);
    auto r = call("market.post", in);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? (*r)["output"] : Json();
  }
  // A post signed by another member, as sync would bring it.
  events::Event foreign_post(const identity::KeyPair& author, const std::string& title,
                             std::int64_t ttl = 3600) {
    return log
        ->append_local(events::EventType::market_post_created,
                       Json{{"client_id", "f-" + std::to_string(title.size()) + "-" +
                                              std::to_string(++m_foreign)},
                            {"category", "info"},
                            {"title", title},
                            {"body", ""},
                            {"tags", Json::array()},
                            {"ttl_seconds", ttl}},
                       author)
        .value();
  }
  Json list(Json input = Json::object()) {
    auto r = call("market.list", std::move(input));
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? (*r)["output"] : Json();
  }
  std::vector<std::string> titles(const Json& out) {
    std::vector<std::string> t;
    for (const auto& p : out["posts"]) t.push_back(p["title"]);
    return t;
  }
};

TEST_F(Market, APostAppearsInTheListWithTheContractsFields) {
  const Json out =
      post("c1", "Suche Wasserkanister", "Brauche 20L",
           {{"tags", {"Wasser"}}, {"location", {{"lat", 51.5}, {"lng", 6.2}, {"label", "Issum"}}}});
  ASSERT_TRUE(out.contains("event_id"));
  const Json l = list();
  ASSERT_EQ(l["posts"].size(), 1u);
  const Json& p = l["posts"][0];
  EXPECT_EQ(p["event_id"], out["event_id"]);
  EXPECT_EQ(p["lamport"], out["lamport"]);
  EXPECT_EQ(p["author"], keys.node_id().str());
  EXPECT_EQ(p["tags"], Json::array({"wasser"}));
  EXPECT_EQ(p["location"]["label"], "Issum");
  EXPECT_EQ(p["expires_at"], format_rfc3339(clock.now_seconds() + 7 * 86400));
  EXPECT_EQ(l["max_lamport"], out["lamport"]);
  EXPECT_EQ(publisher.topics, std::vector<std::string>{TOPIC_POST_CREATED});
}

TEST_F(Market, ASecondPostWithTheSameClientIdMakesNoSecondPost) {
  const Json first = post("same", "Bike");
  const Json second = post("same", "Bike (again)");
  EXPECT_EQ(second["event_id"], first["event_id"]);
  EXPECT_EQ(second["duplicate"], true);
  EXPECT_EQ(log->read_events({.types = {events::EventType::market_post_created}})->size(), 1u);
  EXPECT_EQ(list()["posts"].size(), 1u);
}

TEST_F(Market, BadInputIsABadRequestNamingTheField) {
  auto r = call("market.post", Json{{"client_id", "x"}, {"category", "offer"}, {"title", ""}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::bad_request);
  EXPECT_NE(r.error().message.find("title"), std::string::npos) << r.error().message;
  r = call(
      "market.post",
      Json{{"client_id", "x"}, {"category", "offer"}, {"title", "t"}, {"ttl_seconds", 40 * 86400}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("ttl_seconds must be 1..2592000"), std::string::npos)
      << r.error().message;
  r = call("market.list", Json{{"limit", 501}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::bad_request);
  EXPECT_FALSE(log->read_events({.types = {events::EventType::market_post_created}})->size());
}

TEST_F(Market, AnotherNodesCallCannotWriteAsThisNode) {
  bus::CallOptions o;
  o.caller = bob.node_id();
  o.caller_trust = TrustLevel::member;
  auto r = call("market.post", Json{{"client_id", "x"}, {"category", "offer"}, {"title", "t"}}, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::unauthorized);
  EXPECT_TRUE(call("market.list", Json::object(), o));  // reading is any member's
}

TEST_F(Market, TheAuthorExpiresAndAgainIsTheSameExpiry) {
  const Json p = post("c1", "Lamp");
  auto e = call("market.expire",
                Json{{"client_id", "e1"}, {"event_id", p["event_id"]}, {"reason", "fulfilled"}});
  ASSERT_TRUE(e) << e.error().to_string();
  EXPECT_TRUE(list()["posts"].empty());
  auto again =
      call("market.expire",
           Json{{"client_id", "e2"}, {"event_id", p["event_id"]}, {"reason", "withdrawn"}});
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)["output"]["event_id"], (*e)["output"]["event_id"]);
  EXPECT_EQ(log->read_events({.types = {events::EventType::market_post_expired}})->size(), 1u);
  auto unknown = call(
      "market.expire",
      Json{{"client_id", "e3"}, {"event_id", "01HXR0000000000000000000AA"}, {"reason", "stale"}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::not_found);
}

TEST_F(Market, ANonAuthorMemberIsUnauthorizedAModeratorIsNot) {
  const auto theirs = foreign_post(bob, "Bobs drill");
  auto r =
      call("market.expire",
           Json{{"client_id", "e1"}, {"event_id", theirs.event_id.str()}, {"reason", "stale"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::unauthorized);
  // A plain member's expiry from a peer is ignored by the view too.
  ASSERT_TRUE(log->append_local(
      events::EventType::market_post_expired,
      Json{{"client_id", "x"}, {"target_event_id", theirs.event_id.str()}, {"reason", "withdrawn"}},
      keys));
  EXPECT_EQ(list()["posts"].size(), 1u);
  // A trusted member moderates, but never with the author's own reason.
  our_level = TrustLevel::trusted;
  r = call(
      "market.expire",
      Json{{"client_id", "e2"}, {"event_id", theirs.event_id.str()}, {"reason", "user_request"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::unauthorized);
  r = call("market.expire",
           Json{{"client_id", "e3"}, {"event_id", theirs.event_id.str()}, {"reason", "withdrawn"}});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(list()["posts"].empty());
}

TEST_F(Market, APostExpiresOnTimeAndTheSweeperRecordsItOnce) {
  post("c1", "Short", "", {{"ttl_seconds", 60}});
  foreign_post(bob, "Not ours", 60);
  EXPECT_EQ(list()["posts"].size(), 2u);
  clock.advance_seconds(61);
  EXPECT_TRUE(list()["posts"].empty());  // at once, before any sweep
  EXPECT_EQ(service->sweep_once(), 1);   // a member sweeps its own posts only
  EXPECT_EQ(service->sweep_once(), 0);
  auto expired = log->read_events({.types = {events::EventType::market_post_expired}}).value();
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].data["reason"], "stale");
  our_level = TrustLevel::anchor;  // M06 §4.2: an anchor sweeps everyone's
  EXPECT_EQ(service->sweep_once(), 1);
  EXPECT_EQ(publisher.topics.back(), TOPIC_POST_EXPIRED);
}

TEST_F(Market, ConcurrentExpiriesAreDeduplicatedByTarget) {
  const auto theirs = foreign_post(bob, "Tent");
  const auto by_author = log->append_local(events::EventType::market_post_expired,
                                           Json{{"client_id", "a"},
                                                {"target_event_id", theirs.event_id.str()},
                                                {"reason", "fulfilled"}},
                                           bob)
                             .value();
  ASSERT_TRUE(log->append_local(
      events::EventType::market_post_expired,
      Json{{"client_id", "b"}, {"target_event_id", theirs.event_id.str()}, {"reason", "withdrawn"}},
      carol));
  auto p = service->view().get(theirs.event_id).value();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->expired_via_event_id, by_author.event_id);  // the first in replay order
  EXPECT_EQ(p->expiry_reason, ExpiryReason::fulfilled);
}

TEST_F(Market, ListFiltersByCategoryTagsAndLamportAndPages) {
  post("a", "Offer one", "", {{"tags", {"bike"}}});
  const Json second =
      post("b", "Request two", "", {{"category", "request"}, {"tags", {"bike", "red"}}});
  post("c", "Info three", "", {{"category", "info"}});
  EXPECT_EQ(titles(list({{"category", "request"}})), std::vector<std::string>{"Request two"});
  EXPECT_EQ(titles(list({{"tags", {"bike"}}})),
            (std::vector<std::string>{"Request two", "Offer one"}));
  EXPECT_EQ(titles(list({{"tags", {"BIKE", "red"}}})), std::vector<std::string>{"Request two"});
  EXPECT_EQ(titles(list({{"since_lamport", second["lamport"]}})),
            std::vector<std::string>{"Info three"});
  const Json page1 = list({{"limit", 2}});
  EXPECT_EQ(titles(page1), (std::vector<std::string>{"Info three", "Request two"}));
  ASSERT_TRUE(page1.contains("next_cursor"));
  const Json page2 = list({{"limit", 2}, {"cursor", page1["next_cursor"]}});
  EXPECT_EQ(titles(page2), std::vector<std::string>{"Offer one"});
  EXPECT_FALSE(page2.contains("next_cursor"));
  auto bad = call("market.list", Json{{"cursor", "nonsense"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::bad_request);
}

TEST_F(Market, SearchFindsAPostByAWordOfItsBodyLexicallyWithoutEmbeddings) {
  post("a", "Kanister", "Zwanzig Liter Wasser, sauber");
  post("b", "Fahrrad", "Rotes Rad mit Korb");
  auto r = call("market.search", Json{{"query", "wasser"}});
  ASSERT_TRUE(r) << r.error().to_string();
  const Json& posts = (*r)["output"]["posts"];
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]["title"], "Kanister");
  EXPECT_GT(posts[0]["score"].get<double>(), 0.0);
  EXPECT_EQ((*r)["meta"]["ranking"], "bm25");
  auto none = call("market.search", Json{{"query", "\"*"}});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::bad_request);
}

TEST_F(Market, SearchBlendsSimilarityWhenAnEmbedTextProviderIsOnTheBus) {
  // A toy embedder: texts about water point one way, the rest the other.
  bus::LocalCapability embed;
  embed.descriptor.name = "embed.text";
  embed.descriptor.version = V10;
  embed.descriptor.stability = Stability::stable;
  embed.descriptor.request_schema = Json{{"type", "object"}};
  embed.descriptor.response_schema = Json{{"type", "object"}};
  embed.descriptor.params = Json::object();
  embed.descriptor.trust_required = TrustLevel::member;
  std::atomic<int> calls{0};
  embed.handler = [&calls](const bus::CallContext&, const Json& body) -> Result<Json> {
    ++calls;
    Json vectors = Json::array();
    for (const auto& t : body["input"]["texts"]) {
      const std::string s = t.get<std::string>();
      const bool water = s.find("asser") != std::string::npos ||
                         s.find("water") != std::string::npos ||
                         s.find("Kanister") != std::string::npos;
      vectors.push_back(water ? Json::array({1.0, 0.0}) : Json::array({0.0, 1.0}));
    }
    return Json{{"output", {{"embeddings", vectors}, {"dim", 2}}}};
  };
  ASSERT_TRUE(bus.register_capability(embed));
  post("a", "Kanister", "Zwanzig Liter, sauber");  // no word in common with the query
  post("b", "Fahrrad", "Rotes Rad mit Korb");
  auto r = call("market.search", Json{{"query", "water"}, {"k", 5}});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)["meta"]["ranking"], "bm25+embedding");
  const Json& posts = (*r)["output"]["posts"];
  ASSERT_FALSE(posts.empty());
  EXPECT_EQ(posts[0]["title"], "Kanister");
  EXPECT_GT(posts[0]["score"].get<double>(), 0.5);
  // The posts' vectors are cached: a second search embeds only the query.
  const int before = calls.load();
  ASSERT_TRUE(call("market.search", Json{{"query", "water"}}));
  EXPECT_EQ(calls.load(), before + 1);
}

// MarketView::search ranks inside FTS5 and reads only the best posts: a post past its
// expiry that the sweeper has not expired yet and a hidden (revoked) author's posts are
// skipped, and the view asks FTS5 for more rather than come up short of the limit.
TEST(MarketViewSearch, RanksByBm25AndSkipsExpiredAndHiddenPostsWithoutComingUpShort) {
  auto view = MarketView::open(nullptr).value();
  const std::string hidden = "ed25519:hidden-author";
  auto apply = [&](int i, const std::string& author, const std::string& title, int ttl) {
    events::Event e;
    char id[32];
    std::snprintf(id, sizeof id, "01HXR%021d", i);
    e.event_id = EventId(id);
    e.lamport = i + 1;
    e.wall_clock = "2026-05-26T08:14:22Z";
    e.author = NodeId(author);
    e.event_type = events::EventType::market_post_created;
    e.data = Json{{"client_id", "c" + std::to_string(i)},
                  {"category", "offer"},
                  {"title", title},
                  {"body", "eine kanne tee und " + std::to_string(i) + " tassen"},
                  {"tags", Json::array()},
                  {"ttl_seconds", ttl}};
    view->apply(e);
  };
  apply(0, "ed25519:visible", "kanne", 86400);  // the title weighs most: first
  apply(1, "ed25519:visible", "one", 60);       // past its expiry at `now`, not swept
  for (int i = 2; i < 40; ++i) apply(i, i % 2 ? hidden : "ed25519:visible", "post", 86400);
  const std::int64_t now = *parse_rfc3339("2026-05-26T08:14:22Z") * 1000 + 3600 * 1000;

  auto top = view->search({"kanne"}, 10, now, {hidden});
  ASSERT_TRUE(top) << top.error().to_string();
  ASSERT_EQ(top->size(), 10u);
  EXPECT_EQ(top->front().post.title, "kanne");
  for (std::size_t i = 0; i < top->size(); ++i) {
    EXPECT_NE((*top)[i].post.author.str(), hidden);
    EXPECT_NE((*top)[i].post.title, "one");
    EXPECT_GT((*top)[i].score, 0.0);
    if (i > 0) {
      EXPECT_LE((*top)[i].score, (*top)[i - 1].score);
    }
  }
  // Everything eligible when the limit is past it: post 0 and the 19 visible of 2..39.
  auto all = view->search({"kanne", "tee"}, 50, now, {hidden});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 20u);
  EXPECT_TRUE(view->search({"nichts"}, 10, now).value().empty());
}

TEST_F(Market, SnapshotStateRestoresToAnEqualView) {
  post("a", "One", "body", {{"tags", {"x"}}});
  const Json p = post("b", "Two");
  ASSERT_TRUE(call("market.expire",
                   Json{{"client_id", "e"}, {"event_id", p["event_id"]}, {"reason", "withdrawn"}}));
  const Json state = service->view().snapshot_state();
  auto other = MarketView::open(nullptr).value();
  ASSERT_TRUE(other->restore_state(state));
  EXPECT_EQ(other->snapshot_state(), state);
  EXPECT_EQ(other->search({"body"}, 10, clock.now_ms()).value().size(), 1u);
  // A malformed state is refused and leaves the view as it was.
  Json broken = state;
  broken["posts"][0]["title"] = 7;
  EXPECT_FALSE(other->restore_state(broken));
  EXPECT_EQ(other->snapshot_state(), state);
}

TEST_F(Market, MalformedPeerDataIsSkippedNotApplied) {
  ASSERT_TRUE(log->append_local(
      events::EventType::market_post_created,
      Json{{"client_id", "x"}, {"category", "loot"}, {"title", "t"}, {"ttl_seconds", 60}}, bob));
  EXPECT_TRUE(list()["posts"].empty());
  EXPECT_EQ(service->health()["skipped"], 1);
}

}  // namespace
}  // namespace hn::services::market
