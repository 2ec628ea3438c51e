// node_test.cpp — a real `hearthnet run` process driven by the real CLI (M12 §8
// integration): init → run → status / caps / call / trace / log, wire errors as exit codes,
// SIGTERM shutdown, and the "no node running" exit code.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "core/json.h"
#include "support/node_fixture.h"
#include "support/test_node.h"
#include "support/test_support.h"

namespace hn {
namespace {

std::vector<Json> json_lines(const std::string& text) {
  std::vector<Json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = parse_json(line);
    if (j) out.push_back(*j);
  }
  return out;
}

class NodeProcessTest : public test::SharedNodeTest<NodeProcessTest> {
 public:
  static constexpr const char* NODE_NAME = "func-node";
};

TEST_F(NodeProcessTest, StatusJsonDescribesTheNode) {
  auto r = s_node->cli({"status", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto s = parse_json(r.out);
  ASSERT_TRUE(s.has_value()) << r.out;
  EXPECT_EQ((*s)["node"]["display_name"], "func-node");
  EXPECT_EQ((*s)["community"]["member_count"], 1);
  EXPECT_EQ((*s)["peers"]["count"], 0);
  EXPECT_EQ((*s)["endpoint"]["port"], s_node->port());
  EXPECT_GE((*s)["event_log"]["head_lamport"].get<int>(), 1);
  EXPECT_NE((*s)["capabilities"]["local"].dump().find("diag.echo@1.0"), std::string::npos);

  auto text = s_node->cli({"status"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("func-node"), std::string::npos);
}

TEST_F(NodeProcessTest, CapsListsDiagEcho) {
  auto r = s_node->cli({"caps"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("diag.echo"), std::string::npos);
  auto local = s_node->cli({"caps", "--local-only", "--json", "--name", "diag.*"});
  ASSERT_EQ(local.exit_code, 0) << local.err;
  auto caps = parse_json(local.out);
  ASSERT_TRUE(caps.has_value());
  ASSERT_EQ(caps->size(), 1u);
  EXPECT_EQ((*caps)[0]["name"], "diag.echo");
  auto remote = s_node->cli({"caps", "--remote-only", "--json"});
  ASSERT_EQ(remote.exit_code, 0) << remote.err;
  EXPECT_EQ(parse_json(remote.out)->size(), 0u);
}

TEST_F(NodeProcessTest, CallEchoes) {
  auto r = s_node->cli({"call", "diag.echo@1.0", "--body", R"({"input":{"text":"hi"}})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto body = parse_json(r.out);
  ASSERT_TRUE(body.has_value()) << r.out;
  EXPECT_EQ((*body)["output"]["text"], "hi");
}

TEST_F(NodeProcessTest, StreamPrintsOneFramePerLine) {
  auto r = s_node->cli({"call", "diag.echo", "--stream", "--body", R"({"input":{"text":"yo","n":3}})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto frames = json_lines(r.out);
  ASSERT_EQ(frames.size(), 4u) << r.out;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(frames[i]["event"], "echo");
    EXPECT_EQ(frames[i]["seq"], i + 1);
    EXPECT_EQ(frames[i]["data"]["text"], "yo");
  }
  EXPECT_EQ(frames[3]["event"], "done");
  EXPECT_EQ(frames[3]["data"]["frames"], 3);
}

TEST_F(NodeProcessTest, WireErrorsBecomeExitCodes) {
  auto bad = s_node->cli({"call", "diag.echo@1.0", "--body", R"({"input":{"text":5}})"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("schema_mismatch"), std::string::npos) << bad.err;  // M03 §3.4

  auto missing = s_node->cli({"call", "nothing.here@1.0", "--body", "{}"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("not_found"), std::string::npos) << missing.err;

  auto failing = s_node->cli({"call", "diag.echo@1.0", "--stream", "--body", R"({"input":{"text":"x","fail":true}})"});
  EXPECT_EQ(failing.exit_code, 1);
  EXPECT_NE(failing.err.find("internal_error"), std::string::npos) << failing.err;

  auto not_json = s_node->cli({"call", "diag.echo@1.0", "--body", "{nope"});
  EXPECT_EQ(not_json.exit_code, 2);
}

TEST_F(NodeProcessTest, TraceAndLogShowTheCalls) {
  ASSERT_EQ(s_node->cli({"call", "diag.echo@1.0", "--body", R"({"input":{"text":"traced"}})"}).exit_code, 0);
  auto r = s_node->cli({"trace", "recent", "5", "--capability", "diag.echo", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto traces = parse_json(r.out);
  ASSERT_TRUE(traces.has_value()) << r.out;
  ASSERT_FALSE(traces->empty());
  EXPECT_EQ((*traces)[0]["capability"], "diag.echo");
  EXPECT_EQ((*traces)[0]["result"], "ok");

  auto log = s_node->cli({"log", "--component", "node", "--level", "info"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  EXPECT_NE(log.out.find("node started"), std::string::npos) << log.out;
}

// X03 §6.2: the checks only the running node can answer are asked of it.
TEST_F(NodeProcessTest, DoctorAsksTheRunningNode) {
  ASSERT_EQ(s_node->cli({"call", "diag.echo@1.0", "--body", R"({"input":{"text":"ok"}})"}).exit_code, 0);
  auto r = s_node->cli({"doctor", "--json"});
  auto report = parse_json(r.out);
  ASSERT_TRUE(report.has_value()) << r.out << r.err;
  std::map<std::string, Json> checks;
  for (const auto& c : (*report)["checks"]) checks[c["name"]] = c;
  EXPECT_EQ(checks["at_least_one_capability"]["status"], "ok");
  EXPECT_NE(checks["at_least_one_capability"]["message"].get<std::string>().find("capabilit"), std::string::npos);
  EXPECT_EQ(checks["transport_port"]["status"], "ok");
  EXPECT_NE(checks["transport_port"]["message"].get<std::string>().find("owned by the running node"),
            std::string::npos);
  EXPECT_EQ(checks["recent_error_rate"]["status"], "ok") << checks["recent_error_rate"].dump();
  EXPECT_NE(checks["recent_error_rate"]["message"].get<std::string>().find("of the last"), std::string::npos);
  EXPECT_TRUE(checks.count("llm_backend_reachable"));
  EXPECT_NE(checks["llm_backend_reachable"]["message"].get<std::string>(), "node not running");
}

TEST_F(NodeProcessTest, PublicRoutesAnswer) {
  std::string body;
  ASSERT_EQ(test::https_get(s_node->port(), "/manifest", &body), 200);
  auto m = parse_json(body);
  ASSERT_TRUE(m.has_value()) << body;
  EXPECT_EQ((*m)["display_name"], "func-node");
  EXPECT_EQ((*m)["endpoints"][0]["port"], s_node->port());
  EXPECT_NE(body.find("diag.echo"), std::string::npos);
  ASSERT_EQ(test::https_get(s_node->port(), "/community/manifest", &body), 200);
  EXPECT_NE(body.find("func-node's community"), std::string::npos);
  ASSERT_EQ(test::https_get(s_node->port(), "/ready", &body), 200);
  ASSERT_EQ(test::https_get(s_node->port(), "/metrics", &body), 200);
  EXPECT_NE(body.find("hearthnet_requests_total"), std::string::npos);
  // Local-only routes refuse unsigned callers.
  EXPECT_EQ(test::https_get(s_node->port(), "/node/v1/status", &body), 401);
}

TEST_F(NodeProcessTest, IdleNodeIsLight) {
  // Not a timing assertion: a generous bound that catches leaks and runaway buffers.
  const long rss = s_node->rss_kib();
  EXPECT_GT(rss, 0);
  EXPECT_LT(rss, 64 * 1024) << "idle RSS " << rss << " KiB";
}

TEST(NodeLifecycle, SigtermExitsZeroAndRemovesThePortFile) {
  test::NodeProcess node({.name = "short-lived"});
  std::string error;
  ASSERT_TRUE(node.start(&error)) << error;
  ASSERT_TRUE(std::filesystem::exists(node.port_file()));
  // A second node on the same home refuses to start.
  auto second = node.cli({"run"}, 20);
  EXPECT_NE(second.exit_code, 0);
  EXPECT_NE(second.err.find("already running"), std::string::npos) << second.err;
  EXPECT_EQ(node.stop(SIGTERM), 0) << node.output();
  EXPECT_FALSE(std::filesystem::exists(node.port_file()));
  // And it comes back on the same home.
  ASSERT_TRUE(node.start(&error)) << error;
  EXPECT_EQ(node.stop(SIGINT), 0) << node.output();
}

TEST(NodeLifecycle, CliWithoutANodeExitsThree) {
  test::NodeProcess node({.name = "never-started"});  // initialised, not running
  for (auto args : std::vector<std::vector<std::string>>{
           {"status"}, {"caps"}, {"call", "diag.echo@1.0", "--body", "{}"}, {"trace", "recent"}}) {
    auto r = node.cli(args);
    EXPECT_EQ(r.exit_code, 3) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find("no HearthNet node is running"), std::string::npos) << r.err;
  }
  // A stale port file (node killed) is still "no node".
  std::filesystem::create_directories(node.port_file().parent_path());
  { std::ofstream(node.port_file()) << "1\n"; }
  EXPECT_EQ(node.cli({"status"}).exit_code, 3);
}

// Without a community and without the dashboard there is nothing to run (with the
// dashboard, `run` serves the first-run wizard instead: tests/browser, doc/design/ui.md).
TEST(NodeLifecycle, RunWithoutInitRefusesWithoutUi) {
  test::TempDir home;
  auto r = test::run_process({test::hearthnet_binary().string(), "run", "--no-ui"},
                             test::home_env(home.path()), "", 20);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("hearthnet init"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hn
