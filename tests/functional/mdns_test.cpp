// mdns_test.cpp — mDNS discovery through the real Avahi daemon (M02 §3.3): a running node
// publishes `_hearthnet._tcp` with the spec's TXT records (seen with `avahi-browse`), and
// two members with UDP multicast off and no bootstrap peers find each other through mDNS
// alone. Every joiner enters through `hearthnet id` → `invite create` → `invite redeem`.
//
// Needs avahi-daemon running (`scripts/start-avahi`; `make test` runs it): skipped
// (GTEST_SKIP) otherwise. Nodes listen on 0.0.0.0 port 0 so the address Avahi resolves
// for this host reaches them.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <sstream>

#include "core/json.h"
#include "discovery/manifest_source.h"
#include "support/node_fixture.h"
#include "support/test_node.h"
#include "support/test_support.h"

namespace hn {
namespace {

using test::join;
using test::NodeProcess;
using test::status_of;

constexpr const char* MDNS_ONLY = "mdns_enabled = true\nudp_enabled = false\n";

bool avahi_running() {
  const std::string daemon = test::find_program("avahi-daemon");
  if (daemon.empty() || test::find_program("avahi-browse").empty()) return false;
  auto r = test::run_process({daemon, "--check"}, {}, "", 10);
  return r.exit_code == 0;
}

// Splits one `avahi-browse -p` field list ("a;b;c") — TXT values hold no ';'.
std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ';')) out.push_back(field);
  return out;
}

// The TXT records of the resolved `_hearthnet._tcp` service whose node= is node_short
// (empty when none is listed). avahi-browse -p prints them as "k=v" "k=v" ….
std::map<std::string, std::string> browse_txt(const std::string& node_short, int* port) {
  auto r = test::run_process({test::find_program("avahi-browse"), "-rtp", "_hearthnet._tcp"}, {},
                             "", 10);
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("=;", 0) != 0) continue;
    auto fields = split_fields(line);
    if (fields.size() < 10) continue;
    std::map<std::string, std::string> txt;
    const std::string& t = fields[9];
    for (std::size_t i = 0; i < t.size();) {
      const auto open = t.find('"', i);
      if (open == std::string::npos) break;
      const auto close = t.find('"', open + 1);
      if (close == std::string::npos) break;
      const std::string kv = t.substr(open + 1, close - open - 1);
      const auto eq = kv.find('=');
      if (eq != std::string::npos) txt[kv.substr(0, eq)] = kv.substr(eq + 1);
      i = close + 1;
    }
    if (txt["node"] == node_short) {
      if (port) *port = std::atoi(fields[8].c_str());
      return txt;
    }
  }
  return {};
}

class MdnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!avahi_running()) {
      GTEST_SKIP()
          << "avahi-daemon is not running (run scripts/start-avahi as root); mDNS untested";
    }
  }
  std::unique_ptr<NodeProcess> make(const std::string& name, bool founder) {
    // Listen on every interface: Avahi resolves this host to its LAN addresses.
    return std::make_unique<NodeProcess>(test::NodeOptions{
        .name = name, .host = "0.0.0.0", .discovery = MDNS_ONLY, .found_community = founder});
  }
};

TEST_F(MdnsTest, PublishesServiceWithSpecTxtRecords) {
  std::string error;
  auto a = make("mdns-pub", true);
  ASSERT_TRUE(a->start(&error)) << error;
  const Json st = status_of(*a);
  const std::string node_short = st["node"].value("short_id", "");
  const std::string community = st["community"].value("community_id", "");
  ASSERT_FALSE(node_short.empty()) << st.dump();

  std::map<std::string, std::string> txt;
  int port = 0;
  ASSERT_TRUE(test::eventually([&] { return !(txt = browse_txt(node_short, &port)).empty(); }))
      << "avahi-browse never listed node=" << node_short;
  EXPECT_EQ(txt["v"], "1");
  EXPECT_EQ(txt["node"], node_short);
  EXPECT_EQ(txt["community"], discovery::short_community_id(CommunityId(community)));
  EXPECT_EQ(txt["profile"], st["node"].value("profile", "?"));
  EXPECT_NE(txt["caps"].find("diag.echo"), std::string::npos) << txt["caps"];
  EXPECT_LE(txt["caps"].size(), 200u);
  EXPECT_EQ(txt["manifest_url"].rfind("https://", 0), 0u) << txt["manifest_url"];
  EXPECT_NE(txt["manifest_url"].find(":" + std::to_string(a->port()) + "/manifest"),
            std::string::npos)
      << txt["manifest_url"];
  EXPECT_EQ(txt["contract_version"], "1.0");
  EXPECT_EQ(port, a->port());
}

TEST_F(MdnsTest, MembersFindEachOtherThroughMdnsOnly) {
  std::string error;
  auto a = make("mdns-a", true);
  ASSERT_TRUE(a->start(&error)) << error;
  auto b = make("mdns-b", false);
  auto c = make("mdns-c", false);
  ASSERT_TRUE(join(*a, *b));
  ASSERT_TRUE(join(*a, *c));
  ASSERT_TRUE(b->start(&error)) << error;
  ASSERT_TRUE(c->start(&error)) << error;
  const std::string id_b = test::node_id_of(*b);
  const std::string id_c = test::node_id_of(*c);
  ASSERT_FALSE(id_b.empty());
  ASSERT_FALSE(id_c.empty());
  EXPECT_TRUE(test::eventually([&] { return !test::find_peer(status_of(*b), id_c).is_null(); }))
      << status_of(*b)["peers"].dump() << "\n"
      << b->output();
  EXPECT_TRUE(test::eventually([&] { return !test::find_peer(status_of(*c), id_b).is_null(); }))
      << status_of(*c)["peers"].dump();
  EXPECT_EQ(test::find_peer(status_of(*c), id_b).value("source", ""), "mdns");
}

}  // namespace
}  // namespace hn
