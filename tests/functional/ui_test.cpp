// ui_test.cpp — a real `hearthnet run` serving its dashboard (M08, src/ui) over real HTTP:
// nothing is answered without the run's session token (page, asset, API, event stream);
// the token opens a session (303 + HttpOnly cookie); with it the page, the node's own
// routes, bus calls (plain and streamed) and the event stream work; bad input gets the
// contract's error envelope, never a crash.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "core/json.h"
#include "support/test_node.h"
#include "support/test_support.h"

namespace hn {
namespace {

struct HttpAnswer {
  int status = 0;
  std::string head;
  std::string body;
  std::string header(const std::string& name) const {
    auto at = head.find("\r\n" + name + ": ");
    if (at == std::string::npos) return "";
    at += name.size() + 4;
    return head.substr(at, head.find("\r\n", at) - at);
  }
};

// One plain HTTP/1.1 request (Connection: close). With until: stops reading once the body
// holds it (an event stream), or after timeout_ms.
HttpAnswer http(int port, const std::string& method, const std::string& target,
                const std::string& headers = "", const std::string& body = "",
                const std::string& until = "", int timeout_ms = 10000) {
  HttpAnswer a;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return a;
  }
  std::string req = method + " " + target +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string raw;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n > 0) raw.append(buf, static_cast<std::size_t>(n));
    if (!until.empty() && raw.find(until) != std::string::npos) break;
  }
  ::close(fd);
  auto split = raw.find("\r\n\r\n");
  a.head = raw.substr(0, split);
  a.body = split == std::string::npos ? "" : raw.substr(split + 4);
  if (raw.size() > 12) a.status = std::atoi(raw.substr(9, 3).c_str());
  return a;
}

class UiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_node = std::make_unique<test::NodeProcess>(test::NodeOptions{.name = "ui-node", .ui = true});
    s_started = s_node->start(&s_error);
    if (!s_started) return;
    // run/ui.url is written right after the node binds; wait for it.
    for (int i = 0; i < 100 && s_node->ui_url().empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::string url = s_node->ui_url();
    auto colon = url.find(':', 7);
    auto slash = url.find('/', colon);
    auto eq = url.find("token=");
    if (colon == std::string::npos || slash == std::string::npos || eq == std::string::npos) {
      s_started = false;
      s_error = "no dashboard URL in run/ui.url: '" + url + "'\n" + s_node->output();
      return;
    }
    s_port = std::atoi(url.substr(colon + 1, slash - colon - 1).c_str());
    s_token = url.substr(eq + 6);
  }
  static void TearDownTestSuite() { s_node.reset(); }
  void SetUp() override { ASSERT_TRUE(s_started) << s_error; }

  static std::string cookie() { return "Cookie: hn_ui=" + s_token + "\r\n"; }
  static std::string api_headers() {
    return cookie() + "X-HearthNet-UI: 1\r\nContent-Type: application/json\r\n";
  }
  static Json json_of(const HttpAnswer& a) {
    auto j = parse_json(a.body);
    return j ? *j : Json();
  }

  static inline std::unique_ptr<test::NodeProcess> s_node;
  static inline bool s_started = false;
  static inline std::string s_error;
  static inline int s_port = 0;
  static inline std::string s_token;
};

TEST_F(UiTest, RunPrintsTheDashboardUrl) {
  EXPECT_NE(s_node->output().find("Dashboard: http://127.0.0.1:"), std::string::npos)
      << s_node->output();
}

TEST_F(UiTest, NothingIsAnsweredWithoutTheToken) {
  for (const char* target :
       {"/", "/app.js", "/mobile", "/api/session", "/api/node/status", "/api/events"}) {
    EXPECT_EQ(http(s_port, "GET", target).status, 401) << target;
  }
  EXPECT_EQ(http(s_port, "POST", "/api/call", "X-HearthNet-UI: 1\r\n",
                 R"({"capability":"diag.echo","body":{"input":{"text":"x"}}})")
                .status,
            401);
  EXPECT_EQ(http(s_port, "GET", "/", "Cookie: hn_ui=not-the-token\r\n").status, 401);
  EXPECT_EQ(http(s_port, "GET", "/?token=not-the-token").status, 401);
}

TEST_F(UiTest, TheTokenOpensASessionCookie) {
  auto a = http(s_port, "GET", "/?token=" + s_token);
  EXPECT_EQ(a.status, 303);
  EXPECT_EQ(a.header("Location"), "/");
  std::string set_cookie = a.header("Set-Cookie");
  EXPECT_NE(set_cookie.find("hn_ui=" + s_token), std::string::npos);
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(a.header("Referrer-Policy"), "no-referrer");
}

TEST_F(UiTest, TheCookieServesTheAppAndTheNodesRoutes) {
  auto page = http(s_port, "GET", "/", cookie());
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("/app.js"), std::string::npos);
  auto js = http(s_port, "GET", "/app.js", cookie());
  EXPECT_EQ(js.status, 200);
  EXPECT_NE(js.header("Content-Type").find("javascript"), std::string::npos);
  EXPECT_EQ(http(s_port, "GET", "/mobile", cookie()).status, 200);
  EXPECT_EQ(http(s_port, "GET", "/manifest.webmanifest", cookie()).status, 200);
  EXPECT_EQ(http(s_port, "GET", "/nope.js", cookie()).status, 404);

  Json session = json_of(http(s_port, "GET", "/api/session", cookie()));
  EXPECT_EQ(session.value("mode", ""), "node");
  Json status = json_of(http(s_port, "GET", "/api/node/status", cookie()));
  EXPECT_EQ(status["node"].value("display_name", ""), "ui-node");
  EXPECT_EQ(status["node"].value("node_id", ""), session.value("node_id", "x"));
  Json cm = json_of(http(s_port, "GET", "/api/community/manifest", cookie()));
  EXPECT_EQ(cm["members"].size(), 1u);
}

TEST_F(UiTest, ABusCallGoesThroughAsTheNode) {
  auto a = http(s_port, "POST", "/api/call", api_headers(),
                R"({"capability":"diag.echo","version":"1.0","body":{"input":{"text":"hallo"}}})");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(json_of(a)["output"].value("text", ""), "hallo");
}

TEST_F(UiTest, AStreamedCallArrivesAsServerSentEvents) {
  auto a = http(
      s_port, "POST", "/api/call", api_headers(),
      R"({"capability":"diag.echo","stream":true,"body":{"input":{"text":"s","n":3,"stream":true}}})",
      "event: done");
  ASSERT_EQ(a.status, 200) << a.head;
  EXPECT_NE(a.header("Content-Type").find("text/event-stream"), std::string::npos);
  EXPECT_NE(a.body.find("event: echo"), std::string::npos) << a.body;
  EXPECT_NE(a.body.find("event: done"), std::string::npos) << a.body;
}

TEST_F(UiTest, BadInputGetsTheContractsErrors) {
  // A state-changing call without the UI header (a cross-site form) is refused.
  auto no_header = http(s_port, "POST", "/api/call", cookie(),
                        R"({"capability":"diag.echo","body":{"input":{"text":"x"}}})");
  EXPECT_EQ(no_header.status, 403);
  EXPECT_EQ(json_of(no_header).value("error", ""), "unauthorized");
  auto broken = http(s_port, "POST", "/api/call", api_headers(), "{not json");
  EXPECT_EQ(broken.status, 400);
  EXPECT_EQ(json_of(broken).value("error", ""), "bad_request");
  auto no_cap = http(s_port, "POST", "/api/call", api_headers(), R"({"body":{}})");
  EXPECT_EQ(json_of(no_cap).value("error", ""), "bad_request");
  auto bad_version = http(s_port, "POST", "/api/call", api_headers(),
                          R"({"capability":"diag.echo","version":"one"})");
  EXPECT_EQ(json_of(bad_version).value("error", ""), "bad_request");
  auto absent = http(s_port, "POST", "/api/call", api_headers(),
                     R"({"capability":"llm.chat","body":{"input":{"messages":[]}}})");
  EXPECT_GE(absent.status, 400);
  EXPECT_TRUE(json_of(absent).contains("error")) << absent.body;
  auto unknown = http(s_port, "GET", "/api/no-such-route", cookie());
  EXPECT_EQ(json_of(unknown).value("error", ""), "not_found");
  // Still serving.
  EXPECT_EQ(http(s_port, "GET", "/api/session", cookie()).status, 200);
}

TEST_F(UiTest, TheEventStreamPushesTheTopology) {
  auto a = http(s_port, "GET", "/api/events", cookie(), "", "event: topology", 15000);
  ASSERT_EQ(a.status, 200) << a.head;
  EXPECT_NE(a.body.find("event: hello"), std::string::npos);
  EXPECT_NE(a.body.find("event: topology"), std::string::npos) << a.body;
  EXPECT_NE(a.body.find("diag.echo"), std::string::npos);
}

TEST_F(UiTest, IndexHtmlCarriesTheFirstPaintsDataOnceAPageListened) {
  // No page has listened yet or one has: either way the mode is there.
  auto first = http(s_port, "GET", "/", cookie());
  ASSERT_EQ(first.status, 200);
  EXPECT_NE(first.body.find(R"(<script type="application/json" id="hn-boot">{"mode":"node")"),
            std::string::npos)
      << first.body;
  // After the event stream pushed a topology, the page gets it without a round trip.
  (void)http(s_port, "GET", "/api/events", cookie(), "", "event: topology", 15000);
  auto page = http(s_port, "GET", "/", cookie());
  const auto at = page.body.find(R"(id="hn-boot">)");
  ASSERT_NE(at, std::string::npos) << page.body;
  const auto start = page.body.find('>', at) + 1;
  const auto end = page.body.find("</script>", start);
  auto boot = parse_json(page.body.substr(start, end - start));
  ASSERT_TRUE(boot) << page.body;
  EXPECT_EQ((*boot)["topology"]["node"].value("display_name", ""), "ui-node");
  EXPECT_TRUE((*boot)["topology"]["sync"].contains("last_ok_at"));  // the Notfall tab's lag
  // The PDF preview's frames are blob: URLs only; scripts stay our own.
  const std::string csp = page.header("Content-Security-Policy");
  EXPECT_NE(csp.find("frame-src 'self' blob:"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("script-src"), std::string::npos) << csp;  // default-src 'self'
}

}  // namespace
}  // namespace hn
