// emergency_test.cpp — M09 end to end with a real node process: its probe targets are a
// UDP DNS resolver and an HTTPS server this test runs on loopback. As they die and return
// the node goes online → degraded → offline → online; the debounce holds offline back
// (3 s here, `[emergency] debounce_seconds`); the requires_internet test capability
// (diag's experimental.internet_echo, HEARTHNET_DIAG_REQUIRES_INTERNET=1) leaves `caps`
// and `status` while offline and comes back online; status, /metrics and the sync cadence
// show the mode; the clock check reports the HTTPS server's skewed `Date`.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "core/json.h"
#include "support/probe_servers.h"
#include "support/test_node.h"

namespace hn::test {
namespace {
using namespace std::chrono_literals;

constexpr const char* INTERNET_ECHO = "experimental.internet_echo";

std::string mode_of(const NodeProcess& n) {
  const Json s = status_of(n);
  if (!s.is_object()) return "";
  return s.value("online_state", Json::object()).value("state", "");
}

bool caps_list(const NodeProcess& n, const std::string& name) {
  auto r = n.cli({"caps", "--local-only", "--json", "--name", name});
  if (r.exit_code != 0) return false;
  const Json j = Json::parse(r.out, nullptr, false);
  return j.is_array() && !j.empty();
}

bool status_lists(const NodeProcess& n, const std::string& name) {
  const Json s = status_of(n);
  if (!s.is_object()) return false;
  const Json local = s["capabilities"].value("local", Json::array());
  for (const auto& c : local) {
    if (c.is_string() && c.get<std::string>() == name + "@1.0") return true;
  }
  return false;
}

double metric(const NodeProcess& n, const std::string& series) {
  std::string body;
  if (https_get(n.port(), "/metrics", &body) != 200) return -1;
  const auto at = body.find(series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(body.substr(at + series.size() + 1));
}

TEST(Emergency, ModeFollowsTheProbeServersWithDebounceAndCapabilityEffects) {
  DnsResponder dns;
  HttpsResponder web(-7200);  // the anchor's clock two hours behind ours
  // Ports below the ephemeral range, so the node's own connection attempts to a dead
  // server can never hold the port the server comes back on.
  std::random_device rd;
  const auto base = static_cast<std::uint16_t>(20000 + rd() % 10000);
  ASSERT_TRUE(dns.start(base));
  ASSERT_TRUE(web.start(static_cast<std::uint16_t>(base + 1)));
  NodeOptions options;
  options.discovery = std::string(NO_DISCOVERY) + "[emergency]\nprobe_targets = [\"" + dns.target() +
                      "\", \"" + web.target() +
                      "\"]\nprobe_tls_verify = false\nprobe_interval_online_seconds = 1\n"
                      "probe_interval_offline_seconds = 1\nprobe_timeout_seconds = 1\n"
                      "debounce_seconds = 3\nrecovery_seconds = 2\nclock_check_after_seconds = 0\n"
                      // four changes in this test: a short flap window lets the fourth through
                      "flap_window_seconds = 5\n";
  NodeProcess node(options);
  node.add_env("HEARTHNET_EMERGENCY_DETECTOR=on");
  node.add_env("HEARTHNET_DIAG_REQUIRES_INTERNET=1");
  std::string err;
  ASSERT_TRUE(node.start(&err)) << err;

  // Online: probes pass, the capability is offered, the clock check saw the skew.
  ASSERT_TRUE(eventually([&] {
    const Json s = status_of(node);
    return s.is_object() && s["online_state"].contains("clock");
  }, 20)) << status_of(node).dump();
  Json s = status_of(node);
  EXPECT_EQ(s["online_state"]["state"], "online");
  EXPECT_EQ(s["online_state"]["detector"], true);
  EXPECT_TRUE(s["online_state"]["clock"]["skewed"].get<bool>()) << s["online_state"].dump();
  EXPECT_NEAR(s["online_state"]["clock"]["skew_seconds"].get<double>(), 7200.0, 2.0);
  EXPECT_TRUE(caps_list(node, INTERNET_ECHO));
  EXPECT_TRUE(status_lists(node, INTERNET_ECHO));
  EXPECT_EQ(metric(node, R"(hearthnet_emergency_mode{state="online"})"), 1);
  auto echo = node.cli({"call", std::string(INTERNET_ECHO) + "@1.0", "--body", R"({"input":{"text":"hi"}})"});
  EXPECT_EQ(echo.exit_code, 0) << echo.err;

  // The resolver dies: one of two probes fails → degraded at once; the capability stays.
  dns.stop();
  ASSERT_TRUE(eventually([&] { return mode_of(node) == "degraded"; }, 15));
  EXPECT_TRUE(caps_list(node, INTERNET_ECHO));
  EXPECT_EQ(metric(node, R"(hearthnet_emergency_mode{state="degraded"})"), 1);

  // The web server dies too: offline, but not before the debounce has passed.
  const auto both_down = std::chrono::steady_clock::now();
  web.stop();
  ASSERT_TRUE(eventually([&] { return mode_of(node) == "offline"; }, 20));
  EXPECT_GE(std::chrono::steady_clock::now() - both_down, 3s);
  s = status_of(node);
  EXPECT_FALSE(caps_list(node, INTERNET_ECHO));
  EXPECT_FALSE(status_lists(node, INTERNET_ECHO));
  EXPECT_TRUE(status_lists(node, "diag.echo"));  // local capabilities stay
  EXPECT_EQ(s["online_state"]["withdrawn"], Json::array({std::string(INTERNET_ECHO) + "@1.0"}));
  EXPECT_EQ(s["sync"]["interval_seconds"], 30);  // X02 §5.5 emergency cadence
  EXPECT_EQ(s["online_state"]["probes"][dns.target()]["ok"], false);
  EXPECT_EQ(metric(node, R"(hearthnet_emergency_mode{state="offline"})"), 1);
  auto call = node.cli({"call", std::string(INTERNET_ECHO) + "@1.0", "--body", R"({"input":{"text":"hi"}})"});
  EXPECT_NE(call.exit_code, 0) << call.out;

  // Both return: online after the recovery time, the capability back.
  // The resolver returns first: fewer than two failing for the recovery time → degraded
  // (the capability stays off until online).
  ASSERT_TRUE(eventually([&] { return dns.start(); }, 10));
  ASSERT_TRUE(eventually([&] { return mode_of(node) == "degraded"; }, 20));
  EXPECT_FALSE(caps_list(node, INTERNET_ECHO));
  // (The node process inherits none of the test's sockets, so the port binds again.)
  ASSERT_TRUE(eventually([&] { return web.start(); }, 10));
  ASSERT_TRUE(eventually([&] { return mode_of(node) == "online"; }, 20));
  EXPECT_TRUE(eventually([&] { return caps_list(node, INTERNET_ECHO); }, 5));
  s = status_of(node);
  EXPECT_TRUE(s["online_state"]["withdrawn"].empty());
  EXPECT_NE(s["sync"]["interval_seconds"], 30);
  EXPECT_EQ(metric(node, R"(hearthnet_emergency_mode{state="online"})"), 1);
  EXPECT_EQ(node.stop(), 0);
}

TEST(Emergency, ABadProbeTargetIsAConfigErrorAtStart) {
  NodeOptions options;
  options.discovery = std::string(NO_DISCOVERY) + "[emergency]\nprobe_targets = [\"ftp://x\"]\n";
  NodeProcess node(options);
  node.add_env("HEARTHNET_EMERGENCY_DETECTOR=on");
  std::string err;
  EXPECT_FALSE(node.start(&err, {}, 10));
  EXPECT_NE(node.output().find("emergency.probe_targets[0]"), std::string::npos) << node.output();
}

}  // namespace
}  // namespace hn::test
