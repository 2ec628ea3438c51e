// llama_engine_test.cpp — LlamaEngine on the tiny random-weight llama GGUF (tests/models):
// loading errors, the GGUF's chat template, determinism under a seed, max_tokens, stop
// sequences, cancellation (counted in tokens, never timed), concurrent generations.
#include "services/llm/llama_engine.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "support/test_support.h"

namespace hn::services::llm {
namespace {

const std::filesystem::path MODEL = std::filesystem::path(HN_TEST_MODELS_DIR) / "tiny-llama.gguf";

struct Generated {
  std::string text;
  std::vector<std::string> pieces;
  EngineResult result;
};

EngineSampling seeded(std::uint32_t seed, int max_tokens) {
  EngineSampling s;
  s.seed = seed;
  s.max_tokens = max_tokens;
  s.temperature = 0.8;
  return s;
}

Generated generate(LlamaEngine& e, const EngineSampling& s,
                   const std::string& prompt = "Hello there") {
  Generated run;
  auto r = e.generate(
      prompt, false, s,
      [&](std::string_view p) {
        run.text += p;
        run.pieces.emplace_back(p);
        return true;
      },
      bus::CancelToken());
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  if (r) run.result = *r;
  return run;
}

class LlamaEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto e =
        LlamaEngine::open({.model_path = MODEL, .slots = 4, .ctx_per_slot = 1024, .threads = 1});
    ASSERT_TRUE(e.has_value()) << e.error().message;
    s_engine = std::move(*e);
  }
  static void TearDownTestSuite() { s_engine.reset(); }
  static inline std::unique_ptr<LlamaEngine> s_engine;
};

TEST(LlamaEngineOpen, AMissingFileIsNotFound) {
  auto e = LlamaEngine::open({.model_path = "/nonexistent/model.gguf"});
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code, ErrorCode::not_found);
}

TEST(LlamaEngineOpen, AFileThatIsNotAGgufIsBadRequest) {
  test::TempDir dir;
  const auto path = dir.path() / "junk.gguf";
  std::ofstream(path) << "this is not a model";
  auto e = LlamaEngine::open({.model_path = path});
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code, ErrorCode::bad_request);
}

TEST(LlamaEngineOpen, SeveralThreadsShareOneThreadpoolAndGiveTheSameText) {
  // threads > 1: the engine attaches a threadpool of its own (llama-server does too) rather
  // than let ggml start threads per decode; the text must not depend on the thread count.
  EngineSampling greedy;
  greedy.temperature = 0;
  greedy.max_tokens = 24;
  std::string texts[2];
  for (int threads : {1, 2}) {
    auto e = LlamaEngine::open(
        {.model_path = MODEL, .slots = 2, .ctx_per_slot = 512, .threads = threads});
    ASSERT_TRUE(e.has_value()) << e.error().message;
    for (int i = 0; i < 2; ++i) {  // the pool serves step after step
      const std::string text = generate(**e, greedy).text;
      if (i == 0) texts[threads - 1] = text;
      EXPECT_EQ(text, texts[threads - 1]);
    }
  }
  EXPECT_EQ(texts[0], texts[1]);
  EXPECT_FALSE(texts[0].empty());
}

TEST_F(LlamaEngineTest, DescribesTheModel) {
  EXPECT_EQ(s_engine->model_name(), "hearthnet-tiny-llama");
  EXPECT_EQ(s_engine->quant(), "f32");
  EXPECT_EQ(s_engine->slots(), 4);
  EXPECT_EQ(s_engine->ctx_per_slot(), 1024);
}

TEST_F(LlamaEngineTest, AppliesTheGgufChatTemplate) {
  auto p = s_engine->chat_prompt({{"system", "be brief"}, {"user", "hi"}});
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p,
            "<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST_F(LlamaEngineTest, TheSameSeedGivesTheSameText) {
  const Generated a = generate(*s_engine, seeded(42, 24));
  const Generated b = generate(*s_engine, seeded(42, 24));
  const Generated c = generate(*s_engine, seeded(43, 24));
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.result.tokens_out, b.result.tokens_out);
  EXPECT_NE(a.text, c.text);
  EXPECT_GT(a.result.tokens_in, 1);
}

TEST_F(LlamaEngineTest, StopsAtMaxTokens) {
  const Generated r = generate(*s_engine, seeded(7, 17));
  EXPECT_EQ(r.result.tokens_out, 17);
  EXPECT_EQ(r.result.finish, EngineFinish::max_tokens);
  EXPECT_FALSE(r.text.empty());
}

TEST_F(LlamaEngineTest, AStopSequenceEndsTheTextBeforeIt) {
  const Generated full = generate(*s_engine, seeded(11, 40));
  ASSERT_GT(full.pieces.size(), 10U);
  // A stop sequence made of two whole pieces from the middle of the free-running text.
  const std::string stop = full.pieces[6] + full.pieces[7];
  const auto at = full.text.find(stop);
  ASSERT_NE(at, std::string::npos);
  EngineSampling s = seeded(11, 40);
  s.stop = {stop};
  const Generated cut = generate(*s_engine, s);
  EXPECT_EQ(cut.text, full.text.substr(0, at));
  EXPECT_EQ(cut.result.finish, EngineFinish::stop_sequence);
  EXPECT_LT(cut.result.tokens_out, full.result.tokens_out);
}

TEST_F(LlamaEngineTest, ASinkThatRefusesStopsTheGeneration) {
  const auto before = s_engine->stats().tokens_generated;
  int seen = 0;
  auto r = s_engine->generate(
      "Tell me everything", false, seeded(5, 100000), [&](std::string_view) { return ++seen < 3; },
      bus::CancelToken());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->finish, EngineFinish::cancelled);
  EXPECT_EQ(seen, 3);
  // The slot stopped: the engine generated at most what it may run ahead of a consumer.
  EXPECT_LE(r->tokens_out, 3 + static_cast<int>(LlamaEngine::MAX_AHEAD) + 1);
  const auto after = s_engine->stats();
  EXPECT_EQ(after.active, 0);
  EXPECT_EQ(after.tokens_generated - before, static_cast<std::uint64_t>(r->tokens_out));
}

TEST_F(LlamaEngineTest, CancellingTheTokenStopsTheGeneration) {
  bus::CancelToken cancel;
  int seen = 0;
  auto r = s_engine->generate(
      "Go on", false, seeded(6, 100000),
      [&](std::string_view) {
        if (++seen == 5) cancel.cancel();
        return true;
      },
      cancel);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->finish, EngineFinish::cancelled);
  EXPECT_EQ(seen, 5);  // nothing is delivered after the cancel
  EXPECT_LE(r->tokens_out, 5 + static_cast<int>(LlamaEngine::MAX_AHEAD) + 1);
  EXPECT_EQ(s_engine->stats().active, 0);
}

TEST_F(LlamaEngineTest, AnAlreadyCancelledCallGeneratesNothing) {
  bus::CancelToken cancel;
  cancel.cancel();
  const auto before = s_engine->stats().tokens_generated;
  auto r = s_engine->generate(
      "x", false, seeded(1, 50), [](std::string_view) { return true; }, cancel);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->finish, EngineFinish::cancelled);
  EXPECT_EQ(s_engine->stats().tokens_generated, before + static_cast<std::uint64_t>(r->tokens_out));
}

TEST_F(LlamaEngineTest, APromptLongerThanTheContextIsBadRequest) {
  std::string prompt;
  for (int i = 0; i < 1200; ++i) prompt += "word ";
  auto r = s_engine->generate(
      prompt, false, seeded(1, 5), [](std::string_view) { return true; }, bus::CancelToken());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::bad_request);
}

TEST_F(LlamaEngineTest, ConcurrentStreamsEachGetTheTextTheyGetAlone) {
  // Four generations (different prompts) share every decode step, one sequence each, and
  // each takes its own row of the batch. Greedy: the argmax of a row does not move with the
  // last bits that a different batch shape changes, so each text must be exactly its own.
  // (Drawn tokens may: on the random model's flat distribution they do — llama.cpp's own
  // top_p as much as ours — which is why determinism is promised per request alone.)
  constexpr int N = 4;
  const std::vector<std::string> prompts = {"Hello there", "The water supply", "A garden",
                                            "Neighbours met in the hall to talk"};
  EngineSampling greedy;
  greedy.temperature = 0;
  greedy.max_tokens = 48;
  std::vector<Generated> alone(N);
  for (int i = 0; i < N; ++i) alone[i] = generate(*s_engine, greedy, prompts[i]);
  for (int round = 0; round < 2; ++round) {
    std::vector<Generated> together(N);
    std::vector<std::thread> threads;
    for (int i = 0; i < N; ++i) {
      threads.emplace_back([&, i] { together[i] = generate(*s_engine, greedy, prompts[i]); });
    }
    for (auto& t : threads) t.join();
    for (int i = 0; i < N; ++i) {
      EXPECT_EQ(together[i].text, alone[i].text) << i;
      EXPECT_EQ(together[i].result.tokens_out, alone[i].result.tokens_out) << i;
    }
  }
  EXPECT_NE(alone[0].text, alone[1].text);
}

TEST_F(LlamaEngineTest, ServesMoreGenerationsAtOnceThanItHasSlots) {
  constexpr int N = 7;
  std::vector<Generated> runs(N);
  std::vector<std::thread> threads;
  for (int i = 0; i < N; ++i) {
    threads.emplace_back([&, i] { runs[i] = generate(*s_engine, seeded(100 + i, 20 + i)); });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < N; ++i) {
    EXPECT_EQ(runs[i].result.tokens_out, 20 + i) << i;
    EXPECT_EQ(runs[i].result.finish, EngineFinish::max_tokens) << i;
  }
  EXPECT_EQ(s_engine->stats().active, 0);
  EXPECT_EQ(s_engine->stats().waiting, 0);
}

}  // namespace
}  // namespace hn::services::llm
