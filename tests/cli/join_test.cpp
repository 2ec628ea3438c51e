// join_test.cpp — joining from the command line with real nodes: `invite redeem` takes the
// invite as text, as a file path, or on stdin (M12 §3.12), and `init --join` joins instead
// of founding (M13 first run, chosen by flag); without a terminal `init` asks nothing.
#include <gtest/gtest.h>

#include <fstream>

#include "core/json.h"
#include "support/test_node.h"
#include "support/test_support.h"

namespace hn {
namespace {
namespace fs = std::filesystem;

test::NodeOptions joiner_options() {
  test::NodeOptions o;
  o.found_community = false;
  return o;
}

class JoinTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(m_inviter.start(&error)) << error;
    m_community = test::status_of(m_inviter)["community"].value("community_id", "");
    ASSERT_FALSE(m_community.empty());
  }
  // An invite for joiner, issued by the running inviter.
  std::string invite_for(const test::NodeProcess& joiner) {
    auto card = joiner.cli({"id"});
    EXPECT_EQ(card.exit_code, 0) << card.err;
    auto invite = m_inviter.cli({"invite", "create", "--node-id", test::trim(card.out)});
    EXPECT_EQ(invite.exit_code, 0) << invite.err;
    return test::trim(invite.out);
  }
  void expect_joined(const test::ProcessResult& r) {
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto report = parse_json(r.out);
    ASSERT_TRUE(report.has_value()) << r.out;
    EXPECT_EQ((*report)["community_id"], m_community);
  }
  test::NodeProcess m_inviter;
  std::string m_community;
  test::TempDir m_files;
};

TEST_F(JoinTest, RedeemReadsTheInviteFromAFile) {
  test::NodeProcess joiner(joiner_options());
  const auto file = m_files / "invite.txt";
  std::ofstream(file) << "\n  " << invite_for(joiner) << "  \n";  // as pasted: whitespace around
  auto r = joiner.cli({"invite", "redeem", file.string(), "--json"});
  expect_joined(r);
  EXPECT_EQ(parse_json(r.out)->value("level", ""), "member");
}

TEST_F(JoinTest, RedeemReadsTheInviteFromStdin) {
  test::NodeProcess joiner(joiner_options());
  auto r = test::run_process(joiner.command({"invite", "redeem", "-", "--json"}), joiner.env(),
                             invite_for(joiner) + "\n");
  expect_joined(r);
}

TEST_F(JoinTest, RedeemOfAMissingFileOrEmptyInputIsATypedError) {
  test::NodeProcess joiner(joiner_options());
  auto r = joiner.cli({"invite", "redeem", (m_files / "no-such-file").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("invite_invalid"), std::string::npos) << r.err;
  r = test::run_process(joiner.command({"invite", "redeem", "-"}), joiner.env(), "  \n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("invite_invalid"), std::string::npos) << r.err;
}

TEST_F(JoinTest, InitJoinJoinsInsteadOfFounding) {
  test::NodeProcess joiner(joiner_options());
  const auto file = m_files / "invite.txt";
  std::ofstream(file) << invite_for(joiner) << "\n";
  auto r = joiner.cli(
      {"init", "--non-interactive", "--name", "joiner", "--join", file.string(), "--json"});
  expect_joined(r);
  auto report = parse_json(r.out);
  EXPECT_EQ((*report)["founded"], false);
  EXPECT_EQ((*report)["joined"], true);
  EXPECT_EQ((*report)["display_name"], "joiner");

  std::string error;
  ASSERT_TRUE(joiner.start(&error)) << error;
  EXPECT_EQ(test::status_of(joiner)["community"].value("community_id", ""), m_community);
}

TEST(Init, WithoutATerminalFoundsACommunityWithoutAsking) {
  test::TempDir home;
  // stdin is a pipe: nothing is asked even with input waiting, and a community is founded.
  auto r = test::run_process({test::hearthnet_binary().string(), "init", "--json"},
                             test::home_env(home.path()), "2\nsome answer\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto report = parse_json(r.out);
  ASSERT_TRUE(report.has_value()) << r.out;
  EXPECT_EQ((*report)["founded"], true);
  EXPECT_EQ((*report)["joined"], false);
  EXPECT_EQ(r.err.find("Create or join"), std::string::npos);
  EXPECT_EQ(r.out.find("Create or join"), std::string::npos);
  // --create and --join exclude each other.
  auto both =
      test::run_process({test::hearthnet_binary().string(), "init", "--create", "--join", "x"},
                        test::home_env(home.path()));
  EXPECT_EQ(both.exit_code, 2);
}

}  // namespace
}  // namespace hn
