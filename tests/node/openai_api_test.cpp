// Tests for the node's OpenAI-compatible API (node/openai_api.h): a real bus with the real
// llm service (its backend a vendor-protocol fake server) and a test embed.text provider,
// the API on 127.0.0.1 port 0, driven over HTTP — and by the official `openai` npm client
// (scripts/setup-test-npm installs it into build/npm; without node the test skips).
#include "node/openai_api.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "services/llm/fake_llm_server.h"
#include "services/llm/llm_service.h"
#include "support/test_support.h"

namespace hn::node {
namespace {

const NodeId SELF("ed25519:openai-api-test");

// One HTTP/1.1 exchange with Connection: close; returns the status and fills body.
int http(std::uint16_t port, const std::string& method, const std::string& path, const std::string& body,
         std::string* out, const std::string& extra_headers = "") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return 0;
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + extra_headers +
                    "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\n\r\n" + body;
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) resp.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  auto head_end = resp.find("\r\n\r\n");
  if (out) *out = head_end == std::string::npos ? "" : resp.substr(head_end + 4);
  return resp.size() > 12 ? std::stoi(resp.substr(9, 3)) : 0;
}

class OpenAiApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::LlmBackendConfig c;
    c.name = "kitchen";
    c.kind = "llama_server";
    c.url = server.url();
    c.model = "kitchen-model";
    llm = std::make_unique<services::llm::LlmService>(std::vector<config::LlmBackendConfig>{c});
    ASSERT_TRUE(llm->start());
    for (auto& cap : llm->capabilities()) ASSERT_TRUE(bus.register_capability(std::move(cap)));
    ASSERT_TRUE(bus.register_capability(embed_capability()));
  }
  void TearDown() override {
    if (api) api->stop();
  }
  void start_api(std::string token = "") {
    api = std::make_unique<OpenAiApi>(bus, OpenAiApiOptions{"127.0.0.1", 0, std::move(token), {}});
    ASSERT_TRUE(api->start());
  }
  // A test embed.text@1.0 (CONTRACT §4.3): text i → (i+1, 0).
  static bus::LocalCapability embed_capability() {
    bus::LocalCapability cap;
    cap.descriptor.name = "embed.text";
    cap.descriptor.version = Version{1, 0};
    cap.descriptor.params = Json{{"model", "test-embed"}};
    cap.descriptor.request_schema = Json{{"type", "object"}};
    cap.descriptor.response_schema = Json{{"type", "object"}};
    cap.descriptor.max_concurrent = 4;
    cap.handler = [](const bus::CallContext&, const Json& body) -> Result<Json> {
      Json vectors = Json::array();
      for (std::size_t i = 0; i < body["input"]["texts"].size(); ++i) {
        vectors.push_back(Json::array({static_cast<double>(i + 1), 0.0}));
      }
      return Json{{"output", {{"embeddings", vectors}, {"dim", 2}}}, {"meta", {{"model", "test-embed"}}}};
    };
    return cap;
  }
  test::FakeLlmServer server;
  bus::CapabilityBus bus{SELF, bus::BusConfig{}, SystemClock::instance()};
  std::unique_ptr<services::llm::LlmService> llm;
  std::unique_ptr<OpenAiApi> api;
};

TEST_F(OpenAiApiTest, ModelsChatAndErrorsAreOpenAiShaped) {
  start_api();
  std::string body;
  ASSERT_EQ(http(api->port(), "GET", "/v1/models", "", &body), 200);
  auto models = Json::parse(body);
  ASSERT_EQ(models["data"].size(), 2u) << body;
  EXPECT_EQ(models["object"], "list");

  ASSERT_EQ(http(api->port(), "POST", "/v1/chat/completions",
                 R"({"model":"kitchen-model","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]})",
                 &body), 200) << body;
  auto chat = Json::parse(body);
  EXPECT_EQ(chat["object"], "chat.completion");
  EXPECT_EQ(chat["choices"][0]["message"]["content"], "Hello from kitchen-model");
  EXPECT_EQ(chat["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(chat["usage"]["completion_tokens"], 3);

  ASSERT_EQ(http(api->port(), "POST", "/v1/chat/completions",
                 R"({"model":"kitchen-model","messages":[{"role":"user","content":"hi"}],"stream":true})", &body), 200);
  EXPECT_NE(body.find(R"("delta":{"content":" from"})"), std::string::npos) << body;
  EXPECT_NE(body.find("data: [DONE]"), std::string::npos) << body;

  EXPECT_EQ(http(api->port(), "POST", "/v1/chat/completions", R"({"model":"nope","messages":[{"role":"user","content":"x"}]})", &body), 404);
  EXPECT_EQ(Json::parse(body)["error"]["code"], "model_not_found") << body;
  EXPECT_EQ(http(api->port(), "POST", "/v1/chat/completions", R"({"messages":[]})", &body), 400);
  EXPECT_EQ(Json::parse(body)["error"]["type"], "invalid_request_error") << body;
  EXPECT_EQ(http(api->port(), "POST", "/v1/chat/completions", "{not json", &body), 400);
}

TEST_F(OpenAiApiTest, ATokenWhenConfiguredIsRequired) {
  start_api("s3cret");
  std::string body;
  EXPECT_EQ(http(api->port(), "GET", "/v1/models", "", &body), 401);
  EXPECT_EQ(Json::parse(body)["error"]["code"], "invalid_api_key");
  EXPECT_EQ(http(api->port(), "GET", "/v1/models", "", &body, "Authorization: Bearer s3cret\r\n"), 200);
}

TEST(OpenAiApiOptions, ALanAddressWithoutTokenIsRefused) {
  bus::CapabilityBus bus{SELF, bus::BusConfig{}, SystemClock::instance()};
  OpenAiApi api(bus, OpenAiApiOptions{"0.0.0.0", 0, "", {}});
  auto s = api.start();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("bearer token"), std::string::npos);
}

TEST_F(OpenAiApiTest, TheOfficialOpenAiNpmClientWorksUnchanged) {
  const auto module = test::source_dir() / "build" / "npm" / "node_modules" / "openai" / "package.json";
  if (test::find_program("node").empty() || !std::filesystem::exists(module)) {
    GTEST_SKIP() << "node or the openai package is missing (scripts/setup-test-npm installs it)";
  }
  start_api();
  auto r = test::run_process(
      {test::find_program("node"), (test::source_dir() / "tests" / "node" / "openai_client.mjs").string(),
       "http://127.0.0.1:" + std::to_string(api->port()) + "/v1", "kitchen-model", "test-embed"},
      {"HN_NPM_DIR=" + (test::source_dir() / "build" / "npm").string()}, "", 60);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto out = Json::parse(r.out);
  EXPECT_EQ(out["models"], Json::array({"kitchen-model", "test-embed"}));
  EXPECT_EQ(out["chat"]["content"], "Hello from kitchen-model");
  EXPECT_EQ(out["chat"]["finish"], "stop");
  EXPECT_EQ(out["stream"], Json::array({"Hello", " from", " kitchen-model"}));
  EXPECT_EQ(out["stream_finish"], "stop");
  EXPECT_EQ(out["completion"]["text"], "Hello from");
  EXPECT_EQ(out["completion"]["finish"], "length");
  EXPECT_EQ(out["embeddings"], Json::parse("[[1,0],[2,0]]"));
  EXPECT_EQ(out["missing"]["status"], 404);
  EXPECT_EQ(out["missing"]["code"], "model_not_found");
}

}  // namespace
}  // namespace hn::node
