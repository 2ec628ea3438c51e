// Tests for the llm service (services/llm/llm_service.h): the catalogue in params, a bad
// backend left out and named in health, token frames then done, the plain answer, errors.
#include "services/llm/llm_service.h"

#include <cstdlib>

#include <gtest/gtest.h>

#include "services/llm/fake_llm_server.h"

namespace hn::services::llm {
namespace {

using test::FakeLlmServer;

config::LlmBackendConfig entry(std::string name, std::string type, std::string url,
                               std::optional<std::string> model) {
  config::LlmBackendConfig c;
  c.name = std::move(name);
  c.kind = std::move(type);
  c.url = std::move(url);
  c.model = std::move(model);
  return c;
}

class LlmServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("HN_TEST_UNSET_KEY");
    auto bad_key = entry("hosted", "anthropic_api", "", "claude");
    bad_key.api_key_env = "HN_TEST_UNSET_KEY";
    service = std::make_unique<LlmService>(std::vector<config::LlmBackendConfig>{
        entry("kitchen", "vllm", a.url(), "qwen"), entry("garage", "ollama", b.url(), "llama"),
        bad_key, entry("broken", "vllm", "http://:1", "x")});
    ASSERT_TRUE(service->start());
    caps = service->capabilities();
    ASSERT_EQ(caps.size(), 2u);
  }
  bus::CallContext context() {
    bus::CallContext ctx;
    return ctx;
  }
  FakeLlmServer a, b;
  std::unique_ptr<LlmService> service;
  std::vector<bus::LocalCapability> caps;
};

TEST_F(LlmServiceTest, OneEntryPerCapabilityAdvertisesTheWholeCatalogue) {
  const Json& p = caps[0].descriptor.params.get();
  EXPECT_EQ(caps[0].descriptor.name, "llm.chat");
  EXPECT_EQ(caps[1].descriptor.name, "llm.complete");
  EXPECT_EQ(p["model"], "qwen");
  EXPECT_EQ(p["models"], Json::array({"qwen", "llama"}));
  EXPECT_EQ(p["backend"], "kitchen");
  EXPECT_EQ(p["requires_internet"], false);
  ASSERT_EQ(p["backends"].size(), 2u);
  EXPECT_EQ(p["backends"][1]["kind"], "ollama");
  EXPECT_TRUE(llm_params_compatible(p, Json{{"model", "llama"}}));
  EXPECT_FALSE(llm_params_compatible(p, Json{{"model", "gpt-4"}}));
  EXPECT_TRUE(llm_params_compatible(p, Json::object()));
}

TEST_F(LlmServiceTest, BadEntriesAreNamedInHealthAndTheOthersServe) {
  Json h = service->health();
  ASSERT_EQ(h["backends_failed"].size(), 2u);
  EXPECT_EQ(h["backends_failed"][0]["name"], "hosted");
  EXPECT_NE(h["backends_failed"][0]["error"].get<std::string>().find("HN_TEST_UNSET_KEY"),
            std::string::npos);
  EXPECT_NE(h["backends_failed"][1]["error"].get<std::string>().find("no host"), std::string::npos);
  EXPECT_EQ(h["backends"].size(), 2u);
}

TEST_F(LlmServiceTest, AStreamIsTokenFramesThenDone) {
  std::vector<bus::StreamFrame> frames;
  bus::FrameSink sink = [&](bus::StreamFrame f) -> Status {
    frames.push_back(std::move(f));
    return {};
  };
  Json body{{"params", {{"model", "llama"}}},
            {"input", {{"messages", {{{"role", "user"}, {"content", "hi"}}}}}}};
  auto done = caps[0].stream_handler(context(), body, sink);
  ASSERT_TRUE(done) << done.error().message;
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].event, "token");
  EXPECT_EQ(frames[2].data["text"], " llama");
  EXPECT_EQ((*done)["tokens_out"], 3);
  EXPECT_EQ((*done)["stop_reason"], "end");
  EXPECT_EQ((*done)["backend"], "garage");
  EXPECT_EQ(b.requests().size(), 1u);
  EXPECT_TRUE(a.requests().empty());
}

TEST_F(LlmServiceTest, APlainCallAnswersTheWholeMessage) {
  Json body{{"input", {{"prompt", "once"}, {"max_tokens", 2}}}};
  auto r = caps[1].handler(context(), body);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)["output"]["text"], "Hello from");
  EXPECT_EQ((*r)["meta"]["model"], "qwen");
  EXPECT_EQ((*r)["meta"]["stop_reason"], "max_tokens");
  Json chat{{"input", {{"messages", {{{"role", "user"}, {"content", "hi"}}}}}}};
  r = caps[0].handler(context(), chat);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["output"]["message"]["content"], "Hello from qwen");
}

TEST_F(LlmServiceTest, UnknownModelAndNoUserMessageAreTypedErrors) {
  Json body{{"params", {{"model", "gpt-9"}}},
            {"input", {{"messages", {{{"role", "user"}, {"content", "hi"}}}}}}};
  auto r = caps[0].handler(context(), body);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  Json system_only{{"input", {{"messages", {{{"role", "system"}, {"content", "x"}}}}}}};
  r = caps[0].handler(context(), system_only);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::bad_request);
}

TEST_F(LlmServiceTest, ABackendDyingMidStreamEndsWithAnErrorAfterTheFramesSent) {
  b.set_mode(FakeLlmServer::Mode::die_mid_stream);
  std::vector<bus::StreamFrame> frames;
  bus::FrameSink sink = [&](bus::StreamFrame f) -> Status {
    frames.push_back(std::move(f));
    return {};
  };
  Json body{{"params", {{"model", "llama"}}},
            {"input", {{"messages", {{{"role", "user"}, {"content", "hi"}}}}}}};
  auto done = caps[0].stream_handler(context(), body, sink);
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, ErrorCode::internal_error);
  EXPECT_EQ(frames.size(), 2u);
  EXPECT_EQ(service->health()["backends"][1]["ok"], false);
}

TEST(LlmServiceEmpty, NoBackendMeansNoCapability) {
  LlmService s(std::vector<config::LlmBackendConfig>{});
  ASSERT_TRUE(s.start());
  EXPECT_TRUE(s.capabilities().empty());
}

}  // namespace
}  // namespace hn::services::llm
