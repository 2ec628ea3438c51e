// rag_query_bench.cpp — CorpusStore::query latency at N chunks (issue #15: rag.query p95
// ≤ 20 ms at 100k chunks), hybrid (BM25 + hnswlib cosine, RRF) and lexical alone, k = 5.
// Baseline in the same run over the same vectors: brute-force exact cosine top-5 (every
// vector scored), which also gives recall@5 of the hnsw ranking (the store queried with a
// vector and no text) against the exact one.
//
// Data: documents of 100 chunks; each chunk 100 words drawn from a 20,000-word vocabulary
// with a Zipf(1.0) law (so common words match most chunks, as in prose), dim 384 random unit
// vectors. Queries: 4 words drawn the same way; the query vector is a chunk's vector plus an
// equal-norm random vector (a question resembles its passage; cosine ≈ 0.7 to it).
//
// The generated corpus is kept between runs in a cache folder keyed by its parameters
// (<cache>/c<N>-d384-…/): the data are regenerated from the same seed (cheap), and the
// store is filled only when the folder lacks its `complete` mark (100k chunks take minutes
// of hnsw insertion). "fill_s" is the fill's time (measured when it was made; "cached" says
// whether this run reused it), "open_s" this run's CorpusStore::open of the filled corpus
// (the vector index file's load; the lexical index loaded from lexical.idx or rebuilt from
// the chunks: "lexical_loaded", "lexical_s", "lexical_mib"). After the queries the corpus is
// opened twice more, in the same run: once with lexical.idx removed (the lexical index rebuilt
// by tokenising every chunk, then saved: "open_rebuild_s", "lexical_rebuild_s"), once with
// the file just saved ("open_load_s", "lexical_load_s") — the load against the rebuild it
// replaces ("lexical_load_vs_rebuild").
//
// After the store's figures, an ef sweep over the same index file (VectorIndex loaded
// directly, searched for the store's 50 candidates): per ef, p50/p95 and recall@1 against
// the exact top-1 — what HNSW_EF_SEARCH buys.
//
// Prints one JSON line per N: {"bench":"rag_query","chunks":N,"cached":…,"fill_s":…,
// "open_s":…,"lexical_loaded":…,"lexical_s":…,"open_rebuild_s":…,"lexical_rebuild_s":…,
// "open_load_s":…,"lexical_load_s":…,"lexical_load_vs_rebuild":…,"hybrid_p50_ms":…,"hybrid_p95_ms":…,"lexical_p50_ms":…,"lexical_p95_ms":…,
// "dense_p50_ms":…,"dense_p95_ms":…,"exact_p50_ms":…,"exact_p95_ms":…,
// "hybrid_vs_exact_p95":…,"recall_at_1":…,"recall_at_5":…,"ef_sweep":[…]} (recall of the
// store's dense top-5 against the exact top-5; @1: the exact best is the store's first)
//
// Usage: hn_bench_rag_query [chunk counts, comma-separated (default 10000,100000)]
//                           [queries per kind (default 300)]
//                           [cache dir (default /tmp/hn_rag_bench_cache)] [fresh: refill]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "core/hash.h"
#include "services/rag/corpus_store.h"
#include "services/rag/vector_index.h"

namespace {

using namespace hn;
using namespace hn::services::rag;
using SteadyClock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr int DIM = 384;
constexpr int CHUNKS_PER_DOC = 100;
constexpr int WORDS_PER_CHUNK = 100;
constexpr std::size_t VOCAB = 20000;
constexpr int K = 5;

std::string word(std::size_t i) {
  static const char* syllables[] = {"ka", "ni", "ster", "was", "ser", "rad", "lei", "ter", "bo", "hr",
                                    "ma", "schi", "ne", "gar", "ten", "zelt", "topf", "holz", "tisch", "lam"};
  std::string w = syllables[i % 20];
  w += syllables[(i / 20) % 20];
  w += syllables[(i / 400) % 20];
  if (i >= 8000) w += syllables[(i / 8000) % 20];
  return w;
}

// Zipf(1.0) over VOCAB ranks by inverse CDF on a precomputed table.
class Zipf {
 public:
  Zipf() {
    m_cdf.resize(VOCAB);
    double sum = 0;
    for (std::size_t i = 0; i < VOCAB; ++i) m_cdf[i] = (sum += 1.0 / static_cast<double>(i + 1));
    for (auto& c : m_cdf) c /= sum;
  }
  std::size_t operator()(std::mt19937_64& rng) {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return static_cast<std::size_t>(std::lower_bound(m_cdf.begin(), m_cdf.end(), u) - m_cdf.begin());
  }

 private:
  std::vector<double> m_cdf;
};

std::vector<float> random_unit(std::mt19937_64& rng) {
  std::normal_distribution<float> n(0, 1);
  std::vector<float> v(DIM);
  double s = 0;
  for (auto& x : v) {
    x = n(rng);
    s += static_cast<double>(x) * x;
  }
  for (auto& x : v) x = static_cast<float>(x / std::sqrt(s));
  return v;
}

struct Stats {
  double p50 = 0, p95 = 0;
};

Stats stats(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return Stats{ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 95 / 100)]};
}

template <typename F>
Stats measure(int n, F&& f) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const auto t0 = SteadyClock::now();
    f(i);
    ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
  }
  return stats(std::move(ms));
}

// Exact top-k by cosine over unit vectors (the baseline).
std::vector<std::size_t> exact_top(const std::vector<std::vector<float>>& all, const std::vector<float>& q, int k) {
  std::vector<std::pair<float, std::size_t>> scored(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    float dot = 0;
    const float* a = all[i].data();
    for (int d = 0; d < DIM; ++d) dot += a[d] * q[static_cast<std::size_t>(d)];
    scored[i] = {dot, i};
  }
  std::partial_sort(scored.begin(), scored.begin() + k, scored.end(),
                    [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::size_t> out;
  for (int i = 0; i < k; ++i) out.push_back(scored[static_cast<std::size_t>(i)].second);
  return out;
}

double seconds_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

// The cache folder's name: every parameter that shapes the corpus (bump the last part when
// the generator or the store's files change).
std::string cache_key(std::size_t chunks) {
  return "c" + std::to_string(chunks) + "-d" + std::to_string(DIM) + "-v" + std::to_string(VOCAB) + "-w" +
         std::to_string(WORDS_PER_CHUNK) + "-p" + std::to_string(CHUNKS_PER_DOC) + "-s42-f1";
}

int run(std::size_t chunks, int queries, const fs::path& cache_root, bool fresh) {
  std::mt19937_64 rng(42);
  Zipf zipf;
  const fs::path dir = cache_root / cache_key(chunks);
  const fs::path mark = dir / "complete";
  std::error_code ec;
  const bool cached = !fresh && fs::exists(mark, ec);
  if (!cached) fs::remove_all(dir, ec);
  std::unique_ptr<CorpusStore> store;
  if (!cached) {
    auto opened = CorpusStore::open(dir, "bench");
    if (!opened) {
      std::fprintf(stderr, "open: %s\n", opened.error().to_string().c_str());
      return 1;
    }
    store = std::move(opened).value();
  }
  std::vector<std::vector<float>> all;  // by global chunk number
  std::vector<std::string> chunk_ids;
  all.reserve(chunks);
  const auto fill0 = SteadyClock::now();
  for (std::size_t d = 0; d * CHUNKS_PER_DOC < chunks; ++d) {
    DocumentInfo doc;
    doc.doc_cid = blake3_cid("bench-doc-" + std::to_string(d));
    doc.title = "doc " + std::to_string(d);
    doc.language = d % 3 == 0 ? "de" : "en";
    doc.media_type = "text/plain";
    doc.metadata = Json{{"year", 1990 + static_cast<int>(d % 35)}};
    std::vector<Chunk> cs;
    std::vector<std::vector<float>> vs;
    for (int c = 0; c < CHUNKS_PER_DOC && all.size() < chunks; ++c) {
      std::string text;
      for (int w = 0; w < WORDS_PER_CHUNK; ++w) text += word(zipf(rng)) + (w % 12 == 11 ? ". " : " ");
      cs.push_back(Chunk{text, 1 + c / 4, c, WORDS_PER_CHUNK});
      vs.push_back(random_unit(rng));
      all.push_back(vs.back());
      chunk_ids.push_back(doc.doc_cid + "#" + std::to_string(c));
    }
    if (store) {
      if (auto st = store->add_document(doc, cs, vs, "bench-384"); !st) {
        std::fprintf(stderr, "add: %s\n", st.error().to_string().c_str());
        return 1;
      }
    }
  }
  double fill_s = 0;
  if (!cached) {
    if (auto st = store->flush(); !st) return 1;
    fill_s = seconds_since(fill0);
    store.reset();
    if (auto st = atomic_write_file(mark, Json{{"fill_s", fill_s}}.dump()); !st) return 1;
  } else {
    if (auto text = read_file(mark)) {
      auto j = parse_json(*text);
      if (j && j->is_object()) fill_s = j->value("fill_s", 0.0);
    }
  }
  const auto open0 = SteadyClock::now();
  auto reopened = CorpusStore::open(dir, "bench");
  if (!reopened) {
    std::fprintf(stderr, "open: %s\n", reopened.error().to_string().c_str());
    return 1;
  }
  store = std::move(reopened).value();
  const double open_s = seconds_since(open0);
  const IndexReport opened = store->open_report();
  if (store->info().chunks != static_cast<std::int64_t>(chunks)) {
    std::fprintf(stderr, "cached corpus in %s holds %lld chunks, not %zu: rerun with 'fresh'\n",
                 dir.c_str(), static_cast<long long>(store->info().chunks), chunks);
    return 1;
  }

  std::vector<std::string> texts;
  std::vector<std::vector<float>> vectors;
  for (int i = 0; i < queries; ++i) {
    std::string t;
    for (int w = 0; w < 4; ++w) t += word(zipf(rng)) + " ";
    texts.push_back(t);
    std::vector<float> q = all[std::uniform_int_distribution<std::size_t>(0, all.size() - 1)(rng)];
    const auto noise = random_unit(rng);
    for (int d = 0; d < DIM; ++d) q[static_cast<std::size_t>(d)] += noise[static_cast<std::size_t>(d)];
    vectors.push_back(q);
  }
  QueryOptions opt;
  opt.k = K;
  bool ok = true;
  // Warm-up: the first queries read the files into the page cache and SQLite's.
  for (int i = 0; i < std::min(queries, 50); ++i) {
    ok = ok && store->query(texts[i], vectors[i], opt).has_value();
    ok = ok && store->query(texts[i], {}, opt).has_value();
  }
  const Stats hybrid = measure(queries, [&](int i) { ok = ok && store->query(texts[i], vectors[i], opt).has_value(); });
  const Stats lexical = measure(queries, [&](int i) { ok = ok && store->query(texts[i], {}, opt).has_value(); });
  double hits = 0, firsts = 0;
  std::vector<std::vector<std::string>> dense_ids(static_cast<std::size_t>(queries));
  const Stats dense = measure(queries, [&](int i) {
    auto r = store->query("", vectors[i], opt);
    ok = ok && r.has_value();
    if (r)
      for (const auto& c : *r) dense_ids[static_cast<std::size_t>(i)].push_back(c.chunk_id);
  });
  std::vector<std::vector<std::size_t>> exact_ids(static_cast<std::size_t>(queries));
  const Stats exact = measure(queries, [&](int i) {
    std::vector<float> q = vectors[i];
    double s = 0;
    for (float x : q) s += static_cast<double>(x) * x;
    for (auto& x : q) x = static_cast<float>(x / std::sqrt(s));
    exact_ids[static_cast<std::size_t>(i)] = exact_top(all, q, K);
  });
  for (int i = 0; i < queries; ++i) {
    const auto& got = dense_ids[static_cast<std::size_t>(i)];
    const auto& want = exact_ids[static_cast<std::size_t>(i)];
    for (std::size_t e : want)
      if (std::find(got.begin(), got.end(), chunk_ids[e]) != got.end()) hits += 1;
    if (!got.empty() && got.front() == chunk_ids[want.front()]) firsts += 1;
  }
  if (!ok) {
    std::fprintf(stderr, "a query failed\n");
    return 1;
  }
  const auto info = store->info();
  store.reset();

  // The lexical index rebuilt (file removed) and then loaded (the file that rebuild saved).
  auto timed_open = [&](double& open_s, IndexReport& report) {
    const auto t0 = SteadyClock::now();
    auto opened = CorpusStore::open(dir, "bench");
    if (!opened) return false;
    open_s = seconds_since(t0);
    report = (*opened)->open_report();
    return true;
  };
  fs::remove(dir / "bench" / "lexical.idx", ec);
  double open_rebuild_s = 0, open_load_s = 0;
  IndexReport rebuilt, loaded;
  if (!timed_open(open_rebuild_s, rebuilt) || !timed_open(open_load_s, loaded) || rebuilt.lexical_loaded ||
      !loaded.lexical_loaded) {
    std::fprintf(stderr, "reopen: the lexical index was not rebuilt, then loaded (%s)\n", loaded.lexical_rebuilt.c_str());
    return 1;
  }

  // The ef sweep on the same index file. Labels are chunk ids, 1.. in fill order.
  std::string sweep = "[";
  auto index = VectorIndex::load(dir / "bench" / "vectors.hnsw", DIM,
                                 Json{{"model", "bench-384"}, {"dim", DIM}, {"generation", 0}});
  if (!index) {
    std::fprintf(stderr, "index: %s\n", index.error().to_string().c_str());
    return 1;
  }
  for (std::size_t ef : {64, 128, 256, 512}) {
    (*index)->set_ef(ef);
    double top1 = 0;
    const Stats s = measure(queries, [&](int i) {
      std::vector<float> q = vectors[i];
      normalise(q);
      const auto hits = (*index)->search(q, 50);
      if (!hits.empty() && hits.front().first == static_cast<std::int64_t>(exact_ids[static_cast<std::size_t>(i)].front()) + 1)
        top1 += 1;
    });
    char part[160];
    std::snprintf(part, sizeof part, "%s{\"ef\":%zu,\"p50_ms\":%.2f,\"p95_ms\":%.2f,\"recall_at_1\":%.3f}",
                  sweep.size() > 1 ? "," : "", ef, s.p50, s.p95, top1 / queries);
    sweep += part;
  }
  sweep += "]";
  std::printf(
      "{\"bench\":\"rag_query\",\"chunks\":%zu,\"k\":%d,\"dim\":%d,\"cached\":%s,\"fill_s\":%.1f,"
      "\"open_s\":%.2f,\"lexical_loaded\":%s,\"lexical_s\":%.2f,\"open_rebuild_s\":%.2f,\"lexical_rebuild_s\":%.2f,"
      "\"open_load_s\":%.2f,\"lexical_load_s\":%.3f,\"lexical_load_vs_rebuild\":%.3f,"
      "\"lexical_mib\":%.1f,\"size_mib\":%.1f,"
      "\"hybrid_p50_ms\":%.2f,\"hybrid_p95_ms\":%.2f,\"lexical_p50_ms\":%.2f,\"lexical_p95_ms\":%.2f,"
      "\"dense_p50_ms\":%.2f,\"dense_p95_ms\":%.2f,\"exact_p50_ms\":%.2f,\"exact_p95_ms\":%.2f,"
      "\"hybrid_vs_exact_p95\":%.3f,\"recall_at_1\":%.3f,\"recall_at_5\":%.3f,\"ef\":%zu,\"ef_sweep\":%s}\n",
      chunks, K, DIM, cached ? "true" : "false", fill_s, open_s, opened.lexical_loaded ? "true" : "false",
      static_cast<double>(opened.lexical_ms) / 1000, open_rebuild_s, static_cast<double>(rebuilt.lexical_ms) / 1000,
      open_load_s, static_cast<double>(loaded.lexical_ms) / 1000,
      static_cast<double>(loaded.lexical_ms) / static_cast<double>(std::max<std::int64_t>(rebuilt.lexical_ms, 1)),
      static_cast<double>(opened.lexical_bytes) / (1 << 20), static_cast<double>(info.size_bytes) / (1 << 20),
      hybrid.p50, hybrid.p95, lexical.p50, lexical.p95, dense.p50, dense.p95, exact.p50, exact.p95,
      hybrid.p95 / exact.p95, firsts / queries, hits / (static_cast<double>(queries) * K), HNSW_EF_SEARCH,
      sweep.c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes = {10000, 100000};
  if (argc > 1) {
    sizes.clear();
    std::stringstream ss(argv[1]);
    for (std::string part; std::getline(ss, part, ',');) sizes.push_back(std::stoul(part));
  }
  const int queries = argc > 2 ? std::atoi(argv[2]) : 300;
  const fs::path cache = argc > 3 ? fs::path(argv[3]) : fs::path("/tmp/hn_rag_bench_cache");
  const bool fresh = argc > 4 && std::string(argv[4]) == "fresh";
  for (std::size_t n : sizes)
    if (int rc = run(n, std::max(queries, 20), cache, fresh); rc != 0) return rc;
  return 0;
}
