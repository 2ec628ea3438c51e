// mdns_test.cpp — mDNS through a real Avahi daemon (M02 §3.2, §3.3): publish, browse +
// resolve with the §3.3 TXT records, TXT update, and the UDP-only fallback when the daemon
// is unreachable. Skipped (with a message) when no Avahi daemon runs: start it with
// scripts/start-avahi.
#include "discovery/mdns.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>

#include "discovery_test_util.h"

namespace hn::discovery {
namespace {

const std::string COMMUNITY = "ed25519:MDNS-TEST-COMM-0001";

MdnsServiceInfo make_info(const identity::KeyPair& keys, const std::string& display) {
  MdnsServiceInfo info;
  info.node_short = keys.short_id();
  info.display_name = display;
  info.community_short = COMMUNITY;
  info.profile = Profile::spark;
  info.port = 7480;
  info.caps = {"llm.chat", "rag.query"};
  info.manifest_url = "https://127.0.0.1:7480/manifest";
  return info;
}

std::string unique_name() {
  std::random_device rd;
  return "hn-test-" + std::to_string(rd() % 1000000);
}

// Scoped DBUS_SYSTEM_BUS_ADDRESS override.
class BusAddressOverride {
 public:
  explicit BusAddressOverride(const char* value) {
    if (const char* old = std::getenv("DBUS_SYSTEM_BUS_ADDRESS")) m_old = old;
    setenv("DBUS_SYSTEM_BUS_ADDRESS", value, 1);
  }
  ~BusAddressOverride() {
    if (m_old) setenv("DBUS_SYSTEM_BUS_ADDRESS", m_old->c_str(), 1);
    else unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
  }

 private:
  std::optional<std::string> m_old;
};

// Runs in a child process (EXPECT_EXIT): libdbus reads the bus address once per process,
// so the override must not leak into the other tests.
int check_unreachable_daemon() {
  BusAddressOverride bus("unix:path=/nonexistent/hearthnet-test-bus");
  auto keys = identity::KeyPair::generate();
  MdnsAnnouncer announcer(make_info(keys, "offline"));
  auto st = announcer.start();
  if (st.has_value() || st.error().code != ErrorCode::mdns_unavailable) return 1;
  if (!announcer.update_capabilities({"x.y"}).has_value()) return 2;  // harmless when down
  announcer.stop();
  boost::asio::io_context io;
  MdnsBrowser browser(io, keys.short_id(), COMMUNITY, {});
  auto bst = browser.start();
  if (bst.has_value() || bst.error().code != ErrorCode::mdns_unavailable) return 3;
  return 0;
}

TEST(DiscoveryMdns, UnreachableDaemonIsMdnsUnavailable) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(std::exit(check_unreachable_daemon()), ::testing::ExitedWithCode(0),
              "avahi daemon not reachable");
}

TEST(DiscoveryMdns, PublishedServiceIsResolvedWithSpecTxt) {
  auto keys = identity::KeyPair::generate();
  MdnsAnnouncer announcer(make_info(keys, unique_name()));
  if (auto st = announcer.start(); !st) {
    GTEST_SKIP() << "Avahi daemon not running (" << st.error().to_string()
                 << "); run scripts/start-avahi";
  }
  boost::asio::io_context io;
  auto browser_keys = identity::KeyPair::generate();
  std::vector<MdnsResolved> resolved;
  std::vector<Sighting> sightings;
  MdnsBrowser browser(
      io, browser_keys.short_id(), COMMUNITY,
      [&](const Sighting& s) { sightings.push_back(s); },
      [&](const MdnsResolved& r) { resolved.push_back(r); });
  ASSERT_TRUE(browser.start().has_value());
  const std::string name = announcer.instance_name();
  auto find = [&]() -> const MdnsResolved* {
    for (auto it = resolved.rbegin(); it != resolved.rend(); ++it) {
      if (it->instance_name == name) return &*it;
    }
    return nullptr;
  };
  ASSERT_TRUE(test::run_until(io, [&] { return find() != nullptr; }, std::chrono::seconds(15)))
      << "service " << name << " not resolved";
  const MdnsResolved* r = find();
  EXPECT_EQ(r->port, 7480);
  EXPECT_EQ(r->txt.at("v"), "1");
  EXPECT_EQ(r->txt.at("node"), keys.short_id());
  EXPECT_EQ(r->txt.at("community"), COMMUNITY);
  EXPECT_EQ(r->txt.at("profile"), "spark");
  EXPECT_EQ(r->txt.at("caps"), "llm.chat,rag.query");
  EXPECT_EQ(r->txt.at("manifest_url"), "https://127.0.0.1:7480/manifest");
  EXPECT_EQ(r->txt.at("contract_version"), "1.0");
  EXPECT_EQ(name.substr(name.size() - 5), "-" + keys.short_id().substr(8, 4));
  bool sighted = false;
  for (const auto& s : sightings) {
    if (s.node_short == keys.short_id()) {
      sighted = true;
      EXPECT_EQ(s.source, PeerSource::mdns);
      EXPECT_EQ(s.endpoint.port, 7480);
      EXPECT_FALSE(s.endpoint.host.empty());
    }
  }
  EXPECT_TRUE(sighted);
  // The daemon confirms once probing finished on every interface.
  EXPECT_TRUE(test::run_until(io, [&] { return announcer.established(); }, std::chrono::seconds(10)));

  // The same command line a user would run sees it too.
  if (std::system("command -v avahi-browse >/dev/null 2>&1") == 0) {
    std::string out;
    if (FILE* p = popen("avahi-browse -rtp _hearthnet._tcp 2>/dev/null", "r")) {
      char buf[4096];
      while (std::size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
      pclose(p);
    }
    EXPECT_NE(out.find(name), std::string::npos) << out;
    EXPECT_NE(out.find("\"node=" + keys.short_id() + "\""), std::string::npos) << out;
  }

  // M02 §3.2 update: new caps reach a browser as a TXT change.
  ASSERT_TRUE(announcer.update_capabilities({"llm.chat", "embed.text"}).has_value());
  ASSERT_TRUE(test::run_until(
      io, [&] { const auto* x = find(); return x && x->txt.at("caps") == "llm.chat,embed.text"; },
      std::chrono::seconds(15)));
  bool changed = false;
  for (const auto& s : sightings) changed = changed || (s.node_short == keys.short_id() && s.changed);
  EXPECT_TRUE(changed);
  browser.stop();
  announcer.stop();
}

TEST(DiscoveryMdns, OwnAndForeignServicesAreFiltered) {
  auto keys = identity::KeyPair::generate();
  auto foreign_keys = identity::KeyPair::generate();
  MdnsAnnouncer own(make_info(keys, unique_name()));
  auto foreign_info = make_info(foreign_keys, unique_name());
  foreign_info.community_short = "ed25519:SOME-OTHE-RCOM-MUNI";
  MdnsAnnouncer foreign(foreign_info);
  if (auto st = own.start(); !st) GTEST_SKIP() << "Avahi daemon not running; run scripts/start-avahi";
  ASSERT_TRUE(foreign.start().has_value());
  boost::asio::io_context io;
  std::vector<Sighting> sightings;
  std::set<std::string> names;
  MdnsBrowser browser(io, keys.short_id(), COMMUNITY,
                      [&](const Sighting& s) { sightings.push_back(s); },
                      [&](const MdnsResolved& r) { names.insert(r.instance_name); });
  ASSERT_TRUE(browser.start().has_value());
  ASSERT_TRUE(test::run_until(io, [&] {
    return names.count(own.instance_name()) && names.count(foreign.instance_name());
  }, std::chrono::seconds(15)));
  for (const auto& s : sightings) {
    EXPECT_NE(s.node_short, keys.short_id());
    EXPECT_NE(s.node_short, foreign_keys.short_id());
  }
  EXPECT_GE(browser.stats().own, 1u);
  EXPECT_GE(browser.stats().foreign, 1u);
}

}  // namespace
}  // namespace hn::discovery
