// rag_cli_test.cpp — the RAG commands of the CLI against real `hearthnet` processes
// (issue #15 §CLI, "Ask with sources"): node A has the tiny BERT embedder and the tiny llama
// chat model (tests/models); node B has neither and joins A's community. A generated PDF
// (tests/support/pdf_writer) holds a distinctive fact on page 3. The suite ingests it on A
// through `hearthnet rag ingest`, then: `rag list` on both nodes, `rag query` ranks page 3
// first, `hearthnet ask --corpus` streams an answer on A and on B (the corpus and the model
// live on A) and its sources name the document and page 3; the stream's frames come in
// order (tokens, sources, done); `--json` shapes; bad input (missing file, unsupported
// type, bad corpus name, unknown corpus, encrypted PDF, unknown model, no node) gives a clear
// error, a hint and the M12 §6 exit code.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/json.h"
#include "support/node_fixture.h"
#include "support/pdf_writer.h"
#include "support/test_node.h"

namespace hn {
namespace {

using test::NodeProcess;

const std::string BERT = std::string(HN_TEST_MODELS_DIR) + "/tiny-bert.gguf";
const std::string LLAMA = std::string(HN_TEST_MODELS_DIR) + "/tiny-llama.gguf";
const std::string TITLE = "Notfall-Handbuch";
const std::string CORPUS = "handbook";
// The question shares no word with pages 1, 2 and 4 (German), so lexical ranking picks page
// 3 whatever the random-weight embedder says (hybrid fusion keeps a lexical-only hit first).
const std::string QUESTION = "Which hook holds the Zwiebelturm pump key?";

std::vector<test::PdfPage> handbook_pages() {
  return {
      {"Notfall-Handbuch der Gemeinschaft", "Seite eins: Allgemeines zur Vorsorge.",
       "Bewahren Sie Wasser und Vorräte an einem kühlen Ort auf."},
      {"Trinkwasser", "Regenwasser muss vor dem Trinken gefiltert und abgekocht werden.",
       "Pro Person und Tag rechnet man mit zwei Litern."},
      {"Pump house", "The Zwiebelturm pump key hangs on the third hook, which holds nothing else.",
       "Return the key after use."},
      {"Strom", "Bei Stromausfall bleiben Kühlschränke geschlossen.", "Kerzen nur unter Aufsicht."},
  };
}

std::string peers_line(int port) {
  return std::string(test::NO_DISCOVERY) + "bootstrap_peers = [\"127.0.0.1:" + std::to_string(port) +
         "\"]\n";
}

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

Json json_of(const test::ProcessResult& r) { return parse_json(r.out).value_or(Json()); }

bool lists_corpus(const NodeProcess& n, const std::string& corpus) {
  auto r = n.cli({"rag", "list", "--json"});
  const Json j = json_of(r);
  if (r.exit_code != 0 || !j.is_array()) return false;
  for (const auto& c : j) {
    if (c.value("name", "") == corpus) return true;
  }
  return false;
}

class RagCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_dir = std::make_unique<test::TempDir>();
    s_pdf = s_dir->path() / "notfall-handbuch.pdf";
    ASSERT_TRUE(test::write_bytes(s_pdf, test::make_pdf(handbook_pages())));

    s_a = std::make_unique<NodeProcess>(test::NodeOptions{.name = "rag-a"});
    s_a->add_env("HEARTHNET_LLAMA_THREADS=1");
    s_a->add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=2");
    ASSERT_NO_FATAL_FAILURE(set_embedding_model(*s_a, BERT));
    std::ofstream(s_a->home() / "config.toml", std::ios::app)
        << "\n[[llm.backends]]\nname = \"llama_cpp\"\nurl = \"" << LLAMA
        << "\"\nmax_concurrent = 2\nctx = 2048\n";
    std::string error;
    ASSERT_TRUE(s_a->start(&error)) << error << s_a->output();

    s_ingest = s_a->cli({"rag", "ingest", s_pdf.string(), "--corpus", CORPUS, "--title", TITLE, "--json"}, 120);

    s_b = std::make_unique<NodeProcess>(
        test::NodeOptions{.name = "rag-b", .discovery = peers_line(s_a->port()), .found_community = false});
    s_b->add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=2");
    s_b->add_env("HEARTHNET_STATIC_PEER_INTERVAL_SECONDS=1");
    ASSERT_TRUE(test::join(*s_a, *s_b));
    ASSERT_TRUE(s_b->start(&error)) << error << s_b->output();
  }
  static void TearDownTestSuite() {
    s_b.reset();
    s_a.reset();
    s_dir.reset();
  }
  void SetUp() override {
    ASSERT_TRUE(s_a && s_a->running());
    ASSERT_TRUE(s_b && s_b->running());
  }

  static inline std::unique_ptr<test::TempDir> s_dir;
  static inline std::filesystem::path s_pdf;
  static inline std::unique_ptr<NodeProcess> s_a, s_b;
  static inline test::ProcessResult s_ingest;
};

TEST_F(RagCli, IngestsAPdfAndListsTheCorpusOnBothNodes) {
  ASSERT_EQ(s_ingest.exit_code, 0) << s_ingest.out << s_ingest.err;
  const Json in = json_of(s_ingest);
  const Json out = in.contains("output") ? in["output"] : in;
  EXPECT_EQ(in.value("corpus", ""), CORPUS) << s_ingest.out;
  EXPECT_GE(out.value("chunks_indexed", 0), 4) << s_ingest.out;  // a chunk a page at least
  EXPECT_TRUE(in["file"].value("cid", "").starts_with("blake3:")) << s_ingest.out;

  // The document is in A's blob store, pinned (the corpus cites it).
  const Json files = json_of(s_a->cli({"file", "ls", "--json"}));
  bool pinned = false;
  for (const auto& f : files) {
    if (f.value("cid", "") == in["file"].value("cid", "")) pinned = f.value("pinned", false);
  }
  EXPECT_TRUE(pinned) << files.dump();

  auto list = s_a->cli({"rag", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(CORPUS), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("local"), std::string::npos) << list.out;

  // B holds no corpus of its own; it lists A's.
  ASSERT_TRUE(test::eventually([] { return lists_corpus(*s_b, CORPUS); })) << s_b->cli({"rag", "list"}).out;
  const Json bl = json_of(s_b->cli({"rag", "list", "--json"}));
  for (const auto& c : bl) {
    if (c.value("name", "") != CORPUS) continue;
    EXPECT_EQ(c.value("docs", 0), 1) << c.dump();
    ASSERT_EQ(c["nodes"].size(), 1U) << c.dump();
    EXPECT_EQ(c["nodes"][0].value("node_id", ""), test::node_id_of(*s_a));
    EXPECT_EQ(c["nodes"][0].value("local", true), false);
  }

  // Ingesting the same file again embeds nothing new and still succeeds.
  auto again = s_a->cli({"rag", "ingest", s_pdf.string(), "--corpus", CORPUS, "--title", TITLE, "--json"}, 120);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  const Json al = json_of(s_a->cli({"rag", "list", "--json"}));
  for (const auto& c : al) {
    if (c.value("name", "") == CORPUS) {
      EXPECT_EQ(c.value("docs", 0), 1) << c.dump();
    }
  }
}

TEST_F(RagCli, QueryRanksTheFactsPageFirstFromEitherNode) {
  ASSERT_EQ(s_ingest.exit_code, 0) << s_ingest.err;
  auto q = s_a->cli({"rag", "query", "--corpus", CORPUS, "Zwiebelturm", "--k", "3", "--json"});
  ASSERT_EQ(q.exit_code, 0) << q.out << q.err;
  const Json j = json_of(q);
  const Json& chunks = j["output"]["chunks"];
  ASSERT_FALSE(chunks.empty()) << q.out;
  EXPECT_LE(chunks.size(), 3U);
  EXPECT_EQ(chunks[0]["rank"], 1);
  EXPECT_EQ(chunks[0]["metadata"]["page"], 3) << q.out;
  EXPECT_EQ(chunks[0]["metadata"]["doc_title"], TITLE);
  EXPECT_NE(chunks[0]["text"].get<std::string>().find("Zwiebelturm"), std::string::npos);
  EXPECT_EQ(j["meta"]["corpus"], CORPUS);

  auto text = s_a->cli({"rag", "query", "--corpus", CORPUS, "Zwiebelturm"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out.rfind("1. ", 0), 0U) << text.out;
  EXPECT_NE(text.out.find(TITLE + ", page 3"), std::string::npos) << text.out;

  ASSERT_TRUE(test::eventually([] { return lists_corpus(*s_b, CORPUS); }));
  auto qb = s_b->cli({"rag", "query", "--corpus", CORPUS, "Zwiebelturm", "--k", "3", "--json"});
  ASSERT_EQ(qb.exit_code, 0) << qb.out << qb.err;
  const Json jb = json_of(qb);
  ASSERT_EQ(jb["output"]["chunks"].size(), chunks.size());
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(jb["output"]["chunks"][i]["metadata"]["chunk_id"], chunks[i]["metadata"]["chunk_id"]);
  }
}

TEST_F(RagCli, AskStreamsTheAnswerThenItsSources) {
  ASSERT_EQ(s_ingest.exit_code, 0) << s_ingest.err;
  // The frames as they come: token frames, then one sources frame, then done.
  const Json body{{"input", {{"question", QUESTION}, {"corpus", CORPUS}, {"k", 2}, {"max_tokens", 8}, {"seed", 3}}}};
  auto s = s_a->cli({"call", "rag.answer@1.0", "--stream", "--node", "self", "--body", body.dump()}, 120);
  ASSERT_EQ(s.exit_code, 0) << s.out << s.err;
  std::vector<Json> frames;
  std::istringstream lines(s.out);
  for (std::string line; std::getline(lines, line);) {
    if (auto f = parse_json(line)) frames.push_back(*f);
  }
  ASSERT_GE(frames.size(), 3U) << s.out;
  std::size_t tokens = 0;
  while (tokens < frames.size() && frames[tokens]["event"] == "token") ++tokens;
  EXPECT_GE(tokens, 2U) << "the answer streams in pieces: " << s.out;
  ASSERT_EQ(frames.size(), tokens + 2) << s.out;
  EXPECT_EQ(frames[tokens]["event"], "sources");
  EXPECT_EQ(frames[tokens + 1]["event"], "done");
  const Json& sources = frames[tokens]["data"]["sources"];
  ASSERT_EQ(sources.size(), 2U) << s.out;
  EXPECT_EQ(sources[0]["n"], 1);
  EXPECT_EQ(sources[0]["doc_title"], TITLE);
  EXPECT_EQ(sources[0]["page"], 3) << s.out;
  EXPECT_TRUE(sources[0]["doc_cid"].get<std::string>().starts_with("blake3:"));
  EXPECT_EQ(frames[tokens + 1]["data"]["tokens_out"], 8);

  // The CLI: the answer, then the sources, on A and on B (corpus and model on A).
  for (const NodeProcess* n : {s_a.get(), s_b.get()}) {
    if (n == s_b.get()) {
      ASSERT_TRUE(test::eventually([] { return lists_corpus(*s_b, CORPUS); }));
    }
    auto r = n->cli({"ask", QUESTION, "--corpus", CORPUS, "--k", "2", "--max-tokens", "8"}, 120);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto at = r.out.find("\nSources:\n");
    ASSERT_NE(at, std::string::npos) << r.out;
    EXPECT_GT(at, 0U) << "the answer comes first: " << r.out;
    EXPECT_NE(r.out.find("[1] " + TITLE + ", page 3  (blake3:", at), std::string::npos) << r.out;
  }
}

TEST_F(RagCli, JsonShapes) {
  ASSERT_EQ(s_ingest.exit_code, 0) << s_ingest.err;
  const Json list = json_of(s_a->cli({"rag", "list", "--json"}));
  ASSERT_TRUE(list.is_array() && !list.empty()) << list.dump();
  for (const char* key : {"name", "docs", "chunks", "size_bytes", "nodes"}) {
    EXPECT_TRUE(list[0].contains(key)) << key << " " << list.dump();
  }
  auto ask = s_a->cli({"ask", QUESTION, "--corpus", CORPUS, "--k", "1", "--max-tokens", "4", "--json"}, 120);
  ASSERT_EQ(ask.exit_code, 0) << ask.out << ask.err;
  const Json a = json_of(ask);
  ASSERT_TRUE(a.is_object()) << ask.out;
  EXPECT_TRUE(a["text"].is_string());
  ASSERT_EQ(a["sources"].size(), 1U) << ask.out;
  for (const char* key : {"n", "doc_title", "page", "doc_cid", "chunk_id", "score"}) {
    EXPECT_TRUE(a["sources"][0].contains(key)) << key << " " << ask.out;
  }
  EXPECT_EQ(a["done"]["corpus"], CORPUS);
  EXPECT_EQ(a["done"]["tokens_out"], 4);
  EXPECT_TRUE(a["done"].contains("model"));
}

TEST_F(RagCli, BadInputGetsAClearErrorAndExitCode) {
  const auto dir = s_dir->path();
  auto missing = s_a->cli({"rag", "ingest", (dir / "nope.pdf").string(), "--corpus", CORPUS});
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
  EXPECT_NE(missing.err.find("not a readable file"), std::string::npos) << missing.err;

  ASSERT_TRUE(test::write_bytes(dir / "notes.docx", "PK\x03\x04 not a document RAG reads"));
  auto docx = s_a->cli({"rag", "ingest", (dir / "notes.docx").string(), "--corpus", CORPUS});
  EXPECT_EQ(docx.exit_code, 2) << docx.err;
  EXPECT_NE(docx.err.find("unsupported file type"), std::string::npos) << docx.err;

  auto name = s_a->cli({"rag", "ingest", s_pdf.string(), "--corpus", "Bad Name"});
  EXPECT_EQ(name.exit_code, 2) << name.err;
  EXPECT_NE(name.err.find("corpus name"), std::string::npos) << name.err;

  for (const auto& args : std::vector<std::vector<std::string>>{
           {"rag", "query", "--corpus", "no-such-corpus", "water"},
           {"ask", QUESTION, "--corpus", "no-such-corpus"}}) {
    auto r = s_a->cli(args, 60);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("not_found"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("hearthnet rag list"), std::string::npos) << r.err;
  }

  // No model of that name on the mesh: the hint says how to configure one.
  auto model = s_a->cli({"ask", QUESTION, "--corpus", CORPUS, "--model", "no-such-model"}, 60);
  EXPECT_NE(model.exit_code, 0) << model.out;
  EXPECT_NE(model.err.find("llm.backends"), std::string::npos) << model.err;

  // An encrypted PDF: the node refuses it (bad_request), the corpus is as it was.
  const std::string locked = test::encrypt_pdf(test::make_pdf(handbook_pages()));
  if (!locked.empty()) {
    ASSERT_TRUE(test::write_bytes(dir / "locked.pdf", locked));
    auto enc = s_a->cli({"rag", "ingest", (dir / "locked.pdf").string(), "--corpus", CORPUS}, 60);
    EXPECT_EQ(enc.exit_code, 1) << enc.out << enc.err;
    EXPECT_NE(enc.err.find("bad_request"), std::string::npos) << enc.err;
    const Json al = json_of(s_a->cli({"rag", "list", "--json"}));
    for (const auto& c : al) {
      if (c.value("name", "") == CORPUS) {
      EXPECT_EQ(c.value("docs", 0), 1) << c.dump();
    }
    }
  }

  // No node running: exit 3.
  NodeProcess idle(test::NodeOptions{.name = "rag-idle"});
  auto none = idle.cli({"rag", "list"});
  EXPECT_EQ(none.exit_code, 3) << none.err;
}

}  // namespace
}  // namespace hn
