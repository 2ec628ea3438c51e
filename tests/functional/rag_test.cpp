// rag_test.cpp — the RAG service in real `hearthnet` processes (issue #15, M05, CONTRACT
// §4.4–4.6): a generated multi-page PDF with a fact on a known page, put into the blob
// store and ingested through the bus (the tiny BERT GGUF embeds for real); the query for
// the fact names that page first; a second ingest embeds nothing (the node's own request
// counters); a second node of the community, which holds no corpus and no embedder, asks
// the corpus on the first and gets the same ranked chunks; encrypted and truncated PDFs are
// refused with nothing written; kill -9 during an ingest (and between the store's commit
// and the event) leaves the document whole or absent, and a retry completes it.
//
// Test hooks: HEARTHNET_RAG_KILL_AFTER_BATCHES / HEARTHNET_RAG_KILL_BEFORE_EVENT /
// HEARTHNET_RAG_BATCH_TEXTS (src/services/rag/ingest.h).
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

#include "core/json.h"
#include "support/node_fixture.h"
#include "support/pdf_writer.h"
#include "support/test_node.h"
#include "support/test_support.h"

namespace hn {
namespace {

using test::eventually;
using test::NodeProcess;

const std::string BERT = std::string(HN_TEST_MODELS_DIR) + "/tiny-bert.gguf";
constexpr int FACT_PAGE = 7;
const std::string FACT =
    "The spare key of the Zwieback pantry hangs behind the Quellwasser pump in the cellar.";

// Points a stopped node's [embedding] model at `model` (init wrote the default).
void set_embedding_model(const NodeProcess& n, const std::string& model) {
  const auto path = n.home() / "config.toml";
  std::string text = test::read_text(path);
  const std::string from = "\"BAAI/bge-small-en-v1.5\"";
  const auto at = text.find(from);
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, from.size(), "\"" + model + "\"");
  std::ofstream(path, std::ios::trunc) << text;
}

// `pages` pages of neighbourhood filler; FACT on FACT_PAGE.
std::string handbook_pdf(int pages) {
  std::vector<test::PdfPage> out;
  for (int p = 1; p <= pages; ++p) {
    test::PdfPage page;
    page.push_back("Neighbourhood handbook, page " + std::to_string(p));
    for (int i = 0; i < 8; ++i) {
      page.push_back("Keep water, blankets and candles ready for a long night without power " +
                     std::to_string(p * 10 + i) + ".");
      page.push_back("Ask the street's helpers where the shared supplies and the first aid kit are.");
    }
    if (p == FACT_PAGE) page.push_back(FACT);
    out.push_back(std::move(page));
  }
  return test::make_pdf(out);
}

// A counter's value for one label set in n's /metrics (0 when absent, -1 unreachable).
double metric(const NodeProcess& n, const std::string& name, const std::string& labels) {
  std::string text;
  if (test::https_get(n.port(), "/metrics", &text, 5000) != 200) return -1;
  const std::string key = name + "{" + labels + "} ";
  const auto at = text.find(key);
  if (at == std::string::npos) return 0;
  return std::stod(text.substr(at + key.size()));
}

double embed_calls(const NodeProcess& n) {
  return metric(n, "hearthnet_requests_total", "capability=\"embed.text\",result=\"ok\"");
}

std::string put(const NodeProcess& n, const std::filesystem::path& path) {
  auto r = n.cli({"file", "put", path.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return r.exit_code == 0 ? test::trim(r.out) : "";
}

test::ProcessResult call(const NodeProcess& n, const std::string& capability, const Json& body,
                         int timeout = 120) {
  return n.cli({"call", capability, "--body", body.dump(), "--timeout", std::to_string(timeout)},
               timeout + 30);
}

test::ProcessResult ingest(const NodeProcess& n, const std::string& corpus, const std::string& cid) {
  return call(n, "rag.ingest@1.0",
              Json{{"params", {{"corpus", corpus}}},
                   {"input", {{"doc_cid", cid}, {"title", "Handbook"}, {"language", "en"}}}});
}

Json query(const NodeProcess& n, const std::string& corpus, const std::string& text,
           std::string* err = nullptr) {
  auto r = call(n, "rag.query@1.0",
                Json{{"params", {{"corpus", corpus}}}, {"input", {{"query", text}, {"k", 5}}}}, 30);
  if (err) *err = r.out + r.err;
  auto j = parse_json(r.out);
  return r.exit_code == 0 && j ? *j : Json(nullptr);
}

Json corpora(const NodeProcess& n) {
  auto r = call(n, "rag.list_corpora@1.0", Json{{"input", Json::object()}}, 30);
  auto j = parse_json(r.out);
  return r.exit_code == 0 && j ? (*j)["output"]["corpora"] : Json(nullptr);
}

// The docs of `corpus` in n's listing, -1 when the corpus is absent.
int docs_in(const NodeProcess& n, const std::string& corpus) {
  const Json list = corpora(n);
  if (!list.is_array()) return -2;
  for (const auto& c : list) {
    if (c["name"] == corpus) return c["docs"].get<int>();
  }
  return -1;
}

bool lists_remote(const NodeProcess& n, const std::string& capability, const std::string& provider) {
  auto r = n.cli({"caps", "--remote-only", "--json", "--name", capability});
  auto j = parse_json(r.out);
  if (r.exit_code != 0 || !j || !j->is_array()) return false;
  for (const auto& e : *j) {
    if (e.value("node_id", "") == provider) return true;
  }
  return false;
}

class RagNode : public ::testing::Test {
 protected:
  // A founder whose [embedding] model is the tiny BERT.
  std::unique_ptr<NodeProcess> embedding_node(const std::string& name,
                                              const std::vector<std::string>& env = {}) {
    auto n = std::make_unique<NodeProcess>(test::NodeOptions{.name = name});
    n->add_env("HEARTHNET_LLAMA_THREADS=1");
    for (const auto& kv : env) n->add_env(kv);
    set_embedding_model(*n, BERT);
    return n;
  }
  std::filesystem::path write(const std::string& name, const std::string& bytes) {
    const auto path = m_dir.path() / name;
    EXPECT_TRUE(test::write_bytes(path, bytes));
    return path;
  }
  test::TempDir m_dir;
};

TEST_F(RagNode, TheFactsPageComesFirstEmbedsOnceAndASecondNodeGetsTheSameRanking) {
  std::string error;
  auto a = embedding_node("rag-a");
  ASSERT_TRUE(a->start(&error)) << error;
  const std::string cid = put(*a, write("handbook.pdf", handbook_pdf(12)));
  ASSERT_FALSE(cid.empty());

  auto first = ingest(*a, "handbook", cid);
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  auto fj = parse_json(first.out);
  ASSERT_TRUE(fj) << first.out;
  EXPECT_GE((*fj)["output"]["chunks_indexed"].get<int>(), 12);
  EXPECT_EQ((*fj)["meta"]["embedding_model"], "tiny-bert");
  const double calls = embed_calls(*a);
  EXPECT_GE(calls, 1);

  // Ingest twice, embed once.
  auto second = ingest(*a, "handbook", cid);
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  auto sj = parse_json(second.out);
  ASSERT_TRUE(sj) << second.out;
  EXPECT_EQ((*sj)["meta"]["duplicate"], true);
  EXPECT_EQ((*sj)["output"], (*fj)["output"]);
  EXPECT_EQ(embed_calls(*a), calls);

  std::string err;
  const Json here = query(*a, "handbook", "Zwieback pantry key Quellwasser pump", &err);
  ASSERT_TRUE(here.is_object()) << err;
  const Json& chunks = here["output"]["chunks"];
  ASSERT_FALSE(chunks.empty()) << here.dump();
  EXPECT_EQ(chunks[0]["metadata"]["page"], FACT_PAGE) << here.dump();
  EXPECT_EQ(chunks[0]["metadata"]["doc_cid"], cid);
  EXPECT_EQ(chunks[0]["metadata"]["doc_title"], "Handbook");
  EXPECT_NE(chunks[0]["text"].get<std::string>().find("Zwieback"), std::string::npos);
  EXPECT_EQ(here["meta"]["retrieval"], "hybrid");

  // B: no embedder, no corpus; the query routes to A by its params.corpus.
  auto b = std::make_unique<NodeProcess>(test::NodeOptions{
      .name = "rag-b",
      .discovery = std::string(test::NO_DISCOVERY) + "bootstrap_peers = [\"127.0.0.1:" +
                   std::to_string(a->port()) + "\"]\n",
      .found_community = false});
  b->add_env("HEARTHNET_STATIC_PEER_INTERVAL_SECONDS=1");
  ASSERT_TRUE(test::join(*a, *b));
  ASSERT_TRUE(b->start(&error)) << error;
  const std::string id_a = test::node_id_of(*a);
  ASSERT_TRUE(eventually([&] { return lists_remote(*b, "rag.query", id_a); }));
  const Json there = query(*b, "handbook", "Zwieback pantry key Quellwasser pump", &err);
  ASSERT_TRUE(there.is_object()) << err;
  ASSERT_EQ(there["output"]["chunks"].size(), chunks.size());
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(there["output"]["chunks"][i]["metadata"], chunks[i]["metadata"]) << i;
    EXPECT_EQ(there["output"]["chunks"][i]["rank"], chunks[i]["rank"]);
  }
  // A corpus nobody holds.
  EXPECT_TRUE(query(*b, "nowhere", "water", &err).is_null());
  EXPECT_NE(err.find("not_found"), std::string::npos) << err;

  // A second corpus made on A at run time reaches B without restarting either.
  ASSERT_EQ(ingest(*a, "allotment", cid).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return query(*b, "allotment", "Zwieback pantry").is_object(); }));
}

TEST_F(RagNode, EncryptedAndTruncatedPdfsAreRefusedWithNothingWritten) {
  std::string error;
  auto a = embedding_node("rag-bad");
  ASSERT_TRUE(a->start(&error)) << error;
  const std::string pdf = handbook_pdf(3);
  const std::string encrypted = test::encrypt_pdf(pdf);
  ASSERT_FALSE(encrypted.empty()) << "qpdf is needed to encrypt the test PDF";
  const std::string enc_cid = put(*a, write("locked.pdf", encrypted));
  const std::string cut_cid = put(*a, write("cut.pdf", test::truncate_pdf(pdf)));

  for (const auto& cid : {enc_cid, cut_cid}) {
    auto r = ingest(*a, "handbook", cid);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE((r.out + r.err).find("bad_request"), std::string::npos) << r.out << r.err;
  }
  EXPECT_EQ(docs_in(*a, "handbook"), -1);  // no corpus was created
  EXPECT_FALSE(std::filesystem::exists(a->home() / "rag" / "handbook"));

  // Into an existing corpus: it stays as it was.
  ASSERT_EQ(ingest(*a, "handbook", put(*a, write("good.pdf", pdf))).exit_code, 0);
  for (const auto& cid : {enc_cid, cut_cid}) EXPECT_NE(ingest(*a, "handbook", cid).exit_code, 0);
  EXPECT_EQ(docs_in(*a, "handbook"), 1);
}

TEST_F(RagNode, KillDuringIngestLeavesTheDocumentWholeOrAbsentAndARetryCompletesIt) {
  std::string error;
  // Many pages, four texts per embedding call: the node dies after the second call.
  auto a = embedding_node("rag-kill", {"HEARTHNET_RAG_BATCH_TEXTS=4",
                                       "HEARTHNET_RAG_KILL_AFTER_BATCHES=2"});
  ASSERT_TRUE(a->start(&error)) << error;
  const std::string cid = put(*a, write("long.pdf", handbook_pdf(60)));
  ASSERT_FALSE(cid.empty());
  auto killed = ingest(*a, "handbook", cid);
  EXPECT_NE(killed.exit_code, 0);
  EXPECT_EQ(a->stop(SIGTERM, 10), 128 + SIGKILL);  // it SIGKILLed itself mid-ingest

  a->remove_env("HEARTHNET_RAG_KILL_AFTER_BATCHES");
  ASSERT_TRUE(a->start(&error)) << error;
  const int after_kill = docs_in(*a, "handbook");
  EXPECT_TRUE(after_kill == -1 || after_kill == 0) << after_kill;  // not there, not half there
  auto retry = ingest(*a, "handbook", cid);
  ASSERT_EQ(retry.exit_code, 0) << retry.out << retry.err;
  auto rj = parse_json(retry.out);
  ASSERT_TRUE(rj);
  EXPECT_EQ((*rj)["meta"]["duplicate"], false);
  const int chunks = (*rj)["output"]["chunks_indexed"].get<int>();
  EXPECT_GE(chunks, 60);
  EXPECT_EQ(docs_in(*a, "handbook"), 1);
  const Json found = query(*a, "handbook", "Zwieback pantry key Quellwasser pump");
  ASSERT_TRUE(found.is_object());
  EXPECT_EQ(found["output"]["chunks"][0]["metadata"]["page"], FACT_PAGE);

  // Killed between the store's commit and the event: the document is whole, and the
  // event is appended at the next start (the retry finds both).
  ASSERT_EQ(a->stop(), 0);
  a->add_env("HEARTHNET_RAG_KILL_BEFORE_EVENT=1");
  ASSERT_TRUE(a->start(&error)) << error;
  const std::string other = put(*a, write("other.pdf", handbook_pdf(5)));
  EXPECT_NE(ingest(*a, "handbook", other).exit_code, 0);
  EXPECT_EQ(a->stop(SIGTERM, 10), 128 + SIGKILL);
  a->remove_env("HEARTHNET_RAG_KILL_BEFORE_EVENT");
  ASSERT_TRUE(a->start(&error)) << error;
  EXPECT_EQ(docs_in(*a, "handbook"), 2);
  auto again = ingest(*a, "handbook", other);
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  auto aj = parse_json(again.out);
  ASSERT_TRUE(aj);
  EXPECT_EQ((*aj)["meta"]["duplicate"], true);
  EXPECT_FALSE((*aj)["meta"]["ingest_event_id"].get<std::string>().empty());
  const std::string log = a->cli({"log", "--component", "rag.ingest"}).out;
  EXPECT_NE(log.find("appended after a restart"), std::string::npos) << log;
}

}  // namespace
}  // namespace hn
