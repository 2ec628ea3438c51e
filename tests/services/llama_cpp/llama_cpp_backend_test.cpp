// llama_cpp_backend_test.cpp — the `llama_cpp` LlmBackend (make_llama_cpp_backend) on the
// tiny llama GGUF: configuration errors named at start, the offered model, chat through the
// GGUF's template with exact usage, a refusing sink ending the stream as cancelled.
#include <gtest/gtest.h>

#include <cstdlib>

#include "services/llm/backend.h"

namespace hn::services::llm {
namespace {

// One decoding thread: the tiny models gain nothing from more, and a spinning thread pool
// crawls on a shared machine.
const int ONE_THREAD = ::setenv("HEARTHNET_LLAMA_THREADS", "1", 1);

const std::string MODEL = std::string(HN_TEST_MODELS_DIR) + "/tiny-llama.gguf";

config::LlmBackendConfig entry(std::optional<std::string> url, std::optional<std::string> model) {
  config::LlmBackendConfig c;
  c.name = "llama_cpp";
  c.url = std::move(url);
  c.model = std::move(model);
  c.max_concurrent = 2;
  c.ctx = 512;
  return c;
}

std::unique_ptr<LlmBackend> started(const config::LlmBackendConfig& c) {
  auto b = make_llama_cpp_backend(c);
  EXPECT_TRUE(b.has_value());
  auto s = (*b)->start();
  EXPECT_TRUE(s) << (s ? "" : s.error().message);
  return std::move(*b);
}

TEST(LlamaCppBackend, AMissingFileIsNamedAtStart) {
  auto b = make_llama_cpp_backend(entry("/models/none.gguf", std::nullopt));
  ASSERT_TRUE(b.has_value());
  auto s = (*b)->start();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::not_found);
  EXPECT_NE(s.error().message.find("/models/none.gguf"), std::string::npos);
  EXPECT_EQ((*b)->health()["ok"], false);
  auto r = (*b)->chat(
      {.model = "none", .messages = {{"user", "hi"}}}, [](const Token&) { return Status{}; },
      bus::CancelToken());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::not_implemented);
}

TEST(LlamaCppBackend, OffersTheFilesStemOrTheConfiguredName) {
  auto by_path = started(entry(MODEL, std::nullopt));
  EXPECT_EQ(by_path->models().at(0).name, "tiny-llama");
  EXPECT_EQ(by_path->models().at(0).quant, "f32");
  EXPECT_EQ(by_path->models().at(0).ctx_max, 512);
  EXPECT_EQ(by_path->kind(), "llama_cpp");
  EXPECT_FALSE(by_path->requires_internet());
  EXPECT_EQ(by_path->max_concurrent(), 2);
  auto named = started(entry(MODEL, "kitchen-model"));
  EXPECT_EQ(named->models().at(0).name, "kitchen-model");
}

TEST(LlamaCppBackend, ChatStreamsTokensAndReportsExactUsage) {
  auto b = started(entry(MODEL, std::nullopt));
  std::string streamed;
  int frames = 0;
  ChatRequest req{.model = "tiny-llama",
                  .messages = {{"system", "be brief"}, {"user", "hello"}},
                  .sampling = {.max_tokens = 12, .seed = 9}};
  auto r = b->chat(
      req,
      [&](const Token& t) {
        streamed += t.text;
        ++frames;
        return Status{};
      },
      bus::CancelToken());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->text, streamed);
  EXPECT_EQ(r->tokens_out, 12);
  EXPECT_GT(r->tokens_in, 10);  // the template's markers are part of the prompt
  EXPECT_TRUE(r->usage_exact);
  EXPECT_EQ(r->stop_reason, StopReason::max_tokens);
  EXPECT_GT(frames, 0);
  // The same seed again: the same answer (M04 §4.5).
  auto again = b->chat(
      req, [](const Token&) { return Status{}; }, bus::CancelToken());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->text, r->text);
}

TEST(LlamaCppBackend, CompleteHonoursStopSequences) {
  auto b = started(entry(MODEL, std::nullopt));
  CompletionRequest req{
      .model = "", .prompt = "Once upon a time", .sampling = {.max_tokens = 30, .seed = 3}};
  auto full = b->complete(
      req, [](const Token&) { return Status{}; }, bus::CancelToken());
  ASSERT_TRUE(full);
  ASSERT_GT(full->text.size(), 8U);
  req.sampling.stop = {full->text.substr(full->text.size() / 2, 2)};
  auto cut = b->complete(
      req, [](const Token&) { return Status{}; }, bus::CancelToken());
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->stop_reason, StopReason::stop_sequence);
  EXPECT_EQ(cut->text, full->text.substr(0, full->text.find(req.sampling.stop[0])));
}

TEST(LlamaCppBackend, ASinkErrorEndsTheGenerationAsCancelled) {
  auto b = started(entry(MODEL, std::nullopt));
  int seen = 0;
  auto r = b->complete(
      {.model = "tiny-llama", .prompt = "go", .sampling = {.max_tokens = 400}},
      [&](const Token&) -> Status {
        if (++seen == 2) return make_error(ErrorCode::timeout, "consumer gone");
        return {};
      },
      bus::CancelToken());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stop_reason, StopReason::cancelled);
  EXPECT_EQ(seen, 2);
  EXPECT_LT(r->tokens_out, 400);
}

TEST(LlamaCppBackend, AnotherModelIsNotFound) {
  auto b = started(entry(MODEL, std::nullopt));
  auto r = b->complete(
      {.model = "llama-70b", .prompt = "x"}, [](const Token&) { return Status{}; },
      bus::CancelToken());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
}

}  // namespace
}  // namespace hn::services::llm
