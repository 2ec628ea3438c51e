// cli_test.cpp — the standalone commands of M12 run as the real `hearthnet` binary against
// a scratch HEARTHNET_HOME: init, doctor, export, erase, exit codes.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "cli/export_archive.h"
#include "core/file_util.h"
#include "core/json.h"
#include "support/test_support.h"

namespace hn {
namespace {

class CliTest : public ::testing::Test {
 protected:
  test::ProcessResult hearthnet(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), test::hearthnet_binary().string());
    return test::run_process(args, test::home_env(m_home.path()), input);
  }
  test::TempDir m_home;
};

// A TCP port held by "another program": a listening socket on every address.
struct HeldPort {
  HeldPort() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd, 1);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~HeldPort() { ::close(fd); }
  int fd = -1;
  int port = 0;
};

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 0777;
}

TEST_F(CliTest, InitCreatesIdentityConfigAndCommunity) {
  auto r = hearthnet({"init", "--non-interactive", "--name", "demo"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("founded"), std::string::npos);
  EXPECT_EQ(mode_of(m_home / "keys/device.ed25519"), 0600u);
  EXPECT_EQ(mode_of(m_home / "keys/device.pub"), 0644u);
  auto config = read_file(m_home / "config.toml");
  ASSERT_TRUE(config.has_value());
  EXPECT_NE(config->find("display_name = \"demo\""), std::string::npos);
  EXPECT_NE(config->find("community_id = \"ed25519:"), std::string::npos);

  // Idempotent: a second run founds nothing new and keeps the identity.
  auto again = hearthnet({"init", "--non-interactive"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out.find("founded"), std::string::npos);
  EXPECT_EQ(again.out.find("new identity"), std::string::npos);
}

TEST_F(CliTest, DoctorReportsEveryCheckAfterInit) {
  ASSERT_EQ(hearthnet({"init", "--non-interactive", "--name", "demo"}).exit_code, 0);
  auto r = hearthnet({"doctor", "--json"});
  auto report = parse_json(r.out);
  ASSERT_TRUE(report.has_value()) << r.out << r.err;
  std::map<std::string, std::string> status;
  std::map<std::string, std::string> message;
  std::vector<std::string> order;
  for (const auto& c : (*report)["checks"]) {
    status[c["name"]] = c["status"];
    message[c["name"]] = c["message"];
    order.push_back(c["name"]);
  }
  // The twelve standard checks of X03 §6.2, in the spec's order.
  const std::vector<std::string> standard = {
      "keys_present", "keys_loadable", "community_present", "event_log_writable",
      "mdns_socket", "udp_multicast", "transport_port", "at_least_one_capability",
      "disk_space", "clock_sanity", "llm_backend_reachable", "recent_error_rate"};
  EXPECT_EQ(order, standard);
  for (const char* name : {"keys_present", "keys_loadable", "community_present", "event_log_writable",
                           "clock_sanity"}) {
    EXPECT_EQ(status[name], "ok") << name;
  }
  // Without a running node, what only it can answer says so (a warning, not a failure).
  for (const char* name : {"at_least_one_capability", "llm_backend_reachable", "recent_error_rate"}) {
    EXPECT_EQ(status[name], "warn") << name;
    EXPECT_EQ(message[name], "node not running") << name;
  }
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

TEST_F(CliTest, TransportPortTakenByAnotherProgramFails) {
  ASSERT_EQ(hearthnet({"init", "--non-interactive"}).exit_code, 0);
  HeldPort other;
  auto text = read_file(m_home / "config.toml");
  ASSERT_TRUE(text.has_value());
  std::string config = *text;
  const auto at = config.find("port = ");
  ASSERT_NE(at, std::string::npos);
  config.replace(at, config.find('\n', at) - at, "port = " + std::to_string(other.port));
  ASSERT_TRUE(atomic_write_file(m_home / "config.toml", config).has_value());
  auto r = hearthnet({"doctor", "--check", "transport_port"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("taken by another program"), std::string::npos) << r.out;
}

// M12 §3.2 writes `hearthnet run --config PATH`: global options go after the subcommand too.
TEST_F(CliTest, GlobalOptionsGoAfterTheSubcommandToo) {
  ASSERT_EQ(hearthnet({"init", "--non-interactive"}).exit_code, 0);
  test::TempDir elsewhere;
  std::ofstream(elsewhere / "config.toml") << "[transport]\nportt = 1\n";
  const std::string bad = (elsewhere / "config.toml").string();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"doctor", "--config", bad},
        std::vector<std::string>{"--config", bad, "doctor"},
        std::vector<std::string>{"status", "--config", bad},
        std::vector<std::string>{"trace", "recent", "--config", bad}}) {
    auto r = hearthnet(args);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("transport.portt"), std::string::npos) << args[0] << ": " << r.err;
  }
  // The good config after the subcommand is the one used.
  auto ok = hearthnet({"doctor", "--check", "keys_present", "--config", (m_home / "config.toml").string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST_F(CliTest, DoctorFailsOnWorldReadableKeyAndUnknownCheck) {
  ASSERT_EQ(hearthnet({"init", "--non-interactive"}).exit_code, 0);
  ::chmod((m_home / "keys/device.ed25519").c_str(), 0644);
  auto r = hearthnet({"doctor", "--check", "keys_loadable"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("keys_permissions"), std::string::npos);
  EXPECT_EQ(hearthnet({"doctor", "--check", "no_such_check"}).exit_code, 2);
}

TEST_F(CliTest, DoctorWithoutInitFails) {
  auto r = hearthnet({"doctor"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("keys_present"), std::string::npos);
}

TEST_F(CliTest, BadConfigNamesTheKey) {
  ASSERT_EQ(hearthnet({"init", "--non-interactive"}).exit_code, 0);
  std::ofstream(m_home / "config.toml", std::ios::app) << "\n[transport]\nportt = 1\n";
  auto r = hearthnet({"doctor"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("config_error"), std::string::npos) << r.err;
}

TEST_F(CliTest, ExportIsSignedAndTamperEvident) {
  ASSERT_EQ(hearthnet({"init", "--non-interactive"}).exit_code, 0);
  const auto out = m_home / "export.zip";
  auto r = hearthnet({"export", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto manifest = cli::verify_signed_export(out);
  ASSERT_TRUE(manifest.has_value()) << manifest.error().to_string();
  std::set<std::string> files;
  for (const auto& f : (*manifest)["files"]) files.insert(f["path"]);
  EXPECT_TRUE(files.count("keys/device.pub"));
  EXPECT_FALSE(files.count("keys/device.ed25519"));  // no secrets without --include-keys
  EXPECT_TRUE(files.count("config.toml"));
  EXPECT_TRUE(files.count("state/events.sqlite"));
  EXPECT_TRUE(files.count("state/manifest.json"));

  // Flip one byte inside the stored data (config.toml's compressed bytes follow the name in
  // its local header; a fixed fraction of the size could land on a header field that the
  // reader ignores): verification must fail.
  auto bytes = *read_file(out);
  const auto at = bytes.find("config.toml");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 200] ^= 0x01;
  ASSERT_TRUE(atomic_write_file(out, bytes).has_value());
  EXPECT_FALSE(cli::verify_signed_export(out).has_value());
}

TEST_F(CliTest, EraseAsksAndKeepsKeysWhenTold) {
  ASSERT_EQ(hearthnet({"init", "--non-interactive"}).exit_code, 0);
  // No confirmation on stdin: aborted, nothing erased.
  EXPECT_EQ(hearthnet({"erase"}, "no\n").exit_code, 2);
  EXPECT_TRUE(fs::exists(m_home / "state"));
  auto r = hearthnet({"erase", "--keep-keys"}, "yes\nyes\nyes\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(m_home / "keys/device.ed25519"));
  EXPECT_EQ(hearthnet({"doctor", "--check", "community_present"}).exit_code, 1);
  ASSERT_EQ(hearthnet({"erase", "--yes"}).exit_code, 0);
  EXPECT_FALSE(fs::exists(m_home / "keys/device.ed25519"));
}

TEST_F(CliTest, VersionAndUsage) {
  auto r = hearthnet({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("contract 1.0"), std::string::npos);
  EXPECT_EQ(hearthnet({}).exit_code, 2);
  EXPECT_EQ(hearthnet({"init", "--profile", "castle"}).exit_code, 2);
}

}  // namespace
}  // namespace hn
