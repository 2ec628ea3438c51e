// Tests for the HTTP LLM backends against a local server speaking each vendor's protocol
// (fake_llm_server.h): streaming, usage, stop reasons, HTTP errors, a stream cut mid-way,
// cancellation, model discovery, API keys from the environment.
#include <cstdlib>

#include <gtest/gtest.h>

#include "services/llm/fake_llm_server.h"
#include "services/llm/make_backend.h"

namespace hn::services::llm {
namespace {

using test::FakeLlmServer;

config::LlmBackendConfig entry(std::string type, const std::string& url,
                               std::optional<std::string> model = "fake-model",
                               std::optional<std::string> key_env = std::nullopt) {
  config::LlmBackendConfig c;
  c.name = "b-" + type;
  c.kind = type;
  c.url = url;
  c.model = std::move(model);
  c.api_key_env = std::move(key_env);
  return c;
}

std::unique_ptr<LlmBackend> build(const config::LlmBackendConfig& c) {
  auto b = make_backend(c);
  EXPECT_TRUE(b.has_value()) << b.error().message;
  if (!b) return nullptr;
  EXPECT_TRUE((*b)->start());
  return std::move(*b);
}

struct Collected {
  std::vector<std::string> tokens;
  TokenSink sink() {
    return [this](const Token& t) -> Status {
      tokens.push_back(t.text);
      return {};
    };
  }
};

ChatRequest chat_request(int max_tokens = 64) {
  ChatRequest r;
  r.model = "fake-model";
  r.messages = {{"system", "be brief"}, {"user", "hi"}};
  r.sampling.max_tokens = max_tokens;
  return r;
}

class Backends : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { ::setenv("HN_TEST_LLM_KEY", "sk-secret-123", 1); }
  config::LlmBackendConfig cfg() {
    const std::string type = GetParam();
    std::optional<std::string> key;
    if (type == "anthropic_api" || type == "hf_api") key = "HN_TEST_LLM_KEY";
    return entry(type, server.url(), "fake-model", key);
  }
  FakeLlmServer server;
};

TEST_P(Backends, ChatStreamsEveryTokenThenUsage) {
  auto b = build(cfg());
  ASSERT_TRUE(b);
  Collected c;
  auto g = b->chat(chat_request(), c.sink(), bus::CancelToken());
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(c.tokens, (std::vector<std::string>{"Hello", " from", " fake-model"}));
  EXPECT_EQ(g->text, "Hello from fake-model");
  EXPECT_EQ(g->tokens_out, 3);
  EXPECT_GT(g->tokens_in, 0);
  EXPECT_EQ(g->stop_reason, StopReason::end);
}

TEST_P(Backends, CompleteStreamsAndMaxTokensSaysSo) {
  auto b = build(cfg());
  ASSERT_TRUE(b);
  Collected c;
  CompletionRequest r;
  r.model = "fake-model";
  r.prompt = "Once upon";
  r.sampling.max_tokens = 2;
  auto g = b->complete(r, c.sink(), bus::CancelToken());
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(c.tokens, (std::vector<std::string>{"Hello", " from"}));
  EXPECT_EQ(g->stop_reason, StopReason::max_tokens);
}

TEST_P(Backends, AStreamCutMidwayIsAnErrorAndCountsAgainstHealth) {
  auto b = build(cfg());
  ASSERT_TRUE(b);
  server.set_mode(FakeLlmServer::Mode::die_mid_stream);
  Collected c;
  auto g = b->chat(chat_request(), c.sink(), bus::CancelToken());
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, ErrorCode::internal_error) << g.error().message;
  EXPECT_EQ(b->health()["ok"], false);
  EXPECT_EQ(b->health()["failures"], 1);
}

TEST_P(Backends, HttpErrorsBecomeContractCodes) {
  auto b = build(cfg());
  ASSERT_TRUE(b);
  Collected c;
  server.set_mode(FakeLlmServer::Mode::error_status, 429);
  auto g = b->chat(chat_request(), c.sink(), bus::CancelToken());
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, ErrorCode::rate_limited);
  EXPECT_EQ(g.error().retry_after_ms, 7000);
  server.set_mode(FakeLlmServer::Mode::error_status, 404);
  g = b->chat(chat_request(), c.sink(), bus::CancelToken());
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, ErrorCode::not_found);
  server.set_mode(FakeLlmServer::Mode::error_status, 500);
  g = b->chat(chat_request(), c.sink(), bus::CancelToken());
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, ErrorCode::internal_error);
  EXPECT_NE(g.error().message.find("HTTP 500: "), std::string::npos) << g.error().message;
  EXPECT_TRUE(c.tokens.empty());
}

TEST_P(Backends, CancellingStopsTheGeneration) {
  auto b = build(cfg());
  ASSERT_TRUE(b);
  server.set_mode(FakeLlmServer::Mode::slow);
  bus::CancelToken cancel;
  std::vector<std::string> tokens;
  TokenSink sink = [&](const Token& t) -> Status {
    tokens.push_back(t.text);
    if (tokens.size() == 3) cancel.cancel();
    return {};
  };
  auto g = b->chat(chat_request(1000), sink, cancel);
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(g->stop_reason, StopReason::cancelled);
  EXPECT_LT(tokens.size(), 10u);  // of 200
}

TEST_P(Backends, TheApiKeyTravelsButNeverShowsInHealth) {
  auto b = build(cfg());
  ASSERT_TRUE(b);
  Collected c;
  ASSERT_TRUE(b->chat(chat_request(), c.sink(), bus::CancelToken()));
  EXPECT_EQ(b->health().dump().find("sk-secret"), std::string::npos);
  const auto reqs = server.requests();
  ASSERT_FALSE(reqs.empty());
  const auto& h = reqs.back().headers;
  if (GetParam() == "anthropic_api") {
    EXPECT_EQ(h.at("x-api-key"), "sk-secret-123");
    EXPECT_EQ(h.at("anthropic-version"), "2023-06-01");
  } else if (GetParam() == "hf_api") {
    EXPECT_EQ(h.at("authorization"), "Bearer sk-secret-123");
  } else {
    EXPECT_EQ(h.count("authorization"), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Vendors, Backends,
                         ::testing::Values("llama_server", "vllm", "lmstudio", "openbmb", "ollama",
                                           "anthropic_api", "hf_api"));

TEST(BackendConfig, AnUnsetKeyVariableIsNamedAndTheBackendIsNotBuilt) {
  ::unsetenv("HN_TEST_NO_SUCH_KEY");
  auto b = make_backend(entry("anthropic_api", "http://127.0.0.1:1", "claude", "HN_TEST_NO_SUCH_KEY"));
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, ErrorCode::config_error);
  EXPECT_NE(b.error().message.find("HN_TEST_NO_SUCH_KEY is not set"), std::string::npos);
}

TEST(BackendConfig, ABadUrlIsNamed) {
  auto b = make_backend(entry("vllm", "http://host:99999"));
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find("bad port"), std::string::npos) << b.error().message;
  EXPECT_NE(b.error().message.find("b-vllm"), std::string::npos);
}

TEST(BackendConfig, HostedBackendsNeedTheInternetLocalOnesDoNot) {
  ::setenv("HN_TEST_LLM_KEY", "k", 1);
  EXPECT_TRUE((*make_backend(entry("anthropic_api", "", "c", "HN_TEST_LLM_KEY")))->requires_internet());
  EXPECT_TRUE((*make_backend(entry("nemotron", "", std::nullopt, "HN_TEST_LLM_KEY")))->requires_internet());
  EXPECT_FALSE((*make_backend(entry("nemotron", "http://127.0.0.1:8000")))->requires_internet());
  EXPECT_FALSE((*make_backend(entry("ollama", "")))->requires_internet());
}

TEST(BackendConfig, WithoutAModelTheServersListIsTaken) {
  FakeLlmServer server;
  server.set_models({"qwen2.5-7b", "llama-3-8b"});
  for (std::string type : {"vllm", "ollama"}) {
    auto b = make_backend(entry(type, server.url(), std::nullopt));
    ASSERT_TRUE(b);
    ASSERT_TRUE((*b)->start());
    auto models = (*b)->models();
    ASSERT_EQ(models.size(), 2u) << type;
    EXPECT_EQ(models[0].name, "qwen2.5-7b");
    EXPECT_EQ(models[1].name, "llama-3-8b");
  }
}

TEST(BackendConfig, AnUnreachableServerWithoutModelFailsStartWithTheReason) {
  auto b = make_backend(entry("ollama", "http://127.0.0.1:1", std::nullopt));
  ASSERT_TRUE(b);
  auto s = (*b)->start();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("unreachable"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace hn::services::llm
