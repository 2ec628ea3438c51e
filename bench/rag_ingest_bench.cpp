// rag_ingest_bench.cpp — RAG ingest throughput (issue #15 "Benchmarks"): pages/s of
// `rag.ingest@1.0` with embedding through the bus on a real `hearthnet run` node (the tiny
// BERT GGUF of tests/models in-process), against the embedder's own throughput on the same
// texts in the same run: `embed.text@1.0` called directly on the same node, with the same
// batches the pipeline sends. Target: ingest ≥ 90 % of the embedder (ingest bounded by the
// embedder, not by the pipeline: PDF text, chunking, token counting, SQLite, hnswlib, event).
//
// Both sides are signed loopback calls from this process to the node (LocalClient, trust
// self, as the CLI): one rag.ingest call per round on one side, one embed.text call per batch
// on the other. Each ingest round goes into a fresh corpus (an ingested document is never
// embedded twice in one corpus), and the texts of the baseline are read back from that
// corpus (a copy of its files, opened with CorpusStore), so both sides embed exactly the
// same strings. Rounds alternate the two sides; the best round of each counts (the machine
// is shared).
//
// Usage: hn_bench_rag_ingest [pages=200] [rounds=3] [threads=1] [batch=256, the pipeline's: EMBED_MAX_TEXTS] [work_dir]
// Prints one JSON line.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/json.h"
#include "node/home.h"
#include "node/local_client.h"
#include "services/rag/corpus_store.h"
#include "support/pdf_writer.h"
#include "support/test_node.h"
#include "support/test_support.h"

using namespace hn;
using Clk = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

const fs::path MODELS = HN_TEST_MODELS_DIR;
const Version V1{1, 0};

double secs_since(Clk::time_point t) { return std::chrono::duration<double>(Clk::now() - t).count(); }

// `pages` pages of deterministic prose, ~150 words each (one chunk a page, well inside the
// tiny BERT's 512-token context).
std::vector<test::PdfPage> make_pages(int pages) {
  static const char* words[] = {
      "water", "filter", "pump",   "cellar",  "boil",    "bucket", "rain",    "storage", "canister", "power",
      "candle", "battery", "radio", "neighbour", "meeting", "garden", "seed",  "harvest", "shelter", "blanket",
      "stove",  "wood",    "map",    "route",   "bridge",  "river", "flood",   "sandbag", "first",   "aid",
      "bandage", "medicine", "list", "contact", "phone",   "mesh",  "node",    "key",     "door",    "roof"};
  std::mt19937 rng(15);
  std::uniform_int_distribution<std::size_t> pick(0, std::size(words) - 1);
  std::vector<test::PdfPage> out;
  for (int p = 0; p < pages; ++p) {
    test::PdfPage page{"Page " + std::to_string(p + 1) + " of the bench handbook."};
    for (int line = 0; line < 15; ++line) {
      std::string s;
      for (int w = 0; w < 10; ++w) s += std::string(w ? " " : "") + words[pick(rng)];
      page.push_back(s + ".");
    }
    out.push_back(std::move(page));
  }
  return out;
}

// The corpus folder `name` under the node's home (wherever [rag] corpora_dir points).
fs::path find_corpus(const fs::path& home, const std::string& name) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(home, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec) break;
    if (it->path().filename() == "corpus.db" && it->path().parent_path().filename() == name) {
      return it->path().parent_path();
    }
  }
  return {};
}

// Every chunk text of a corpus, in (doc, ordinal) order, from a copy of its files.
std::vector<std::string> corpus_texts(const fs::path& corpus_dir, const fs::path& scratch) {
  const std::string name = corpus_dir.filename().string();
  fs::remove_all(scratch);
  fs::create_directories(scratch);
  fs::copy(corpus_dir, scratch / name, fs::copy_options::recursive);
  std::vector<std::string> texts;
  auto store = services::rag::CorpusStore::open(scratch, name);
  if (!store) return texts;
  std::int64_t after = 0;
  for (;;) {
    auto page = (*store)->chunks_after(after, 1000);
    if (!page || page->empty()) break;
    for (auto& c : *page) {
      after = c.id;
      texts.push_back(std::move(c.text));
    }
  }
  return texts;
}

}  // namespace

int main(int argc, char** argv) {
  const int pages = argc > 1 ? std::atoi(argv[1]) : 200;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 1;
  const std::size_t batch = argc > 4 ? static_cast<std::size_t>(std::atoi(argv[4])) : EMBED_MAX_TEXTS;
  const fs::path work = argc > 5 ? fs::path(argv[5]) : fs::path("/tmp/hn_bench_rag_ingest");
  fs::remove_all(work);
  fs::create_directories(work);
  const fs::path pdf = work / "handbook.pdf";
  if (!test::write_bytes(pdf, test::make_pdf(make_pages(pages)))) return std::cerr << "cannot write pdf\n", 1;

  test::NodeProcess a(test::NodeOptions{.name = "rag-bench"});
  a.add_env("HEARTHNET_LLAMA_THREADS=" + std::to_string(threads));
  {
    const auto cfg = a.home() / "config.toml";
    std::string text = test::read_text(cfg);
    const std::string from = "\"BAAI/bge-small-en-v1.5\"";
    const auto at = text.find(from);
    if (at == std::string::npos) return std::cerr << "no [embedding] model line\n", 1;
    text.replace(at, from.size(), "\"" + (MODELS / "tiny-bert.gguf").string() + "\"");
    test::write_bytes(cfg, text);
  }
  std::string error;
  if (!a.start(&error)) return std::cerr << error << a.output() << "\n", 1;
  auto put = a.cli({"file", "put", pdf.string(), "--pin"}, 600);
  if (put.exit_code != 0) return std::cerr << "file put: " << put.err << "\n", 1;
  const std::string cid = test::trim(put.out);

  auto home = node::open_home(std::nullopt, config::Env{{"HEARTHNET_HOME", a.home().string()}});
  if (!home) return std::cerr << home.error().to_string() << "\n", 1;
  auto client = node::LocalClient::connect(*home);
  if (!client) return std::cerr << client.error().to_string() << "\n", 1;
  auto& c = **client;

  double best_ingest = 1e300, best_embed = 1e300;
  std::int64_t chunks = 0;
  std::vector<std::string> texts;
  std::string embedding_model = "tiny-bert";
  for (int r = 0; r < rounds; ++r) {
    // Ingest: the whole pipeline, one call.
    const std::string corpus = "bench-" + std::to_string(r);
    const Json body{{"params", {{"corpus", corpus}}}, {"input", {{"doc_cid", cid}, {"title", "Bench handbook"}}}};
    auto t = Clk::now();
    auto ing = c.call("rag.ingest", V1, body, std::chrono::hours(1));
    const double s_ingest = secs_since(t);
    if (!ing) return std::cerr << "rag.ingest: " << ing.error().to_string() << "\n", 1;
    best_ingest = std::min(best_ingest, s_ingest);
    chunks = (*ing)["output"].value("chunks_indexed", std::int64_t{0});
    if (texts.empty()) {
      texts = corpus_texts(find_corpus(a.home(), corpus), work / "copy");
      if (static_cast<std::int64_t>(texts.size()) != chunks) {
        return std::cerr << "read " << texts.size() << " texts, ingest indexed " << chunks << "\n", 1;
      }
    }
    // Baseline: embed.text on the same node, the same texts in the same batches.
    t = Clk::now();
    for (std::size_t at = 0; at < texts.size(); at += batch) {
      Json part = Json::array();
      for (std::size_t k = at; k < std::min(texts.size(), at + batch); ++k) part.push_back(texts[k]);
      auto e = c.call("embed.text", V1, Json{{"params", {{"model", embedding_model}}}, {"input", {{"texts", part}}}},
                      std::chrono::minutes(10));
      if (!e) return std::cerr << "embed.text: " << e.error().to_string() << "\n", 1;
    }
    best_embed = std::min(best_embed, secs_since(t));
  }
  // Where the fastest ingest spent its time: the node's "document ingested" log line (ms from
  // the call's start: blob loaded, chunked and embedded (overlapped), a new corpus opened,
  // stored; the rest is the event).
  Json phases;
  for (auto it = fs::recursive_directory_iterator(a.home(), fs::directory_options::skip_permission_denied);
       it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_regular_file() || it->path().string().find("log") == std::string::npos) continue;
    std::istringstream lines(test::read_text(it->path()));
    for (std::string line; std::getline(lines, line);) {
      if (line.find("document ingested") == std::string::npos) continue;
      auto j = parse_json(line);
      if (!j || !j->is_object()) continue;
      const Json fields = j->contains("fields") ? (*j)["fields"] : *j;
      if (!fields.contains("ms") || !fields.contains("embedded_ms")) continue;
      if (phases.is_null() || fields["ms"].get<std::int64_t>() < phases["ms"].get<std::int64_t>())
        phases = Json{{"ms", fields["ms"]},
                      {"loaded_ms", fields.value("loaded_ms", Json())},
                      {"embedded_ms", fields.value("embedded_ms", Json())},
                      {"opened_ms", fields.value("opened_ms", Json())},
                      {"stored_ms", fields.value("stored_ms", Json())}};
    }
  }
  const double ingest_pages_s = pages / best_ingest;
  const double embed_pages_s = pages / best_embed;
  Json out{{"bench", "rag_ingest"},
           {"pages", pages},
           {"chunks", chunks},
           {"rounds", rounds},
           {"threads", threads},
           {"batch", batch},
           {"ingest_s", best_ingest},
           {"ingest_pages_s", ingest_pages_s},
           {"ingest_chunks_s", static_cast<double>(chunks) / best_ingest},
           {"embed_s", best_embed},
           {"embed_pages_s", embed_pages_s},
           {"embed_texts_s", static_cast<double>(texts.size()) / best_embed},
           {"ratio", ingest_pages_s / embed_pages_s},
           {"target", 0.9},
           {"ingest_phases_ms", phases}};
  std::cout << out.dump() << std::endl;
  return 0;
}
