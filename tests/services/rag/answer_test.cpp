// answer_test.cpp — rag.answer@1.0 (services/rag/answer.h) on a real bus, with rag.query and
// llm.chat answered by small local capabilities of the test (the real ones run in
// tests/functional/rag_cli_test.cpp): the prompt numbers the sources, the model's tokens
// are forwarded in order and the sources frame comes last; no hit means no model call; an
// unknown corpus and a missing model are not_found naming their stage; a consumer that
// stops ends the model's stream; a caller below `self` is refused.
#include "services/rag/answer.h"

#include <gtest/gtest.h>

#include <atomic>

#include "core/clock.h"

namespace hn::services::rag {
namespace {

const NodeId SELF("ed25519:self");
const Version V10{1, 0};

Json chunk(int rank, const std::string& title, int page, const std::string& text) {
  return Json{{"rank", rank},
              {"score", 1.0 / rank},
              {"text", text},
              {"metadata",
               {{"doc_cid", "blake3:" + std::string(64, static_cast<char>('0' + rank))},
                {"doc_title", title},
                {"page", page},
                {"chunk_id", "c" + std::to_string(rank)}}}};
}

class AnswerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(bus.register_capability(rag_answer_capability(bus))); }

  // rag.query for `corpus`, answering `chunks`.
  void offer_query(const std::string& corpus, Json chunks) {
    bus::LocalCapability cap;
    cap.descriptor.name = "rag.query";
    cap.descriptor.version = V10;
    cap.descriptor.response_schema = Json{{"type", "object"}};
    cap.descriptor.params = Json{{"corpus", corpus}};
    cap.descriptor.max_concurrent = 4;
    cap.params_compatible = [](const Json& offered, const Json& requested) {
      return requested.value("corpus", "") == offered.value("corpus", "");
    };
    cap.handler = [this, chunks, corpus](const bus::CallContext&, const Json& body) -> Result<Json> {
      last_query = body;
      return Json{{"output", {{"chunks", chunks}}}, {"meta", {{"corpus", corpus}, {"embedding_model", "m"}}}};
    };
    ASSERT_TRUE(bus.register_capability(std::move(cap)));
  }

  // llm.chat streaming `tokens` (stops when emit fails), counting calls.
  void offer_chat(std::vector<std::string> tokens) {
    bus::LocalCapability cap;
    cap.descriptor.name = "llm.chat";
    cap.descriptor.version = V10;
    cap.descriptor.stream_schema = Json{{"type", "object"}};
    cap.descriptor.max_concurrent = 4;
    cap.stream_handler = [this, tokens](const bus::CallContext&, const Json& body,
                                        const bus::FrameSink& emit) -> Result<Json> {
      ++chat_calls;
      last_chat = body;
      int sent = 0;
      for (const auto& t : tokens) {
        if (Status s = emit(bus::StreamFrame{"token", Json{{"text", t}}}); !s) {
          chat_stopped = true;
          return s.error();
        }
        ++sent;
      }
      chat_sent = sent;
      return Json{{"model", "tiny"}, {"tokens_in", 7}, {"tokens_out", sent}, {"stop_reason", "end"}, {"ms", 1}};
    };
    ASSERT_TRUE(bus.register_capability(std::move(cap)));
  }

  struct Run {
    std::vector<bus::StreamFrame> frames;
    Result<Json> done = make_error(ErrorCode::internal_error, "not run");
  };
  Run ask(const std::string& corpus, int stop_after = -1, TrustLevel trust = TrustLevel::self) {
    Run r;
    bus::CallOptions o;
    o.caller_trust = trust;
    const Json body{{"input", {{"question", "Where is the water pump?"}, {"corpus", corpus}, {"k", 3}}}};
    r.done = bus.stream("rag.answer", V10, body,
                        [&](bus::StreamFrame f) -> Status {
                          if (stop_after >= 0 && static_cast<int>(r.frames.size()) >= stop_after) {
                            return make_error(ErrorCode::timeout, "the reader went away");
                          }
                          r.frames.push_back(std::move(f));
                          return {};
                        },
                        o);
    return r;
  }

  ManualClock clock{1'780'000'000'000};
  bus::CapabilityBus bus{SELF, bus::BusConfig{}, clock};
  Json last_query, last_chat;
  std::atomic<int> chat_calls{0}, chat_sent{0};
  std::atomic<bool> chat_stopped{false};
};

TEST(AnswerPrompt, QuotesEachSourceNumberedWithTitleAndPage) {
  std::vector<AnswerSource> sources(2);
  sources[0] = AnswerSource{1, "Handbook", 3, "blake3:a", "a#0", 0.9, "The pump is in the cellar."};
  sources[1] = AnswerSource{2, "Leaflet", 0, "blake3:b", "b#1", 0.5, std::string(500, 'x')};
  const Json m = answer_messages("Where is the pump?", sources, 200);
  ASSERT_EQ(m.size(), 2U);
  EXPECT_EQ(m[0]["role"], "system");
  const std::string sys = m[0]["content"].get<std::string>();
  EXPECT_NE(sys.find("[1] Handbook, page 3:\nThe pump is in the cellar."), std::string::npos) << sys;
  EXPECT_NE(sys.find("[2] Leaflet:\n"), std::string::npos) << sys;  // no page: none printed
  EXPECT_EQ(sys.find(std::string(101, 'x')), std::string::npos) << "each source gets its share";
  EXPECT_NE(sys.find("[1]"), std::string::npos);
  EXPECT_NE(sys.find("square brackets"), std::string::npos);
  EXPECT_EQ(m[1], (Json{{"role", "user"}, {"content", "Where is the pump?"}}));
}

TEST(AnswerPrompt, SourcesOfAQueryFollowItsRanks) {
  const Json q{{"output", {{"chunks", {chunk(1, "A", 2, "x"), Json{{"junk", 1}}, chunk(2, "B", 5, "y")}}}}};
  const auto s = sources_of_query(q);
  ASSERT_EQ(s.size(), 2U);
  EXPECT_EQ(s[0].n, 1);
  EXPECT_EQ(s[0].doc_title, "A");
  EXPECT_EQ(s[1].n, 2);
  EXPECT_EQ(s[1].page, 5);
  const Json f = sources_frame(s);
  EXPECT_EQ(f["sources"][1]["chunk_id"], "c2");
  EXPECT_FALSE(f["sources"][0].contains("text"));
}

TEST_F(AnswerTest, ForwardsTheModelsTokensThenTheSources) {
  offer_query("handbook", Json::array({chunk(1, "Handbook", 12, "The water pump is in the cellar."),
                                       chunk(2, "Leaflet", 1, "Boil the water.")}));
  offer_chat({"In ", "the ", "cellar ", "[1]."});
  auto r = ask("handbook");
  ASSERT_TRUE(r.done) << r.done.error().to_string();
  ASSERT_EQ(r.frames.size(), 5U);
  std::string text;
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(r.frames[static_cast<std::size_t>(i)].event, "token");
    text += r.frames[static_cast<std::size_t>(i)].data["text"].get<std::string>();
  }
  EXPECT_EQ(text, "In the cellar [1].");
  EXPECT_EQ(r.frames[4].event, "sources");
  const Json& s = r.frames[4].data["sources"];
  ASSERT_EQ(s.size(), 2U);
  EXPECT_EQ(s[0], (Json{{"n", 1}, {"doc_title", "Handbook"}, {"page", 12}, {"doc_cid", "blake3:" + std::string(64, '1')},
                        {"chunk_id", "c1"}, {"score", 1.0}}));
  EXPECT_EQ(s[1]["page"], 1);
  // The query asked the corpus for k chunks with text; the model saw them numbered.
  EXPECT_EQ(last_query["params"]["corpus"], "handbook");
  EXPECT_EQ(last_query["input"]["k"], 3);
  EXPECT_EQ(last_query["input"]["include_text"], true);
  const std::string sys = last_chat["input"]["messages"][0]["content"].get<std::string>();
  EXPECT_NE(sys.find("[1] Handbook, page 12:\nThe water pump is in the cellar."), std::string::npos) << sys;
  EXPECT_NE(sys.find("[2] Leaflet, page 1:"), std::string::npos) << sys;
  EXPECT_EQ(r.done->value("corpus", ""), "handbook");
  EXPECT_EQ(r.done->value("tokens_out", 0), 4);
  EXPECT_EQ(r.done->value("sources", 0), 2);
  EXPECT_EQ(r.done->value("embedding_model", ""), "m");
}

TEST_F(AnswerTest, NoHitAnswersWithoutTheModel) {
  offer_query("empty", Json::array());
  offer_chat({"should not run"});
  auto r = ask("empty");
  ASSERT_TRUE(r.done) << r.done.error().to_string();
  EXPECT_EQ(chat_calls.load(), 0);
  ASSERT_EQ(r.frames.size(), 2U);
  EXPECT_EQ(r.frames[0].event, "token");
  EXPECT_NE(r.frames[0].data["text"].get<std::string>().find("nothing"), std::string::npos);
  EXPECT_EQ(r.frames[1].event, "sources");
  EXPECT_TRUE(r.frames[1].data["sources"].empty());
  EXPECT_EQ(r.done->value("no_sources", false), true);
}

TEST_F(AnswerTest, AnUnknownCorpusIsNotFoundAtRetrieval) {
  offer_query("handbook", Json::array({chunk(1, "Handbook", 1, "x")}));
  offer_chat({"x"});
  auto r = ask("nope");
  ASSERT_FALSE(r.done);
  EXPECT_EQ(r.done.error().code, ErrorCode::not_found);
  EXPECT_EQ(r.done.error().detail["stage"], "retrieval");
  EXPECT_NE(r.done.error().message.find("hearthnet rag list"), std::string::npos) << r.done.error().message;
  EXPECT_EQ(chat_calls.load(), 0);
}

TEST_F(AnswerTest, NoModelOnTheMeshIsNotFoundAtGeneration) {
  offer_query("handbook", Json::array({chunk(1, "Handbook", 1, "x")}));
  auto r = ask("handbook");
  ASSERT_FALSE(r.done);
  EXPECT_EQ(r.done.error().code, ErrorCode::not_found);
  EXPECT_EQ(r.done.error().detail["stage"], "generation");
  EXPECT_NE(r.done.error().message.find("llm.backends"), std::string::npos) << r.done.error().message;
}

TEST_F(AnswerTest, AReaderThatStopsEndsTheModelsStream) {
  offer_query("handbook", Json::array({chunk(1, "Handbook", 1, "x")}));
  std::vector<std::string> many(50, "tok ");
  offer_chat(many);
  auto r = ask("handbook", /*stop_after=*/2);
  ASSERT_FALSE(r.done);
  EXPECT_EQ(r.frames.size(), 2U);
  EXPECT_TRUE(chat_stopped.load()) << "the model's emit must fail once the reader is gone";
  EXPECT_EQ(chat_sent.load(), 0);
}

TEST_F(AnswerTest, OnlyTheNodeItselfMayAsk) {
  offer_query("handbook", Json::array({chunk(1, "Handbook", 1, "x")}));
  offer_chat({"x"});
  for (TrustLevel t : {TrustLevel::member, TrustLevel::anchor}) {
    auto r = ask("handbook", -1, t);
    ASSERT_FALSE(r.done);
    EXPECT_EQ(r.done.error().code, ErrorCode::unauthorized);
  }
  EXPECT_EQ(rag_answer_descriptor().trust_required, TrustLevel::self);
  EXPECT_FALSE(rag_answer_descriptor().has_response());
}

}  // namespace
}  // namespace hn::services::rag
