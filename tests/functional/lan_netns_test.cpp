// lan_netns_test.cpp — three `hearthnet run` processes on a real (virtual) LAN: one network
// namespace per host, joined by a bridge (scripts/netns-lan), each node listening on
// 0.0.0.0:7080 of its own stack with NO discovery configuration beyond turning mDNS off
// (no Avahi inside the namespaces). The default UDP multicast beacons (M02 §5, group
// 239.255.42.42) must be the only way the nodes find each other: no bootstrap peers.
// Membership comes from `hearthnet invite create` on A / `invite redeem` on B and C, the
// invite's bootstrap endpoint being A's namespace address (the node's advertised host).
//
// Needs root and `ip netns`; skips (GTEST_SKIP) otherwise. Teardown kills the nodes and
// deletes the namespaces on every path.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "core/json.h"
#include "functional/functional_util.h"
#include "support/test_support.h"

extern char** environ;

namespace hn {
namespace {

constexpr int NODE_PORT = 7080;
constexpr int WAIT_SECONDS = 40;

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// One host of the LAN: a HEARTHNET_HOME and the namespace every command runs in.
class NsNode {
 public:
  NsNode(std::string ns, std::filesystem::path home, std::string address)
      : m_ns(std::move(ns)), m_home(std::move(home)), m_address(std::move(address)) {
    std::filesystem::create_directories(m_home);
    // Zero discovery settings except mDNS off: the defaults (UDP multicast) must do.
    std::ofstream(m_home / "config.toml") << "[transport]\nhost = \"0.0.0.0\"\nport = " << NODE_PORT
                                          << "\n[discovery]\nmdns_enabled = false\n";
  }
  ~NsNode() { kill_node(); }
  NsNode(const NsNode&) = delete;
  NsNode& operator=(const NsNode&) = delete;

  std::vector<std::string> env() const {
    return {"HEARTHNET_HOME=" + m_home.string(), "HOME=" + m_home.string()};
  }

  test::ProcessResult cli(const std::vector<std::string>& args, int timeout_seconds = 60) const {
    std::vector<std::string> argv{test::find_program("ip"), "netns", "exec", m_ns,
                                  test::hearthnet_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run_process(argv, env(), "", timeout_seconds);
  }

  Json status() const {
    auto r = cli({"status", "--json"}, 20);
    return r.exit_code == 0 ? test::parse_status(r.out) : Json::object();
  }

  // `ip netns exec NS hearthnet run --no-ui` in the background (ip execs hearthnet, so the
  // child pid is the node's); waits until `status` answers inside the namespace.
  bool start(std::string* error) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
    for (const auto& kv : env()) {
      const auto key = kv.substr(0, kv.find('=') + 1);
      std::erase_if(env_strings, [&](const std::string& s) { return s.rfind(key, 0) == 0; });
      env_strings.push_back(kv);
    }
    std::vector<std::string> argv{test::find_program("ip"),          "netns", "exec",   m_ns,
                                  test::hearthnet_binary().string(), "run",   "--no-ui"};
    std::vector<char*> envp, args;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    for (auto& s : argv) args.push_back(s.data());
    args.push_back(nullptr);
    const std::string out_path = (m_home / "node.out").string();
    m_pid = ::fork();
    if (m_pid < 0) {
      *error = "fork failed";
      return false;
    }
    if (m_pid == 0) {
      int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int in = ::open("/dev/null", O_RDONLY);
      if (out >= 0) {
        ::dup2(out, 1);
        ::dup2(out, 2);
      }
      if (in >= 0) ::dup2(in, 0);
      ::execve(args[0], args.data(), envp.data());
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      if (::waitpid(m_pid, &st, WNOHANG) == m_pid) {
        m_pid = -1;
        *error = m_ns + ": hearthnet run exited early: " + output();
        return false;
      }
      if (!status().value("node", Json::object()).value("node_id", "").empty()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    *error = m_ns + ": node did not answer in time: " + output();
    return false;
  }

  void kill_node() {
    if (m_pid <= 0) return;
    ::kill(m_pid, SIGKILL);
    int st = 0;
    ::waitpid(m_pid, &st, 0);
    m_pid = -1;
  }

  std::string output() const { return read_text(m_home / "node.out"); }
  const std::filesystem::path& home() const { return m_home; }
  const std::string& address() const { return m_address; }

 private:
  std::string m_ns;
  std::filesystem::path m_home;
  std::string m_address;
  pid_t m_pid = -1;
};

class LanNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0)
      GTEST_SKIP() << "network namespaces need root (euid " << ::geteuid() << ")";
    if (test::find_program("ip").empty()) GTEST_SKIP() << "no `ip` (iproute2) on this host";
    std::random_device rd;
    m_prefix = "hn-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 100000);
    auto up = test::run_process(
        {(test::source_dir() / "scripts" / "netns-lan").string(), "up", m_prefix}, {}, "", 30);
    if (up.exit_code != 0) {
      GTEST_SKIP() << "cannot create network namespaces (ip netns add failed?): " << up.err;
    }
    m_up = true;
  }

  void TearDown() override {
    m_nodes.clear();  // kills every node before its namespace goes
    if (m_up) {
      test::run_process({(test::source_dir() / "scripts" / "netns-lan").string(), "down", m_prefix},
                        {}, "", 30);
    }
  }

  NsNode& add(const std::string& host, const std::string& address) {
    m_nodes.push_back(
        std::make_unique<NsNode>(m_prefix + "-" + host, m_dir.path() / host, address));
    return *m_nodes.back();
  }

  std::string m_prefix;
  bool m_up = false;
  test::TempDir m_dir;
  std::vector<std::unique_ptr<NsNode>> m_nodes;
};

::testing::AssertionResult join(const NsNode& inviter, const NsNode& joiner) {
  auto card = joiner.cli({"id"});
  if (card.exit_code != 0) return ::testing::AssertionFailure() << "id: " << card.err;
  auto invite = inviter.cli({"invite", "create", "--node-id", test::trim(card.out)});
  if (invite.exit_code != 0)
    return ::testing::AssertionFailure() << "invite create: " << invite.err;
  auto redeem = joiner.cli({"invite", "redeem", test::trim(invite.out)});
  if (redeem.exit_code != 0)
    return ::testing::AssertionFailure() << "invite redeem: " << redeem.err;
  return ::testing::AssertionSuccess() << redeem.out;
}

TEST_F(LanNetnsTest, DefaultMulticastFindsEveryHostAndRoutesCalls) {
  NsNode& a = add("a", "10.213.0.1");
  NsNode& b = add("b", "10.213.0.2");
  NsNode& c = add("c", "10.213.0.3");
  auto init = a.cli({"init", "--non-interactive", "--name", "lan-a"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  std::string error;
  ASSERT_TRUE(a.start(&error)) << error;
  // The node advertises its namespace address (it listens on 0.0.0.0).
  EXPECT_EQ(a.status()["endpoint"].value("advertised_host", ""), a.address()) << a.status().dump();

  // The invites carry A's LAN address as bootstrap endpoint: redeem reaches it over eth0.
  auto jb = join(a, b);
  ASSERT_TRUE(jb);
  ASSERT_TRUE(join(a, c));
  for (NsNode* n : {&b, &c}) {
    const std::string cfg = read_text(n->home() / "config.toml");
    EXPECT_EQ(cfg.find("bootstrap_peers = [\""), std::string::npos) << cfg;
    ASSERT_TRUE(n->start(&error)) << error;
  }

  std::vector<std::string> ids;
  for (NsNode* n : {&a, &b, &c}) ids.push_back(n->status()["node"].value("node_id", ""));
  std::vector<NsNode*> nodes{&a, &b, &c};
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    ASSERT_TRUE(test::eventually(
        [&] {
          const Json s = nodes[i]->status();
          for (std::size_t j = 0; j < nodes.size(); ++j) {
            if (j != i && test::find_peer(s, ids[j]).is_null()) return false;
          }
          return s["peers"].value("count", 0) == 2;
        },
        WAIT_SECONDS))
        << "node " << i << ": " << nodes[i]->status()["peers"].dump();
    // Found on the LAN (their namespace addresses), not on loopback.
    const Json s = nodes[i]->status();
    for (std::size_t j = 0; j < nodes.size(); ++j) {
      if (j == i) continue;
      EXPECT_EQ(test::find_peer(s, ids[j]).value("host", ""), nodes[j]->address())
          << s["peers"].dump();
    }
  }

  // C calls a remote diag.echo over the LAN.
  std::string answered, err;
  ASSERT_TRUE(test::eventually(
      [&] {
        auto r = c.cli({"call", "diag.echo@1.0", "--body", R"({"input":{"text":"ping"}})", "--node",
                        "remote"});
        err = r.err;
        auto j = parse_json(r.out);
        if (r.exit_code != 0 || !j || (*j)["output"].value("text", "") != "ping") return false;
        answered = (*j)["meta"].value("node_id", "");
        return true;
      },
      WAIT_SECONDS))
      << err;
  EXPECT_TRUE(answered == ids[0] || answered == ids[1]) << answered;
}

}  // namespace
}  // namespace hn
