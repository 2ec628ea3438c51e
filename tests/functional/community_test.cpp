// community_test.cpp — the community capabilities across four real `hearthnet` nodes (issue
// #13 §4, CONTRACT §4.17–4.18, doc/design/governance.md "Over the bus"): community.invite
// issues trusted invites, `member revoke` is community.revoke and gathers the policy's
// co-signatures over the bus from online trusted members — who sign only what their own
// operator asked for — so one member alone is refused and the second one's request lands
// on every node with 2 of 2 signatures; the revoked member's calls are refused and
// `member list` shows levels and states.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "support/node_fixture.h"
#include "support/test_node.h"
#include "support/test_support.h"

namespace hn {
namespace {

using test::eventually;
using test::node_id_of;
using test::NodeProcess;
using test::status_of;
using test::trim;

constexpr int EXIT_AUTH = 4;

std::string bootstrap(const std::vector<int>& ports) {
  std::string list = std::string(test::NO_DISCOVERY) + "bootstrap_peers = [";
  for (std::size_t i = 0; i < ports.size(); ++i) {
    list += (i ? ", " : "") + std::string("\"127.0.0.1:") + std::to_string(ports[i]) + "\"";
  }
  return list + "]\n";
}

// The entry of `member list --json` on n for id (null when absent).
Json member_entry(const NodeProcess& n, const std::string& id) {
  auto r = n.cli({"member", "list", "--json"});
  if (r.exit_code != 0) return Json();
  auto j = parse_json(r.out);
  if (!j) return Json();
  for (const auto& m : (*j)["members"]) {
    if (m.value("node_id", "") == id) return m;
  }
  return Json();
}

std::string echo_on(const NodeProcess& n, const std::string& node, std::string* err) {
  auto r = n.cli({"call", "diag.echo@1.0", "--body", R"({"input":{"text":"ping"}})", "--node", node});
  *err = r.err;
  if (r.exit_code != 0) return "";
  auto j = parse_json(r.out);
  return j ? (*j)["meta"].value("node_id", "") : "";
}

class CommunityCaps : public ::testing::Test {
 protected:
  std::unique_ptr<NodeProcess> make(const std::string& name, std::string discovery, bool founder,
                                    int port = 0) {
    auto n = std::make_unique<NodeProcess>(test::NodeOptions{.name = name,
                                                             .port = port,
                                                             .discovery = std::move(discovery),
                                                             .found_community = founder});
    n->add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=2");
    n->add_env("HEARTHNET_STATIC_PEER_INTERVAL_SECONDS=1");
    return n;
  }
  // joiner redeems an invite that a issued through community.invite@1.0 at `level`.
  ::testing::AssertionResult invite_and_redeem(const NodeProcess& joiner, const std::string& level) {
    auto card = joiner.cli({"id"});
    if (card.exit_code != 0) return ::testing::AssertionFailure() << card.err;
    const Json body{{"input", {{"invitee_node_id", trim(card.out)}, {"initial_level", level}}}};
    auto invite = a->cli({"call", "community.invite@1.0", "--body", body.dump()});
    if (invite.exit_code != 0) return ::testing::AssertionFailure() << invite.err;
    auto j = parse_json(invite.out);
    if (!j) return ::testing::AssertionFailure() << invite.out;
    const std::string blob = (*j)["output"].value("invite_blob", "");
    if (blob.rfind("hearthnet://v1/", 0) != 0) return ::testing::AssertionFailure() << invite.out;
    auto redeem = joiner.cli({"invite", "redeem", blob});
    if (redeem.exit_code != 0) return ::testing::AssertionFailure() << redeem.err;
    return ::testing::AssertionSuccess();
  }
  bool all_see(const std::string& id, const std::string& state) const {
    for (const auto* n : {a.get(), b.get(), c.get()}) {
      if (member_entry(*n, id).value("state", "") != state) return false;
    }
    return true;
  }

  std::unique_ptr<NodeProcess> a, b, c, d;  // a founds and knows everyone; b, c trusted; d member
};

TEST_F(CommunityCaps, RevocationNeedsThePolicysCoSignaturesGatheredOverTheBus) {
  std::string error;
  const int pb = test::unused_port(), pc = test::unused_port(), pd = test::unused_port();
  a = make("com-a", bootstrap({pb, pc, pd}), true);
  ASSERT_TRUE(a->start(&error)) << error;
  b = make("com-b", bootstrap({a->port(), pc}), false, pb);
  c = make("com-c", bootstrap({a->port(), pb}), false, pc);
  d = make("com-d", bootstrap({a->port()}), false, pd);
  ASSERT_TRUE(invite_and_redeem(*b, "trusted"));
  ASSERT_TRUE(invite_and_redeem(*c, "trusted"));
  ASSERT_TRUE(invite_and_redeem(*d, "member"));
  for (auto* n : {b.get(), c.get(), d.get()}) ASSERT_TRUE(n->start(&error)) << error;
  const std::string id_a = node_id_of(*a), id_b = node_id_of(*b), id_c = node_id_of(*c),
                    id_d = node_id_of(*d);
  // CONTRACT §4.17: an invite never grants anchor (the request schema's enum).
  auto anchor = a->cli({"call", "community.invite@1.0", "--body",
                        Json{{"input", {{"invitee_node_id", id_d}, {"initial_level", "anchor"}}}}.dump()});
  EXPECT_NE(anchor.exit_code, 0);

  // The root sets the policy: two signatures revoke.
  ASSERT_EQ(a->cli({"community", "policy", "set", "min_signatures_to_revoke", "2"}).exit_code, 0);
  ASSERT_TRUE(eventually([&] {
    return member_entry(*b, id_d).value("state", "") == "active" &&
           member_entry(*c, id_b).value("level", "") == "trusted" &&
           member_entry(*b, id_c).value("level", "") == "trusted" &&
           status_of(*a)["peers"].value("count", 0) == 3 &&
           status_of(*b)["peers"].value("count", 0) == 2 &&
           status_of(*c)["peers"].value("count", 0) == 2;
  })) << status_of(*a)["peers"].dump();
  ASSERT_TRUE(eventually([&] {
    auto s = b->cli({"community", "policy", "show", "--json"});
    auto j = parse_json(s.out);
    return j && (*j)["policy"].value("min_signatures_to_revoke", 0) == 2;
  }));
  std::string err;
  ASSERT_EQ(echo_on(*d, id_a, &err), id_a) << err;

  // b alone: a and c are asked and decline (their operators asked for nothing) — refused.
  auto lone = b->cli({"member", "revoke", id_d, "--reason", "compromised", "--json"});
  EXPECT_EQ(lone.exit_code, EXIT_AUTH) << lone.err;
  EXPECT_NE(lone.err.find("needs 2 signatures"), std::string::npos) << lone.err;
  auto detail = parse_json(lone.out);
  ASSERT_TRUE(detail.has_value()) << lone.out;
  EXPECT_EQ((*detail)["asked"].size(), 2u) << detail->dump();
  EXPECT_EQ((*detail)["declined"].size(), 2u) << detail->dump();
  EXPECT_TRUE(all_see(id_d, "active"));

  // c asks for the same: b signs (its operator asked), 2 of 2 — it lands everywhere.
  auto second = c->cli({"member", "revoke", id_d, "--reason", "compromised", "--json"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  auto done = parse_json(second.out);
  ASSERT_TRUE(done.has_value()) << second.out;
  EXPECT_EQ(done->value("signatures", 0), 2) << done->dump();
  EXPECT_EQ(done->value("required", 0), 2) << done->dump();
  ASSERT_TRUE(eventually([&] { return all_see(id_d, "revoked"); }))
      << member_entry(*a, id_d).dump() << member_entry(*b, id_d).dump();
  for (const auto* n : {a.get(), b.get(), c.get()}) {
    EXPECT_EQ(status_of(*n)["community"]["revoked_count"], 1);
  }

  // The revoked member's calls are refused.
  ASSERT_TRUE(eventually([&] { return echo_on(*d, id_a, &err).empty(); }));
  EXPECT_NE(err.find("revoked"), std::string::npos) << err;

  // member list: levels and states.
  EXPECT_EQ(member_entry(*a, id_a).value("level", ""), "anchor");
  EXPECT_TRUE(member_entry(*a, id_a).value("self", false));
  EXPECT_EQ(member_entry(*a, id_b).value("level", ""), "trusted");
  EXPECT_EQ(member_entry(*a, id_b).value("state", ""), "active");
  EXPECT_EQ(member_entry(*a, id_d).value("reason", ""), "compromised");
  auto text = a->cli({"member", "list"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("revoked"), std::string::npos) << text.out;

  // community.revoke acts for the node's own operator only: a peer's call is refused.
  const Json body{{"input", {{"target_node_id", id_c}}}};
  auto remote = b->cli({"call", "community.revoke@1.0", "--body", body.dump(), "--node", id_a});
  EXPECT_NE(remote.exit_code, 0);
  EXPECT_NE(remote.err.find("unauthorized"), std::string::npos) << remote.err;
}

}  // namespace
}  // namespace hn
