// erase_test.cpp — `hearthnet erase` (M12 §3.10) against a real running node: it stops the
// node first, asks before doing anything, and removes only what HearthNet created — a
// folder the user configured keeps the user's own files.
#include <gtest/gtest.h>

#include <fstream>

#include "core/json.h"
#include "support/test_node.h"
#include "support/test_support.h"

namespace hn {
namespace {
namespace fs = std::filesystem;

test::ProcessResult run_with_input(const test::NodeProcess& n, const std::vector<std::string>& args,
                                   const std::string& input) {
  return test::run_process(n.command(args), n.env(), input);
}

TEST(Erase, StopsTheRunningNodeFirstThenRemovesItsState) {
  test::NodeProcess node;
  std::string error;
  ASSERT_TRUE(node.start(&error)) << error;
  const fs::path home = node.home();
  ASSERT_TRUE(fs::exists(home / "state"));

  // Declined: nothing changes and the node keeps running.
  auto declined = run_with_input(node, {"erase"}, "no\n");
  EXPECT_EQ(declined.exit_code, 2) << declined.err;
  EXPECT_EQ(node.cli({"status", "--json"}).exit_code, 0);
  EXPECT_TRUE(fs::exists(home / "keys/device.ed25519"));

  auto r = node.cli({"erase", "--yes", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto report = parse_json(r.out);
  ASSERT_TRUE(report.has_value()) << r.out;
  EXPECT_EQ((*report)["stopped_node"], true);
  EXPECT_EQ((*report)["failures"], 0);
  EXPECT_EQ((*report)["community_cleared"], true);

  // The node went away by itself (cleanly: exit 0), before its files did.
  EXPECT_EQ(node.stop(0 /* no signal: only wait */, 30), 0) << node.output();
  EXPECT_FALSE(fs::exists(node.port_file()));
  EXPECT_FALSE(fs::exists(home / "keys/device.ed25519"));
  const fs::path communities = home / "state/communities";
  EXPECT_TRUE(!fs::exists(communities) || fs::is_empty(communities));
  EXPECT_FALSE(fs::exists(home / "logs"));
  EXPECT_EQ(node.cli({"status"}).exit_code, 3);
  // The config stays, without a community: init founds or joins again.
  EXPECT_TRUE(fs::exists(home / "config.toml"));
  EXPECT_EQ(node.cli({"init", "--non-interactive"}).exit_code, 0);
}

TEST(Erase, KeepsWhatHearthNetDidNotCreateInFoldersTheUserConfigured) {
  test::TempDir user;
  const fs::path keys = user / "secrets";
  const fs::path files = user / "pictures";
  const fs::path logs = user / "logs";
  for (const auto& d : {keys, files, logs}) fs::create_directories(d);
  std::ofstream(keys / "ssh_key") << "the user's own key\n";
  std::ofstream(files / "holiday.jpg") << "the user's photo\n";
  std::ofstream(logs / "diary.txt") << "the user's notes\n";

  test::NodeOptions options;
  options.found_community = false;
  test::NodeProcess node(options);
  std::ofstream(node.home() / "config.toml", std::ios::app)
      << "[identity]\nkeys_dir = \"" << keys.string() << "\"\n"
      << "[file]\nblobs_dir = \"" << files.string() << "\"\n"
      << "[observability]\nlog_dir = \"" << logs.string() << "\"\n";
  auto init = node.cli({"init", "--non-interactive", "--name", "configured"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  std::string error;
  ASSERT_TRUE(node.start(&error)) << error;
  ASSERT_TRUE(fs::exists(keys / "device.ed25519"));
  ASSERT_TRUE(fs::exists(keys / "tls_key.pem"));
  ASSERT_TRUE(fs::exists(logs / "hearthnet.log"));

  auto r = run_with_input(node, {"erase"}, "yes\nyes\nyes\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("kept 1 entries HearthNet did not create"), std::string::npos) << r.out;
  EXPECT_EQ(node.stop(0, 30), 0);

  // HearthNet's files are gone; the user's files and folders are not.
  for (const char* f : {"device.ed25519", "device.pub", "tls_key.pem", "tls_cert.pem"}) {
    EXPECT_FALSE(fs::exists(keys / f)) << f;
  }
  EXPECT_FALSE(fs::exists(logs / "hearthnet.log"));
  EXPECT_FALSE(fs::exists(files / "pinned.txt"));
  EXPECT_TRUE(fs::exists(keys / "ssh_key"));
  EXPECT_TRUE(fs::exists(files / "holiday.jpg"));
  EXPECT_TRUE(fs::exists(logs / "diary.txt"));
}

TEST(Erase, KeepKeysKeepsTheIdentity) {
  test::NodeProcess node;
  auto id_before = node.cli({"id"});
  ASSERT_EQ(id_before.exit_code, 0) << id_before.err;
  auto r = node.cli({"erase", "--yes", "--keep-keys"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(node.home() / "keys/device.ed25519"));
  EXPECT_EQ(node.cli({"id"}).out, id_before.out);
  EXPECT_EQ(node.cli({"doctor", "--check", "community_present"}).exit_code, 1);
}

}  // namespace
}  // namespace hn
