// embed_service_test.cpp — embed.text@1.0 on the tiny BERT GGUF (tests/models): pooling
// from the model, unit length, batches that give the same vectors as single texts, the
// contract's limits as bad_request through a real bus, an unknown model as not_found, and
// a service without a usable model that offers nothing while the node goes on.
#include "services/embed/embed_service.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "bus/schema.h"
#include "service/host.h"
#include "services/embed/http_embedders.h"
#include "services/embed/llama_embedder.h"
#include "support/test_support.h"

namespace hn::services::embed {
namespace {

// One decoding thread: the tiny models gain nothing from more, and a spinning thread pool
// crawls on a shared machine.
const int ONE_THREAD = ::setenv("HEARTHNET_LLAMA_THREADS", "1", 1);

const std::filesystem::path BERT = std::filesystem::path(HN_TEST_MODELS_DIR) / "tiny-bert.gguf";
const NodeId SELF("ed25519:self");
const Version V10{1, 0};

double norm(const Vector& v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  return std::sqrt(s);
}

double max_diff(const Vector& a, const Vector& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(double(a[i]) - b[i]));
  return d;
}

class LlamaEmbedderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_embedder =
        std::make_unique<LlamaEmbedder>(LlamaEmbedderOptions{.model_path = BERT, .threads = 1});
    ASSERT_TRUE(s_embedder->start());
  }
  static void TearDownTestSuite() { s_embedder.reset(); }
  static std::vector<Vector> embed(const std::vector<std::string>& texts, bool normalize = true) {
    auto r = s_embedder->embed(texts, normalize, bus::CancelToken());
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? *r : std::vector<Vector>{};
  }
  static inline std::unique_ptr<LlamaEmbedder> s_embedder;
};

TEST_F(LlamaEmbedderTest, TakesPoolingAndSizeFromTheModel) {
  EXPECT_EQ(s_embedder->model(), "tiny-bert");
  EXPECT_EQ(s_embedder->dim(), 64);
  EXPECT_EQ(s_embedder->pooling(), "mean");  // bert.pooling_type = 1
  EXPECT_EQ(s_embedder->health()["ok"], true);
}

TEST_F(LlamaEmbedderTest, NormalisesToUnitLengthWhenAsked) {
  const auto v = embed({"water for the neighbourhood", "a second text"});
  ASSERT_EQ(v.size(), 2U);
  EXPECT_EQ(v[0].size(), 64U);
  EXPECT_NEAR(norm(v[0]), 1.0, 1e-5);
  EXPECT_NEAR(norm(v[1]), 1.0, 1e-5);
  EXPECT_GT(max_diff(v[0], v[1]), 1e-3);  // different texts, different vectors
  const auto raw = embed({"water for the neighbourhood"}, false);
  EXPECT_GT(std::fabs(norm(raw[0]) - 1.0), 1e-3);
}

TEST_F(LlamaEmbedderTest, ABatchGivesTheVectorsEachTextGetsAlone) {
  // 150 texts: more sequences than one decode takes (MAX_SEQS), so several batches.
  std::vector<std::string> texts;
  for (int i = 0; i < 150; ++i) texts.push_back("text number " + std::to_string(i) + " here");
  const auto batch = embed(texts);
  ASSERT_EQ(batch.size(), texts.size());
  for (int i : {0, 1, 63, 64, 65, 149}) {
    const auto alone = embed({texts[static_cast<std::size_t>(i)]});
    EXPECT_LT(max_diff(batch[static_cast<std::size_t>(i)], alone[0]), 1e-4) << i;
  }
}

TEST_F(LlamaEmbedderTest, SmallDecodesOfMixedLengthsGiveTheVectorsEachTextGetsAlone) {
  // Texts of 3..~300 tokens packed into decodes of at most 32 tokens: short ones share a
  // decode (one sequence each, pooled per sequence), a longer one gets a decode of its own.
  LlamaEmbedder small({.model_path = BERT, .threads = 1, .decode_tokens = 32});
  ASSERT_TRUE(small.start());
  std::vector<std::string> texts;
  for (int i = 0; i < 40; ++i) {
    std::string t = "note " + std::to_string(i);
    for (int w = 0; w < (i % 7) * (i % 5) * 3; ++w) t += " garden";
    texts.push_back(t);
  }
  auto packed = small.embed(texts, true, bus::CancelToken());
  ASSERT_TRUE(packed) << packed.error().message;
  ASSERT_EQ(packed->size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto alone = embed({texts[i]});
    EXPECT_LT(max_diff((*packed)[i], alone[0]), 1e-4) << i;
  }
}

TEST_F(LlamaEmbedderTest, TwoThreadsGiveTheSameVectors) {
  // threads > 1: a threadpool of the embedder's own (not threads started per decode).
  LlamaEmbedder two({.model_path = BERT, .threads = 2});
  ASSERT_TRUE(two.start());
  const std::vector<std::string> texts = {"water for the neighbourhood", "a second text", ""};
  for (int round = 0; round < 2; ++round) {
    auto v = two.embed(texts, true, bus::CancelToken());
    ASSERT_TRUE(v) << v.error().message;
    const auto one = embed(texts);
    for (std::size_t i = 0; i < texts.size(); ++i) EXPECT_LT(max_diff((*v)[i], one[i]), 1e-5);
  }
}

TEST_F(LlamaEmbedderTest, ALongTextIsCutToTheModelsContext) {
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "word ";
  const auto v = embed({text, ""});
  ASSERT_EQ(v.size(), 2U);
  EXPECT_NEAR(norm(v[0]), 1.0, 1e-5);
  EXPECT_NEAR(norm(v[1]), 1.0, 1e-5);  // an empty text still has [CLS] [SEP]
}

TEST(LlamaEmbedder, AMissingFileIsNotFound) {
  LlamaEmbedder e({.model_path = "/nonexistent/bge.gguf"});
  auto s = e.start();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::not_found);
  EXPECT_EQ(e.health()["ok"], false);
}

// The service under a real ServiceHost and bus, as the node runs it.
struct EmbedOnBus : ::testing::Test {
  ManualClock clock;
  bus::CapabilityBus bus{SELF, bus::BusConfig{}, clock};
  service::ServiceHost host{bus};

  void start_with(const std::string& model) {
    config::Config cfg;
    cfg.embedding.model = model;
    std::string why;
    auto e = choose_embedder(cfg, why);
    ASSERT_TRUE(host.start(std::make_unique<EmbedService>(std::move(e), model, why)));
  }
  Result<Json> call(const Json& body) { return bus.call(EMBED_TEXT_CAPABILITY, V10, body); }
  static Json body(const std::string& model, const Json& texts) {
    return Json{{"params", {{"model", model}}}, {"input", {{"texts", texts}}}};
  }
};

TEST_F(EmbedOnBus, AnswersWithTheContractsShape) {
  start_with(BERT.string());
  auto r = call(body("tiny-bert", {"hello", "world", "again"}));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)["output"]["dim"], 64);
  ASSERT_EQ((*r)["output"]["embeddings"].size(), 3U);
  EXPECT_EQ((*r)["output"]["embeddings"][0].size(), 64U);
  EXPECT_EQ((*r)["meta"]["model"], "tiny-bert");
  EXPECT_TRUE((*r)["meta"].contains("ms"));
  const auto d = embed_text_descriptor("tiny-bert", 64);
  EXPECT_TRUE(bus::SchemaValidator().validate_response(d, *r));
  // The configured spelling of the model (the path) is accepted too.
  EXPECT_TRUE(call(body(BERT.string(), {"x"})));
  const Json h = host.health();
  EXPECT_EQ(h["embed"]["health"]["pooling"], "mean");
}

TEST_F(EmbedOnBus, TheContractsLimitsAreBadRequest) {
  start_with(BERT.string());
  Json many = Json::array();
  for (int i = 0; i < 257; ++i) many.push_back("t");
  auto too_many = call(body("tiny-bert", many));
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().code, ErrorCode::bad_request);

  Json just = Json::array();
  for (int i = 0; i < 256; ++i) just.push_back("t" + std::to_string(i));
  auto at_limit = call(body("tiny-bert", just));
  ASSERT_TRUE(at_limit) << at_limit.error().to_string();
  EXPECT_EQ((*at_limit)["output"]["embeddings"].size(), 256U);

  auto too_long = call(body("tiny-bert", {std::string(8193, 'a')}));
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code, ErrorCode::bad_request);
  // 8192 characters of two bytes each is within the limit (characters, not bytes).
  std::string accents;
  for (int i = 0; i < 8192; ++i) accents += "\xC3\xA9";
  EXPECT_TRUE(call(body("tiny-bert", {accents})));

  auto none = call(body("tiny-bert", Json::array()));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::bad_request);
}

TEST_F(EmbedOnBus, AModelNotServedHereIsNotFound) {
  start_with(BERT.string());
  auto r = call(body("bge-large-en", {"x"}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
}

TEST_F(EmbedOnBus, WithoutAUsableModelNothingIsOfferedAndHealthSaysWhy) {
  start_with("/nonexistent/bge-small.gguf");
  auto r = call(body("bge-small", {"x"}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  const Json h = host.health()["embed"];
  EXPECT_EQ(h["state"], "running");
  EXPECT_EQ(h["health"]["ok"], false);
  EXPECT_NE(h["health"]["error"].get<std::string>().find("no GGUF file"), std::string::npos);
}

TEST_F(EmbedOnBus, TheDefaultConfigWithNoBackendOffersNothing) {
  std::string why;
  EXPECT_EQ(choose_embedder(config::Config{}, why), nullptr);
  EXPECT_NE(why.find("BAAI/bge-small-en-v1.5"), std::string::npos);
}

TEST_F(EmbedOnBus, TokenizeCountsWithTheModelsOwnTokenizerForThisNodeOnly) {
  start_with(BERT.string());
  const Json req{{"input", {{"texts", {"hello", "hello neighbourhood water pump", ""}}}}};
  auto r = bus.call(EMBED_TOKENIZE_CAPABILITY, V10, req);
  ASSERT_TRUE(r) << r.error().to_string();
  const Json& counts = (*r)["output"]["counts"];
  ASSERT_EQ(counts.size(), 3U);
  EXPECT_GE(counts[0].get<int>(), 1);
  EXPECT_GT(counts[1].get<int>(), counts[0].get<int>());
  EXPECT_EQ(counts[2], 0);  // no special tokens counted
  EXPECT_EQ((*r)["output"]["max_tokens"], 512);  // the tiny BERT's context
  EXPECT_EQ((*r)["meta"]["model"], "tiny-bert");
  // The same counts as the embedder's own.
  LlamaEmbedder e({.model_path = BERT, .threads = 1});
  ASSERT_TRUE(e.start());
  auto direct = e.count_tokens({"hello neighbourhood water pump"});
  ASSERT_TRUE(direct);
  EXPECT_EQ((*direct)[0], counts[1].get<int>());
  // Local-only: a member (a peer's call) is refused.
  bus::CallOptions member;
  member.caller_trust = TrustLevel::member;
  member.caller = NodeId("ed25519:peer");
  auto refused = bus.call(EMBED_TOKENIZE_CAPABILITY, V10, req, member);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::unauthorized);
  // Another model is not this node's tokenizer.
  auto other = bus.call(EMBED_TOKENIZE_CAPABILITY, V10,
                        Json{{"params", {{"model", "bge-large"}}}, {"input", {{"texts", {"x"}}}}});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::not_found);
  auto none = bus.call(EMBED_TOKENIZE_CAPABILITY, V10, Json{{"input", {{"texts", Json::array()}}}});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::bad_request);
}

TEST(EmbedTokenize, HttpEmbeddersHaveNoTokenizerSoNoneIsOffered) {
  config::LlmBackendConfig b;
  b.name = "ollama";
  b.url = "http://127.0.0.1:9";
  auto e = make_http_embedder(b, "nomic-embed-text");
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->has_tokenizer());
  EXPECT_EQ(e->count_tokens({"x"}).error().code, ErrorCode::not_implemented);
}

TEST(EmbedParams, TheRequestedModelMustMatchExactly) {
  const std::vector<std::string> names{"bge-small", "/models/bge-small.gguf"};
  EXPECT_TRUE(embed_params_compatible(names, Json{{"model", "bge-small"}}));
  EXPECT_TRUE(embed_params_compatible(names, Json{{"model", "/models/bge-small.gguf"}}));
  EXPECT_FALSE(embed_params_compatible(names, Json{{"model", "bge-small-en"}}));
  EXPECT_FALSE(embed_params_compatible(names, Json::object()));
  EXPECT_FALSE(embed_params_compatible(names, Json{{"model", 3}}));
}

}  // namespace
}  // namespace hn::services::embed
