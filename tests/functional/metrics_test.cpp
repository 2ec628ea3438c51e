// metrics_test.cpp — the 14 standard metrics of X03 §4.2 move on a real node: GET /metrics
// is scraped after each is provoked — a tampered request (signature_failures_total), a
// member's flood (rate_limited_total), an open stream (active_streams), blobs stored
// (blob_storage_bytes), failing calls (capability_health_success_rate, quarantines_total),
// calls (requests_total, request_duration_ms), the log and the mesh (event_log_*,
// nodes_online) and the emergency state. The llm_* pair is registered here and scraped
// during and after a real generation in llm_test.cpp (TheLlmMetricsMoveDuringAndAfterAStream).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "blobs/store.h"
#include "core/clock.h"
#include "core/json.h"
#include "identity/keys.h"
#include "support/node_fixture.h"
#include "support/test_node.h"
#include "support/test_support.h"
#include "transport/envelope.h"

namespace hn {
namespace {

using test::eventually;
using test::NodeOptions;
using test::NodeProcess;

std::string scrape(const NodeProcess& n) {
  std::string text;
  if (test::https_get(n.port(), "/metrics", &text, 5000) != 200) return {};
  return text;
}

// The value of one series (`name{label="v",...}` exactly as rendered), if present.
std::optional<double> series_value(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

double value_or_zero(const NodeProcess& n, const std::string& series) {
  return series_value(scrape(n), series).value_or(0);
}

Json echo_body(const std::string& text) { return Json{{"input", {{"text", text}}}}; }

// POSTs body to /bus/v1/call (diag.echo) signed by keys — over `signed_body` when given
// (a tampered request); returns the HTTP status (0 when the node dropped the connection).
int post_echo(const NodeProcess& n, const identity::KeyPair& keys, const std::string& community,
              const Json& body, const Json* signed_body = nullptr) {
  auto env = transport::sign_request(keys, "diag.echo", "1.0", community,
                                     signed_body ? *signed_body : body, SystemClock::instance());
  std::string text;
  return test::https_request(n.port(), "POST", "/bus/v1/call", transport::envelope_headers(env),
                             canonical_json(body), &text, 5000);
}

class StandardMetrics : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(m_node.start(&error)) << error;
    ASSERT_TRUE(test::join(m_node, m_member));
    auto keys = identity::load_keys(m_node.home() / "keys");
    auto member = identity::load_keys(m_member.home() / "keys");
    ASSERT_TRUE(keys.has_value() && member.has_value());
    m_keys.emplace(std::move(*keys));
    m_member_keys.emplace(std::move(*member));
    m_community = test::status_of(m_node)["community"]["community_id"].get<std::string>();
  }

  NodeProcess m_node{NodeOptions{.name = "metrics-node"}};
  NodeProcess m_member{NodeOptions{.name = "metrics-member", .found_community = false}};
  std::optional<identity::KeyPair> m_keys;
  std::optional<identity::KeyPair> m_member_keys;
  std::string m_community;
};

TEST_F(StandardMetrics, EachMovesWhenProvoked) {
  // A well-signed call: requests_total and request_duration_ms.
  ASSERT_EQ(post_echo(m_node, *m_keys, m_community, echo_body("hi")), 200);
  const std::string ok_calls = R"(hearthnet_requests_total{capability="diag.echo",result="ok"})";
  EXPECT_TRUE(eventually([&] { return value_or_zero(m_node, ok_calls) >= 1; })) << scrape(m_node);
  EXPECT_GE(value_or_zero(m_node, R"(hearthnet_request_duration_ms_count{capability="diag.echo"})"), 1);

  // A tampered body: invalid_signature, counted by reason.
  const std::string bad_sig = R"(hearthnet_signature_failures_total{reason="bad_signature"})";
  const double sig_before = value_or_zero(m_node, bad_sig);
  const Json signed_body = echo_body("hello");
  ASSERT_EQ(post_echo(m_node, *m_keys, m_community, echo_body("HELLO"), &signed_body), 401);
  EXPECT_EQ(value_or_zero(m_node, bad_sig), sig_before + 1);

  // A member's flood of one capability: soft-limited (429) past RATE_LIMIT_SOFT_RPS_PER_CAP.
  const std::string soft = R"(hearthnet_rate_limited_total{capability="diag.echo",reason="soft"})";
  int limited = 0;
  for (int i = 0; i < 200 && limited == 0; ++i) {
    if (post_echo(m_node, *m_member_keys, m_community, echo_body("flood")) == 429) ++limited;
  }
  ASSERT_GT(limited, 0);
  EXPECT_GE(value_or_zero(m_node, soft), 1) << scrape(m_node);

  // An open stream: active_streams while it runs, 0 after.
  const std::string streams = R"(hearthnet_active_streams{capability="diag.echo"})";
  test::TempDir out;
  const pid_t cli = test::spawn_cli(
      m_node,
      {"call", "diag.echo@1.0", "--stream", "--node", "self", "--body",
       R"({"input":{"text":"slow","n":100,"delay_ms":100}})"},
      out / "stream.out");
  ASSERT_GT(cli, 0);
  EXPECT_TRUE(eventually([&] { return value_or_zero(m_node, streams) == 1; })) << scrape(m_node);
  int st = 0;
  ::waitpid(cli, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  EXPECT_TRUE(eventually([&] { return value_or_zero(m_node, streams) == 0; })) << scrape(m_node);

  // Blobs put into the node's store: blob_storage_bytes.
  const double blobs_before = value_or_zero(m_node, "hearthnet_blob_storage_bytes");
  {
    auto store = blobs::BlobStore::open(m_node.home() / "blobs");
    ASSERT_TRUE(store.has_value()) << store.error().to_string();
    std::vector<std::uint8_t> data(300 * 1024, 7);
    ASSERT_TRUE((*store)->put_bytes(data).has_value());
  }
  EXPECT_GE(value_or_zero(m_node, "hearthnet_blob_storage_bytes"), blobs_before + 300 * 1024);

  // The log, the mesh and the emergency state, read at scrape time.
  const std::string text = scrape(m_node);
  EXPECT_GE(series_value(text, "hearthnet_event_log_size{community=\"" + m_community + "\"}").value_or(0), 1);
  EXPECT_GE(series_value(text, "hearthnet_event_log_lamport_head{community=\"" + m_community + "\"}")
                .value_or(0), 1);
  EXPECT_EQ(series_value(text, "hearthnet_nodes_online{community=\"" + m_community + "\"}"), 1);
  EXPECT_EQ(series_value(text, R"(hearthnet_emergency_mode{state="online"})"), 1);
  EXPECT_EQ(series_value(text, R"(hearthnet_emergency_mode{state="offline"})"), 0);
  EXPECT_EQ(series_value(text, "hearthnet_capability_health_success_rate{capability=\"diag.echo\",node=\"" +
                                   m_keys->node_id().str() + "\"}"),
            1);
  for (const char* llm : {"hearthnet_llm_tokens_generated_total", "hearthnet_llm_concurrent"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + llm), std::string::npos) << llm;
  }
}

// A provider that fails every call: its success rate falls and the bus quarantines it.
TEST(StandardMetricsHealth, FailingCallsLowerTheSuccessRateAndQuarantine) {
  NodeProcess n(NodeOptions{.name = "metrics-failing"});
  n.add_env("HEARTHNET_DIAG_FAIL=1");
  std::string error;
  ASSERT_TRUE(n.start(&error)) << error;
  EXPECT_EQ(value_or_zero(n, "hearthnet_quarantines_total"), 0);
  for (int i = 0; i < 6; ++i) {
    auto r = n.cli({"call", "diag.echo@1.0", "--body", R"({"input":{"text":"x"}})"});
    EXPECT_NE(r.exit_code, 0);
  }
  const std::string text = scrape(n);
  const std::string id = test::node_id_of(n);
  EXPECT_EQ(series_value(text, "hearthnet_capability_health_success_rate{capability=\"diag.echo\",node=\"" +
                                   id + "\"}"),
            0)
      << text;
  EXPECT_GE(series_value(text, "hearthnet_quarantines_total").value_or(0), 1) << text;
}

}  // namespace
}  // namespace hn
