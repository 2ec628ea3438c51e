// market_test.cpp — the marketplace across two real `hearthnet` nodes (issue #13 §2, M06,
// CONTRACT §4.11–4.14): a post on A appears on B (sync every second, the test hook); search
// finds it by a word of its body; a second market.post with the same client_id makes no
// second post; a non-author gets unauthorized; the author's expiry and the ttl both end it
// on every node, and the sweeper records the expiry; a restart keeps the posts; a revoked
// member's posts are refused.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "core/json.h"
#include "support/node_fixture.h"
#include "support/test_node.h"
#include "support/test_support.h"

namespace hn {
namespace {

using test::eventually;
using test::join;
using test::node_id_of;
using test::NodeProcess;
using test::status_of;

constexpr int EXIT_AUTH = 4;

// The titles of `market list --json` on n ("?" when the command fails).
std::vector<std::string> titles_on(const NodeProcess& n) {
  auto r = n.cli({"market", "list", "--json"});
  auto j = parse_json(r.out);
  if (r.exit_code != 0 || !j) return {"?"};
  std::vector<std::string> t;
  for (const auto& p : (*j)["posts"]) t.push_back(p["title"]);
  return t;
}

bool lists(const NodeProcess& n, const std::string& title) {
  const auto t = titles_on(n);
  return std::find(t.begin(), t.end(), title) != t.end();
}

class MarketMesh : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    a = make("market-a", test::NO_DISCOVERY, true);
    ASSERT_TRUE(a->start(&error)) << error;
    b = make("market-b",
             std::string(test::NO_DISCOVERY) +
                 "bootstrap_peers = [\"127.0.0.1:" + std::to_string(a->port()) + "\"]\n",
             false);
    ASSERT_TRUE(join(*a, *b));
    ASSERT_TRUE(b->start(&error)) << error;
    id_a = node_id_of(*a);
    id_b = node_id_of(*b);
  }
  std::unique_ptr<NodeProcess> make(const std::string& name, std::string discovery, bool founder) {
    auto n = std::make_unique<NodeProcess>(test::NodeOptions{
        .name = name, .discovery = std::move(discovery), .found_community = founder});
    n->add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=1");
    n->add_env("HEARTHNET_MARKET_SWEEP_SECONDS=1");
    return n;
  }
  // `market post` on n; the event id ("" on failure, with the error in the test log).
  std::string post(const NodeProcess& n, std::vector<std::string> args) {
    std::vector<std::string> argv{"market", "post", "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = n.cli(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto j = parse_json(r.out);
    return j ? j->value("event_id", "") : "";
  }

  std::unique_ptr<NodeProcess> a, b;
  std::string id_a, id_b;
};

TEST_F(MarketMesh, PostsTravelSearchExpireAndStayUnique) {
  const std::string id =
      post(*a, {"--category", "offer", "--title", "Wasserkanister 20L", "--body",
                "Sauberer Kanister, abzuholen in Issum", "--tag", "wasser", "--client-id", "k-1"});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(eventually([&] { return lists(*b, "Wasserkanister 20L"); })) << titles_on(*b).size();

  // Search on B finds it by a word of its body, with a score.
  auto found = b->cli({"market", "search", "issum", "--json"});
  ASSERT_EQ(found.exit_code, 0) << found.err;
  auto fj = parse_json(found.out);
  ASSERT_TRUE(fj);
  ASSERT_EQ((*fj)["posts"].size(), 1u) << found.out;
  EXPECT_EQ((*fj)["posts"][0]["event_id"], id);
  EXPECT_GT((*fj)["posts"][0]["score"].get<double>(), 0.0);

  // The same client_id again: the same post, no second one anywhere.
  EXPECT_EQ(
      post(*a, {"--category", "offer", "--title", "Wasserkanister 20L", "--client-id", "k-1"}), id);
  const std::string other = post(*a, {"--category", "request", "--title", "Suche Leiter"});
  ASSERT_TRUE(eventually([&] { return lists(*b, "Suche Leiter"); }));
  EXPECT_EQ(titles_on(*b), (std::vector<std::string>{"Suche Leiter", "Wasserkanister 20L"}));

  // B is not the author and no moderator.
  auto refused = b->cli({"market", "expire", id, "--reason", "fulfilled"});
  EXPECT_EQ(refused.exit_code, EXIT_AUTH) << refused.err;
  EXPECT_NE(refused.err.find("unauthorized"), std::string::npos) << refused.err;
  auto unknown = b->cli({"market", "expire", "01HXR0000000000000000000AA", "--reason", "stale"});
  EXPECT_NE(unknown.err.find("not_found"), std::string::npos) << unknown.err;

  // The author ends it: gone on both.
  auto expired = a->cli({"market", "expire", id, "--reason", "fulfilled", "--json"});
  ASSERT_EQ(expired.exit_code, 0) << expired.err;
  EXPECT_FALSE(lists(*a, "Wasserkanister 20L"));
  EXPECT_TRUE(
      eventually([&] { return !lists(*b, "Wasserkanister 20L") && lists(*b, "Suche Leiter"); }));

  // A post with a 2 s ttl ends on its own; A's sweeper records the expiry (reason stale).
  auto short_lived = a->cli(
      {"call", "market.post@1.0", "--body",
       R"({"input":{"client_id":"short-1","category":"info","title":"Kurz","ttl_seconds":2}})"});
  ASSERT_EQ(short_lived.exit_code, 0) << short_lived.err;
  ASSERT_TRUE(eventually([&] { return lists(*b, "Kurz"); }));
  EXPECT_TRUE(eventually([&] { return !lists(*a, "Kurz") && !lists(*b, "Kurz"); }));
  EXPECT_TRUE(eventually([&] {
    return status_of(*a)["services"]["marketplace"]["health"].value("swept", 0) >= 1;
  })) << status_of(*a)["services"].dump();
  (void)other;

  // A restart restores the marketplace (snapshot + the log) with what was current.
  ASSERT_EQ(a->stop(), 0);
  std::string error;
  ASSERT_TRUE(a->start(&error)) << error;
  EXPECT_EQ(titles_on(*a), std::vector<std::string>{"Suche Leiter"});
}

TEST_F(MarketMesh, ARevokedMembersPostsAreRefused) {
  post(*b, {"--category", "offer", "--title", "Von B vorher"});
  ASSERT_TRUE(eventually([&] { return lists(*a, "Von B vorher"); }));
  // A, the root, revokes B (alone: nobody else may sign in a community of two).
  auto revoked = a->cli({"member", "revoke", id_b, "--reason", "test"});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  // B's posts leave A's marketplace, and what B posts now never reaches it.
  EXPECT_TRUE(eventually([&] { return !lists(*a, "Von B vorher"); })) << titles_on(*a).size();
  post(*b, {"--category", "offer", "--title", "Von B nachher"});
  std::this_thread::sleep_for(std::chrono::seconds(4));  // several sync rounds
  EXPECT_FALSE(lists(*a, "Von B nachher"));
  auto search = a->cli({"market", "search", "nachher", "--json"});
  ASSERT_EQ(search.exit_code, 0) << search.err;
  EXPECT_TRUE((*parse_json(search.out))["posts"].empty()) << search.out;
}

}  // namespace
}  // namespace hn
