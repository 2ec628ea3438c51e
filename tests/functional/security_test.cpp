// security_test.cpp — a real `hearthnet run` process refuses bad requests over real HTTPS
// (CONTRACT §5.1, X01 §3; doc/design/transport.md "request pipeline"): unsigned and
// tampered → invalid_signature, an old timestamp → expired, a replayed request id →
// bad_request, another community or a stranger → unauthorized. The well-signed request
// (the node's own key over loopback, trust `self`) is the control.
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/json.h"
#include "identity/keys.h"
#include "support/node_fixture.h"
#include "support/test_node.h"
#include "support/test_support.h"
#include "transport/envelope.h"

namespace hn {
namespace {

class SecurityTest : public test::SharedNodeTest<SecurityTest> {
 public:
  static constexpr const char* NODE_NAME = "sec-node";

 protected:
  void SetUp() override {
    SharedNodeTest::SetUp();
    if (HasFatalFailure()) return;
    auto keys = identity::load_keys(s_node->home() / "keys");
    ASSERT_TRUE(keys.has_value()) << keys.error().to_string();
    m_keys.emplace(std::move(*keys));
    auto st = s_node->cli({"status", "--json"});
    ASSERT_EQ(st.exit_code, 0) << st.err;
    auto j = parse_json(st.out);
    ASSERT_TRUE(j.has_value());
    m_community = (*j)["community"]["community_id"].get<std::string>();
  }

  struct Answer {
    int status = 0;
    std::string code;
  };
  // POSTs body with headers of env to /bus/v1/call (diag.echo).
  Answer post(const transport::RequestEnvelope* env, const Json& body) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (env != nullptr) headers = transport::envelope_headers(*env);
    std::string text;
    Answer a;
    a.status = test::https_request(s_node->port(), "POST", "/bus/v1/call", headers,
                                   canonical_json(body), &text, 5000);
    if (auto j = parse_json(text);
        j && j->is_object() && j->contains("error") && (*j)["error"].is_string()) {
      a.code = (*j)["error"].get<std::string>();
    }
    return a;
  }
  transport::RequestEnvelope sign(const identity::KeyPair& keys, const std::string& community,
                                  const Json& body, const Clock& clock = SystemClock::instance()) {
    return transport::sign_request(keys, "diag.echo", "1.0", community, body, clock);
  }

  static Json echo_body(const std::string& text) { return Json{{"input", {{"text", text}}}}; }

  std::optional<identity::KeyPair> m_keys;
  std::string m_community;
};

TEST_F(SecurityTest, WellSignedRequestIsServed) {
  const Json body = echo_body("hello");
  auto env = sign(*m_keys, m_community, body);
  auto a = post(&env, body);
  EXPECT_EQ(a.status, 200) << a.code;
}

TEST_F(SecurityTest, UnsignedRequestIsInvalidSignature) {
  auto a = post(nullptr, echo_body("hello"));
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.code, "invalid_signature");
}

TEST_F(SecurityTest, TamperedBodyIsInvalidSignature) {
  auto env = sign(*m_keys, m_community, echo_body("hello"));
  auto a = post(&env, echo_body("HELLO"));
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.code, "invalid_signature");
}

TEST_F(SecurityTest, OldTimestampIsExpired) {
  ManualClock past(SystemClock::instance().now_ms() - 10 * 60 * 1000);
  const Json body = echo_body("late");
  auto env = sign(*m_keys, m_community, body, past);
  auto a = post(&env, body);
  EXPECT_EQ(a.status, 410);
  EXPECT_EQ(a.code, "expired");
}

TEST_F(SecurityTest, ReplayedRequestIsRefused) {
  const Json body = echo_body("once");
  auto env = sign(*m_keys, m_community, body);
  ASSERT_EQ(post(&env, body).status, 200);
  auto again = post(&env, body);
  EXPECT_EQ(again.status, 400);  // doc/design/transport.md: a reused request id
  EXPECT_EQ(again.code, "bad_request");
}

TEST_F(SecurityTest, ForeignCommunityIsUnauthorized) {
  auto stranger = identity::KeyPair::generate();
  std::string other = m_community;  // another, well-formed community id
  other[other.size() - 2] = other[other.size() - 2] == 'A' ? 'B' : 'A';
  const Json body = echo_body("hi");
  auto env = sign(stranger, other, body);
  auto a = post(&env, body);
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.code, "unauthorized");
}

TEST_F(SecurityTest, StrangerInOurCommunityIsUnauthorized) {
  auto stranger = identity::KeyPair::generate();
  const Json body = echo_body("hi");
  auto env = sign(stranger, m_community, body);
  auto a = post(&env, body);
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.code, "unauthorized");
}

}  // namespace
}  // namespace hn
