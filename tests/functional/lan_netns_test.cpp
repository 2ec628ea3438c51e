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
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <random>

#include "core/json.h"
#include "support/node_fixture.h"
#include "support/test_node.h"
#include "support/test_support.h"

namespace hn {
namespace {

using test::join;
using test::status_of;

constexpr int NODE_PORT = 7080;

// One host of the LAN: a node whose every command runs in its namespace (`ip netns exec`;
// ip execs hearthnet, so the child pid is the node's), listening on 0.0.0.0:7080 of its
// own stack. start() waits until `status` answers inside the namespace.
class NsNode : public test::NodeProcess {
 public:
  NsNode(const std::string& ns, std::string address)
      : NodeProcess({.host = "0.0.0.0",
                     .port = NODE_PORT,
                     // Zero discovery settings except mDNS off: the defaults (UDP multicast)
                     // must do.
                     .discovery = "mdns_enabled = false\n",
                     .found_community = false,
                     .launcher = {test::find_program("ip"), "netns", "exec", ns}}),
        m_address(std::move(address)) {}

  const std::string& address() const { return m_address; }

 private:
  std::string m_address;
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
    m_nodes.push_back(std::make_unique<NsNode>(m_prefix + "-" + host, address));
    return *m_nodes.back();
  }

  std::string m_prefix;
  bool m_up = false;
  std::vector<std::unique_ptr<NsNode>> m_nodes;
};

TEST_F(LanNetnsTest, DefaultMulticastFindsEveryHostAndRoutesCalls) {
  NsNode& a = add("a", "10.213.0.1");
  NsNode& b = add("b", "10.213.0.2");
  NsNode& c = add("c", "10.213.0.3");
  auto init = a.cli({"init", "--non-interactive", "--name", "lan-a"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  std::string error;
  ASSERT_TRUE(a.start(&error)) << error;
  // The node advertises its namespace address (it listens on 0.0.0.0).
  EXPECT_EQ(status_of(a)["endpoint"].value("advertised_host", ""), a.address())
      << status_of(a).dump();

  // The invites carry A's LAN address as bootstrap endpoint: redeem reaches it over eth0.
  auto jb = join(a, b);
  ASSERT_TRUE(jb);
  ASSERT_TRUE(join(a, c));
  for (NsNode* n : {&b, &c}) {
    const std::string cfg = test::read_text(n->home() / "config.toml");
    EXPECT_EQ(cfg.find("bootstrap_peers = [\""), std::string::npos) << cfg;
    ASSERT_TRUE(n->start(&error)) << error;
  }

  std::vector<std::string> ids;
  for (NsNode* n : {&a, &b, &c}) ids.push_back(test::node_id_of(*n));
  std::vector<NsNode*> nodes{&a, &b, &c};
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    ASSERT_TRUE(test::eventually(
        [&] {
          const Json s = status_of(*nodes[i]);
          for (std::size_t j = 0; j < nodes.size(); ++j) {
            if (j != i && test::find_peer(s, ids[j]).is_null()) return false;
          }
          return s["peers"].value("count", 0) == 2;
        },
        test::WAIT_SECONDS))
        << "node " << i << ": " << status_of(*nodes[i])["peers"].dump();
    // Found on the LAN (their namespace addresses), not on loopback.
    const Json s = status_of(*nodes[i]);
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
      test::WAIT_SECONDS))
      << err;
  EXPECT_TRUE(answered == ids[0] || answered == ids[1]) << answered;
}

}  // namespace
}  // namespace hn
