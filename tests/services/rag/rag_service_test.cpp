// rag_service_test.cpp — the RAG service as the node runs it: under a real ServiceHost and
// bus, beside the real embed service on the tiny BERT GGUF (tests/models), over a real
// SQLite event log, blob store and corpus stores in a temporary folder. Ingest → query
// (the contract's shape, hybrid), idempotent ingest (embed.text called once, one event),
// the corpus offered at run time (and personal never), the handlers' errors leaving no
// corpus behind, lexical retrieval without an embedder, reindex (asked, and at start when
// [rag] embedding_model changed), the event of a document stored before a crash appended
// at the next start exactly once, and rag.ingest_stream's frames. BusEmbedder's batches
// against a recording embed.text provider.
#include "services/rag/rag_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "blobs/store.h"
#include "bus/schema.h"
#include "events/event_log.h"
#include "events/replay.h"
#include "service/host.h"
#include "services/embed/embed_service.h"
#include "support/test_support.h"

namespace hn::services::rag {
namespace {

const int ONE_THREAD = ::setenv("HEARTHNET_LLAMA_THREADS", "1", 1);
const std::string BERT = std::string(HN_TEST_MODELS_DIR) + "/tiny-bert.gguf";
const Version V10{1, 0};

class NoPublisher final : public service::Publisher {
 public:
  void publish(const std::string&, const Json&) override {}
};

// A handbook of paragraphs; one carries a fact no other paragraph shares a word with.
std::string handbook() {
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += "Section " + std::to_string(i) +
            ". The neighbourhood keeps water, blankets and candles for a long winter night. "
            "Ask your street's helpers where the shared supplies are stored.\n\n";
    if (i == 23) {
      text += "The rainwater cistern behind the Kirchstrasse bakery holds 4000 litres; "
              "boil it for three minutes before drinking.\n\n";
    }
  }
  return text;
}

struct RagOnBus : ::testing::Test {
  ManualClock clock{1'780'000'000'000};
  test::TempDir dir;
  identity::KeyPair keys = identity::KeyPair::generate();
  CommunityId community{keys.node_id().str()};
  bus::CapabilityBus bus{keys.node_id(), bus::BusConfig{}, clock};
  std::unique_ptr<events::EventLog> log =
      events::EventLog::open(dir / "events.db", community, keys,
                             events::EventLogOptions{.clock = &clock})
          .value();
  events::ReplayEngine replay{*log};
  std::unique_ptr<blobs::BlobStore> blobs = blobs::BlobStore::open(dir / "blobs").value();
  NoPublisher publisher;
  config::Config config;
  std::unique_ptr<service::ServiceHost> host;

  void start(bool with_embedder = true, const std::string& rag_model = "") {
    config.embedding.model = with_embedder ? BERT : "/nonexistent/model.gguf";
    config.rag.corpora_dir = dir / "corpora";
    config.rag.embedding_model = rag_model;
    host = std::make_unique<service::ServiceHost>(bus);
    service::ServiceContext ctx{keys,      keys.node_id(),
                                community, *log,
                                replay,    *blobs,
                                bus,       publisher,
                                config,    [] { return std::optional<identity::CommunityManifest>(); },
                                clock,     {}};
    const std::vector<service::ServiceFactory> list = {{"embed", embed::make_service},
                                                       {"rag", make_service}};
    ASSERT_TRUE(host->start_all(list, ctx, dir / "services"));
  }
  void stop() {
    if (host) host->stop_all();
    host.reset();
  }
  void TearDown() override { stop(); }

  std::string put(const std::string& bytes, const std::string& name, const std::string& type) {
    auto m = blobs->put_bytes(
        std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
        blobs::PutOptions{type, name});
    EXPECT_TRUE(m) << m.error().to_string();
    return m ? m->cid : "";
  }
  Result<Json> ingest(const std::string& corpus, const std::string& cid, bus::CallOptions o = {}) {
    return bus.call(RAG_INGEST, V10,
                    Json{{"params", {{"corpus", corpus}}},
                         {"input", {{"doc_cid", cid}, {"language", "en"}}}},
                    o);
  }
  Result<Json> query(const std::string& corpus, const std::string& text, Json extra = Json::object(),
                     bus::CallOptions o = {}) {
    Json input{{"query", text}};
    input.update(extra);
    return bus.call(RAG_QUERY, V10, Json{{"params", {{"corpus", corpus}}}, {"input", input}}, o);
  }
  std::int64_t embed_calls() {
    const Json s = bus.stats()["capabilities"];
    return s.contains("embed.text") ? s["embed.text"]["started"].get<std::int64_t>() : 0;
  }
  int ingested_events() {
    events::ReplayOptions o;
    o.types = {events::EventType::rag_document_ingested};
    return static_cast<int>(log->read_events(o).value().size());
  }
  Json offered_query_params() {
    for (const auto& e : bus.registry().all_local()) {
      if (e.descriptor.name == RAG_QUERY) return e.descriptor.params.get();
    }
    return nullptr;
  }
  static bus::CallOptions as_member() {
    bus::CallOptions o;
    o.caller_trust = TrustLevel::member;
    o.caller = NodeId("ed25519:a-member");
    return o;
  }
};

TEST_F(RagOnBus, IngestThenQueryPutsTheFactFirstInTheContractsShape) {
  start();
  const auto cid = put(handbook(), "handbook.txt", "text/plain");
  auto r = ingest("handbook", cid);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)["output"]["doc_cid"], cid);
  EXPECT_GT((*r)["output"]["chunks_indexed"].get<int>(), 1);
  EXPECT_GT((*r)["output"]["tokens_indexed"].get<int>(), 100);
  EXPECT_EQ((*r)["meta"]["corpus"], "handbook");
  EXPECT_EQ((*r)["meta"]["embedding_model"], "tiny-bert");
  EXPECT_EQ((*r)["meta"]["title"], "handbook.txt");  // the blob's name when none is given
  EXPECT_FALSE((*r)["meta"]["ingest_event_id"].get<std::string>().empty());
  EXPECT_TRUE(bus::SchemaValidator().validate_response(rag_ingest_descriptor(), *r));

  auto q = query("handbook", "Kirchstrasse bakery cistern", {{"k", 3}});
  ASSERT_TRUE(q) << q.error().to_string();
  const Json& chunks = (*q)["output"]["chunks"];
  ASSERT_FALSE(chunks.empty());
  EXPECT_LE(chunks.size(), 3u);
  EXPECT_EQ(chunks[0]["rank"], 1);
  EXPECT_NE(chunks[0]["text"].get<std::string>().find("Kirchstrasse"), std::string::npos);
  EXPECT_EQ(chunks[0]["metadata"]["doc_cid"], cid);
  EXPECT_EQ(chunks[0]["metadata"]["doc_title"], "handbook.txt");
  EXPECT_TRUE(chunks[0]["metadata"].contains("page"));
  EXPECT_TRUE(chunks[0]["metadata"].contains("chunk_id"));
  EXPECT_EQ((*q)["meta"]["corpus"], "handbook");
  EXPECT_EQ((*q)["meta"]["embedding_model"], "tiny-bert");
  EXPECT_EQ((*q)["meta"]["retrieval"], "hybrid");
  auto d = rag_query_descriptor();
  EXPECT_TRUE(bus::SchemaValidator().validate_response(d, *q));
  // include_text false leaves the text out.
  auto bare = query("handbook", "Kirchstrasse", {{"include_text", false}});
  ASSERT_TRUE(bare) << bare.error().to_string();
  EXPECT_EQ((*bare)["output"]["chunks"][0]["text"], "");
}

TEST_F(RagOnBus, IngestingTheSameDocumentTwiceEmbedsOnceAndAppendsOneEvent) {
  start();
  const auto cid = put(handbook(), "handbook.txt", "text/plain");
  auto first = ingest("handbook", cid);
  ASSERT_TRUE(first) << first.error().to_string();
  const auto calls = embed_calls();
  EXPECT_GE(calls, 1);
  auto second = ingest("handbook", cid);
  ASSERT_TRUE(second) << second.error().to_string();
  EXPECT_EQ(embed_calls(), calls);  // nothing embedded again
  EXPECT_EQ((*second)["meta"]["duplicate"], true);
  EXPECT_EQ((*second)["output"], (*first)["output"]);
  EXPECT_EQ((*second)["meta"]["ingest_event_id"], (*first)["meta"]["ingest_event_id"]);
  EXPECT_EQ(ingested_events(), 1);
  // The event carries the contract's fields (CONTRACT §7.2).
  events::ReplayOptions o;
  o.types = {events::EventType::rag_document_ingested};
  const auto e = log->read_events(o).value().front();
  EXPECT_EQ(e.data["corpus"], "handbook");
  EXPECT_EQ(e.data["doc_cid"], cid);
  EXPECT_EQ(e.data["title"], "handbook.txt");
  EXPECT_EQ(e.data["language"], "en");
  EXPECT_EQ(e.data["chunks"], (*first)["output"]["chunks_indexed"]);
  // Still a no-op after a restart.
  stop();
  start();
  const auto before = embed_calls();
  auto third = ingest("handbook", cid);
  ASSERT_TRUE(third) << third.error().to_string();
  EXPECT_EQ(embed_calls(), before);
  EXPECT_EQ(ingested_events(), 1);
}

TEST_F(RagOnBus, ACorpusMadeByAnIngestIsOfferedAtRunTimeButPersonalNever) {
  start();
  EXPECT_TRUE(offered_query_params().is_null());  // no corpus yet: no rag.query here
  const auto cid = put(handbook(), "handbook.txt", "text/plain");
  ASSERT_TRUE(ingest("personal", cid));
  // personal alone: offered for this node's own calls, with no corpus in its params.
  EXPECT_EQ(offered_query_params()["corpora"], Json::array());
  EXPECT_FALSE(offered_query_params().contains("corpus"));
  ASSERT_TRUE(ingest("handbook", cid));
  Json p = offered_query_params();
  ASSERT_TRUE(p.is_object());
  EXPECT_EQ(p["corpora"], Json::array({"handbook"}));
  EXPECT_EQ(p["corpus"], "handbook");
  EXPECT_EQ(p["embedding_model"], "tiny-bert");
  EXPECT_EQ(p["k_max"], RAG_MAX_K);
  ASSERT_TRUE(ingest("allotment", cid));
  p = offered_query_params();
  EXPECT_EQ(p["corpora"], Json::array({"allotment", "handbook"}));
  // Registered on the host: listed in its health with the service.
  const Json caps = host->health()["rag"]["capabilities"];
  EXPECT_NE(std::find(caps.begin(), caps.end(), Json("rag.query@1.0")), caps.end()) << caps;
  // The predicate: a corpus this node holds, nothing else.
  EXPECT_TRUE(query_params_compatible(p, Json{{"corpus", "allotment"}}));
  EXPECT_FALSE(query_params_compatible(p, Json{{"corpus", "personal"}}));
  EXPECT_FALSE(query_params_compatible(p, Json::object()));

  // personal answers the node itself, and nobody else.
  EXPECT_TRUE(query("personal", "Kirchstrasse"));
  bus::CallOptions member = as_member();
  member.target_node = keys.node_id();
  auto refused = query("personal", "Kirchstrasse", Json::object(), member);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::not_found);
  auto listed = bus.call(RAG_LIST_CORPORA, V10, Json{{"params", Json::object()}, {"input", Json::object()}}, as_member());
  ASSERT_TRUE(listed) << listed.error().to_string();
  Json names = Json::array();
  for (const auto& c : (*listed)["output"]["corpora"]) names.push_back(c["name"]);
  EXPECT_EQ(names, Json::array({"allotment", "handbook"}));
  auto mine = bus.call(RAG_LIST_CORPORA, V10, Json{{"input", Json::object()}});
  ASSERT_TRUE(mine);
  EXPECT_EQ((*mine)["output"]["corpora"].size(), 3u);
  EXPECT_EQ((*mine)["output"]["corpora"][0]["docs"], 1);
  EXPECT_EQ((*mine)["output"]["corpora"][0]["language_majority"], "en");

  // Offered again after a restart, from what is on disk.
  stop();
  start();
  EXPECT_EQ(offered_query_params()["corpora"], Json::array({"allotment", "handbook"}));
}

TEST_F(RagOnBus, BadRequestsAreTypedAndLeaveNoCorpusBehind) {
  start();
  const auto text = put(handbook(), "handbook.txt", "text/plain");
  ASSERT_TRUE(ingest("handbook", text));
  auto code = [](const Result<Json>& r) { return r ? std::string("ok") : std::string(to_string(r.error().code)); };

  EXPECT_EQ(code(query("nowhere", "water")), "not_found");  // M05 §6: unknown corpus
  EXPECT_EQ(code(query("handbook", "water", {{"k", 21}})), "bad_request");  // k > RAG_MAX_K
  EXPECT_EQ(code(query("handbook", "water", {{"k", 0}})), "bad_request");
  EXPECT_EQ(code(query("handbook", "")), "bad_request");
  // A wrong type is the request schema's (architecture.md "Versions and schemas").
  EXPECT_EQ(code(query("handbook", "water", {{"filter", "x"}})), "schema_mismatch");
  EXPECT_EQ(code(query("handbook", "water", {{"k", 20}})), "ok");

  EXPECT_EQ(code(ingest("Bad Name", text)), "bad_request");
  EXPECT_EQ(code(ingest("system", text)), "bad_request");  // read-only (M05 §4.2)
  EXPECT_EQ(code(ingest("fresh", "blake3:1234")), "bad_request");
  // Not in the store, and no file service to fetch it: not resolvable.
  EXPECT_EQ(code(ingest("fresh", "blake3:" + std::string(64, 'a'))), "not_found");
  // An image: unsupported media type.
  const auto png = put(std::string("\x89PNG\r\n\x1a\n", 8) + std::string(100, 'x'), "map.png", "image/png");
  EXPECT_EQ(code(ingest("fresh", png)), "bad_request");
  // Invalid UTF-8 in a text file.
  const auto broken = put("Wasser \xff\xfe kaputt", "broken.txt", "text/plain");
  EXPECT_EQ(code(ingest("fresh", broken)), "bad_request");
  EXPECT_EQ(code(ingest("handbook", broken)), "bad_request");
  // Ingest needs a trusted caller (CONTRACT §4.5).
  EXPECT_EQ(code(ingest("handbook", text, as_member())), "unauthorized");

  EXPECT_FALSE(std::filesystem::exists(dir / "corpora" / "fresh"));  // never created
  auto listed = bus.call(RAG_LIST_CORPORA, V10, Json{{"input", Json::object()}});
  ASSERT_TRUE(listed);
  ASSERT_EQ((*listed)["output"]["corpora"].size(), 1u);
  EXPECT_EQ((*listed)["output"]["corpora"][0]["docs"], 1);  // unchanged
}

TEST_F(RagOnBus, WithoutAnEmbedderIngestAndQueryAreLexicalAndSaySo) {
  start(/*with_embedder=*/false);
  const auto cid = put(handbook(), "handbook.txt", "text/plain");
  auto r = ingest("handbook", cid);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)["meta"]["embedding_model"], "");
  auto q = query("handbook", "Kirchstrasse bakery");
  ASSERT_TRUE(q) << q.error().to_string();
  EXPECT_EQ((*q)["meta"]["retrieval"], "lexical");
  EXPECT_TRUE((*q)["meta"].contains("lexical_reason"));
  EXPECT_NE((*q)["output"]["chunks"][0]["text"].get<std::string>().find("Kirchstrasse"), std::string::npos);
}

TEST_F(RagOnBus, ReindexReEmbedsEveryChunkWhenAskedAndAtStartWhenTheModelChanged) {
  // A corpus stored lexically (no embedder), then [rag] embedding_model names the tiny BERT:
  // the next start re-embeds it in the background.
  start(/*with_embedder=*/false);
  const auto cid = put(handbook(), "handbook.txt", "text/plain");
  auto r = ingest("handbook", cid);
  ASSERT_TRUE(r) << r.error().to_string();
  const int chunks = (*r)["output"]["chunks_indexed"].get<int>();
  stop();
  start(/*with_embedder=*/true, "tiny-bert");
  auto model_now = [&] {
    auto l = bus.call(RAG_LIST_CORPORA, V10, Json{{"input", Json::object()}});
    return l ? (*l)["output"]["corpora"][0]["embedding_model"].get<std::string>() : std::string();
  };
  ASSERT_TRUE(test::eventually([&] { return model_now() == "tiny-bert"; }));
  ASSERT_TRUE(test::eventually([&] { return offered_query_params()["embedding_model"] == "tiny-bert"; }));
  auto q = query("handbook", "Kirchstrasse bakery");
  ASSERT_TRUE(q) << q.error().to_string();
  EXPECT_EQ((*q)["meta"]["retrieval"], "hybrid");
  EXPECT_NE((*q)["output"]["chunks"][0]["text"].get<std::string>().find("Kirchstrasse"), std::string::npos);

  // Asked: every chunk once more, in batches of at most 256.
  const auto before = embed_calls();
  auto again = bus.call(RAG_REINDEX, V10, Json{{"input", {{"corpus", "handbook"}}}});
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ((*again)["output"]["chunks"], chunks);
  EXPECT_EQ((*again)["output"]["embedding_model"], "tiny-bert");
  EXPECT_EQ((*again)["output"]["dim"], 64);
  EXPECT_EQ(embed_calls() - before, (chunks + 255) / 256);
  auto unknown = bus.call(RAG_REINDEX, V10, Json{{"input", {{"corpus", "nowhere"}}}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::not_found);
  auto no_model = bus.call(RAG_REINDEX, V10,
                           Json{{"input", {{"corpus", "handbook"}, {"embedding_model", "bge-m3"}}}});
  ASSERT_FALSE(no_model);
  EXPECT_EQ(no_model.error().code, ErrorCode::partition);
  // Local-only.
  auto remote = bus.call(RAG_REINDEX, V10, Json{{"input", {{"corpus", "handbook"}}}}, as_member());
  ASSERT_FALSE(remote);
  EXPECT_EQ(remote.error().code, ErrorCode::unauthorized);
}

TEST_F(RagOnBus, ADocumentStoredBeforeACrashGetsItsEventAtTheNextStartOnce) {
  // What a kill -9 between the store's commit and the append leaves: the document, no event.
  {
    auto store = CorpusStore::open(dir / "corpora", "handbook").value();
    DocumentInfo doc;
    doc.doc_cid = "blake3:" + std::string(64, 'b');
    doc.title = "Notfallplan";
    doc.language = "de";
    doc.media_type = "text/plain";
    std::vector<Chunk> chunks{{"Wasser abkochen.", 0, 0, 3}};
    ASSERT_TRUE(store->add_document(doc, chunks, {}, ""));
  }
  start();
  EXPECT_EQ(ingested_events(), 1);
  stop();
  start();
  EXPECT_EQ(ingested_events(), 1);  // the ledger knows it
  stop();
  std::filesystem::remove(dir / "services" / "rag" / "announced.json");
  start();
  EXPECT_EQ(ingested_events(), 1);  // the log knows it: no twin
}

TEST_F(RagOnBus, IngestStreamSendsProgressThenTheIngestAnswer) {
  start();
  const auto cid = put(handbook(), "handbook.txt", "text/plain");
  std::vector<bus::StreamFrame> frames;
  auto done = bus.stream(RAG_INGEST_STREAM, V10,
                         Json{{"params", {{"corpus", "handbook"}}}, {"input", {{"doc_cid", cid}}}},
                         [&](bus::StreamFrame f) -> Status {
                           frames.push_back(std::move(f));
                           return {};
                         });
  ASSERT_TRUE(done) << done.error().to_string();
  ASSERT_GE(frames.size(), 2u);
  for (const auto& f : frames) {
    EXPECT_EQ(f.event, "progress");
    for (const char* key : {"pages_done", "pages_total", "chunks_done", "chunks_total"}) {
      EXPECT_TRUE(f.data.contains(key)) << key;
    }
  }
  const Json& last = frames.back().data;
  EXPECT_EQ(last["pages_done"], last["pages_total"]);
  EXPECT_EQ(last["chunks_done"], last["chunks_total"]);
  EXPECT_EQ((*done)["output"]["chunks_indexed"], last["chunks_total"]);
  EXPECT_TRUE(bus::SchemaValidator().validate_response(rag_ingest_descriptor(), *done));
  // Local-only: a peer cannot watch it.
  bus::CallOptions member = as_member();
  auto refused = bus.stream(RAG_INGEST_STREAM, V10,
                            Json{{"params", {{"corpus", "handbook"}}}, {"input", {{"doc_cid", cid}}}},
                            [](bus::StreamFrame) -> Status { return {}; }, member);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::unauthorized);
}

// BusEmbedder against a recording embed.text provider: batches of at most 256 texts, one
// vector per text in order.
TEST(BusEmbedder, EmbedsInBatchesOfAtMost256) {
  ManualClock clock;
  const NodeId self("ed25519:self");
  bus::CapabilityBus bus{self, bus::BusConfig{}, clock};
  std::vector<std::size_t> sizes;
  bus::LocalCapability cap;
  cap.descriptor = embed::embed_text_descriptor("rec", 2);
  cap.handler = [&](const bus::CallContext&, const Json& body) -> Result<Json> {
    const Json& texts = body["input"]["texts"];
    sizes.push_back(texts.size());
    Json out = Json::array();
    for (const auto& t : texts) out.push_back(Json::array({static_cast<double>(t.get<std::string>().size()), 1.0}));
    return Json{{"output", {{"embeddings", out}, {"dim", 2}}}, {"meta", {{"model", "rec"}, {"ms", 0}}}};
  };
  ASSERT_TRUE(bus.register_capability(cap));
  BusEmbedder e(bus, "");
  EXPECT_EQ(e.choose_model(""), "rec");
  EXPECT_EQ(e.choose_model("corpus-model"), "corpus-model");
  EXPECT_TRUE(e.offered("rec"));
  EXPECT_FALSE(e.offered("other"));
  std::vector<std::string> texts;
  for (int i = 0; i < 600; ++i) texts.push_back(std::string(static_cast<std::size_t>(i % 7 + 1), 'x'));
  std::vector<std::size_t> progress;
  auto v = e.embed("rec", texts, bus::CancelToken(), [&](std::size_t done) -> Status {
    progress.push_back(done);
    return {};
  });
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_EQ(sizes, (std::vector<std::size_t>{256, 256, 88}));
  EXPECT_EQ(progress, (std::vector<std::size_t>{256, 512, 600}));
  ASSERT_EQ(v->size(), 600u);
  EXPECT_EQ((*v)[13][0], 7.0f);  // in order
  EXPECT_FALSE(e.tokenizer("rec"));  // no embed.tokenize here: the chunker approximates
  BusEmbedder configured(bus, "bge-m3");
  EXPECT_EQ(configured.choose_model("rec"), "bge-m3");
}

}  // namespace
}  // namespace hn::services::rag
