// governance_test.cpp — the community's governance across three real `hearthnet` nodes
// (CONTRACT §4.17, §4.18, §7.2; doc/design/governance.md): a lone trusted member cannot
// revoke, promote or promote itself, nobody can touch the root, an anchor invite is refused,
// and a promotion co-signed through `member cosign` files lands on every node alike. Only the
// root changes the policy.
#include <gtest/gtest.h>

#include <memory>

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

std::string level_on(const NodeProcess& n, const std::string& id) {
  auto levels = status_of(n)["community"]["levels"];
  return levels.is_object() ? levels.value(id, "") : "";
}

class GovernanceMesh : public ::testing::Test {
 protected:
  std::unique_ptr<NodeProcess> make(const std::string& name, std::string discovery, bool founder) {
    auto n = std::make_unique<NodeProcess>(test::NodeOptions{
        .name = name, .discovery = std::move(discovery), .found_community = founder});
    n->add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=2");
    return n;
  }
  std::string to_a() const {
    return std::string(test::NO_DISCOVERY) +
           "bootstrap_peers = [\"127.0.0.1:" + std::to_string(a->port()) + "\"]\n";
  }
  // Every node's view of id's level is `level`.
  bool all_see(const std::string& id, const std::string& level) const {
    return level_on(*a, id) == level && level_on(*b, id) == level && level_on(*c, id) == level;
  }

  std::unique_ptr<NodeProcess> a, b, c;  // a founds; b and c join through a
};

TEST_F(GovernanceMesh, ActionsNeedThePolicysCoSignatures) {
  std::string error;
  a = make("gov-a", test::NO_DISCOVERY, true);
  ASSERT_TRUE(a->start(&error)) << error;
  b = make("gov-b", to_a(), false);
  c = make("gov-c", to_a(), false);
  ASSERT_TRUE(join(*a, *b));
  ASSERT_TRUE(join(*a, *c));
  ASSERT_TRUE(b->start(&error)) << error;
  ASSERT_TRUE(c->start(&error)) << error;
  const std::string id_a = node_id_of(*a), id_b = node_id_of(*b), id_c = node_id_of(*c);
  ASSERT_TRUE(eventually([&] { return all_see(id_c, "member") && all_see(id_b, "member"); }));

  // CONTRACT §4.17: an invite never grants anchor.
  auto x = make("gov-x", test::NO_DISCOVERY, false);
  auto card = x->cli({"id"});
  auto anchor_invite =
      a->cli({"invite", "create", "--node-id", test::trim(card.out), "--level", "anchor"});
  EXPECT_NE(anchor_invite.exit_code, 0);
  EXPECT_NE(anchor_invite.err.find("bad_request"), std::string::npos) << anchor_invite.err;

  // The root is the only trusted-or-anchor member: it promotes b alone.
  auto promote_b = a->cli({"member", "promote", id_b, "--level", "trusted", "--json"});
  ASSERT_EQ(promote_b.exit_code, 0) << promote_b.err;
  EXPECT_EQ(parse_json(promote_b.out)->value("required", 0), 1);
  ASSERT_TRUE(eventually([&] { return all_see(id_b, "trusted"); }));

  // Now a and b may sign: b alone can do nothing, and nobody can touch the root.
  auto lone_revoke = b->cli({"member", "revoke", id_c, "--reason", "test"});
  EXPECT_EQ(lone_revoke.exit_code, EXIT_AUTH) << lone_revoke.err;
  EXPECT_NE(lone_revoke.err.find("needs 2 signatures"), std::string::npos) << lone_revoke.err;
  EXPECT_EQ(b->cli({"member", "promote", id_c, "--level", "anchor"}).exit_code, EXIT_AUTH);
  EXPECT_EQ(b->cli({"member", "promote", id_b, "--level", "anchor"}).exit_code, EXIT_AUTH);
  auto root = b->cli({"member", "revoke", id_a});
  EXPECT_EQ(root.exit_code, EXIT_AUTH);
  EXPECT_NE(root.err.find("root"), std::string::npos) << root.err;
  EXPECT_EQ(b->cli({"community", "policy", "set", "min_signatures_to_revoke", "1"}).exit_code,
            EXIT_AUTH);

  // Co-signed: b writes the request, a signs it (its own home), b acts with the signature.
  const auto request = b->home() / "promote-c.json";
  const auto sig = a->home() / "sig-a.json";
  auto written =
      b->cli({"member", "promote", id_c, "--level", "trusted", "--request-out", request.string()});
  ASSERT_EQ(written.exit_code, 0) << written.err;
  auto signed_by_a = a->cli({"member", "cosign", request.string(), "--out", sig.string()});
  ASSERT_EQ(signed_by_a.exit_code, 0) << signed_by_a.err;
  auto acted = b->cli(
      {"member", "promote", "--request", request.string(), "--cosig", sig.string(), "--json"});
  ASSERT_EQ(acted.exit_code, 0) << acted.err;
  auto answer = parse_json(acted.out);
  ASSERT_TRUE(answer.has_value()) << acted.out;
  EXPECT_EQ(answer->value("signatures", 0), 2);
  EXPECT_EQ(answer->value("required", 0), 2);
  ASSERT_TRUE(eventually([&] { return all_see(id_c, "trusted"); }))
      << level_on(*a, id_c) << " " << level_on(*b, id_c) << " " << level_on(*c, id_c);
  // The same signatures do not serve twice (the request was applied).
  auto again =
      b->cli({"member", "promote", "--request", request.string(), "--cosig", sig.string()});
  EXPECT_NE(again.exit_code, 0);

  // Lone actions changed nothing anywhere.
  for (const auto* n : {a.get(), b.get(), c.get()}) {
    EXPECT_EQ(status_of(*n)["community"]["revoked_count"], 0);
    EXPECT_EQ(level_on(*n, id_a), "anchor");
    EXPECT_EQ(level_on(*n, id_b), "trusted");
  }

  // The root changes the policy (revoke with one signature); once it reached b, b's lone
  // revoke takes effect on every node.
  auto policy = a->cli({"community", "policy", "set", "min_signatures_to_revoke", "1", "--json"});
  ASSERT_EQ(policy.exit_code, 0) << policy.err;
  EXPECT_EQ((*parse_json(policy.out))["policy"]["min_signatures_to_revoke"], 1);
  auto shown = a->cli({"community", "policy", "show", "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ((*parse_json(shown.out))["policy"]["min_signatures_to_revoke"], 1);
  auto bad = a->cli({"community", "policy", "set", "no_such_field", "1"});
  EXPECT_NE(bad.exit_code, 0);
  // A member's `policy show` is its running node's view (only the root rewrites the
  // community manifest file, so the file there still holds the founding policy).
  auto revoke_on = [](const NodeProcess& n) -> Json {
    auto s = n.cli({"community", "policy", "show", "--json"});
    if (s.exit_code != 0) return Json();
    auto j = parse_json(s.out);
    return j ? (*j)["policy"]["min_signatures_to_revoke"] : Json();
  };
  EXPECT_TRUE(eventually([&] { return revoke_on(*b) == 1; })) << revoke_on(*b).dump();
  ASSERT_TRUE(eventually([&] {
    return b->cli({"member", "revoke", id_c, "--reason", "t"}).exit_code == 0;
  }));
  EXPECT_TRUE(eventually([&] {
    return status_of(*a)["community"]["revoked_count"] == 1 &&
           status_of(*b)["community"]["revoked_count"] == 1;
  }));
  // With its node stopped, `policy show` falls back to the manifest file.
  ASSERT_EQ(a->stop(), 0);
  EXPECT_EQ(revoke_on(*a), 1);
}

}  // namespace
}  // namespace hn
