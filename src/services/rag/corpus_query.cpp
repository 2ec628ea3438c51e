// corpus_query.cpp — CorpusStore's retrieval (M05 §3.2, CONTRACT §4.4, phase 2 hybrid
// search): BM25 candidates from the in-memory lexical index (FTS5's terms and bm25()) and
// cosine candidates from hnswlib (or, under a selective filter, exact cosine over the
// allowed chunks), fused by reciprocal rank, cut to k, then their rows read. Also
// chunks_after for reindex.
#include <algorithm>
#include <cmath>

#include "services/rag/corpus_store_impl.h"
#include "services/rag/retrieval.h"

namespace hn::services::rag {

namespace {

// Candidates each ranking contributes before fusion.
std::size_t candidates_for(int k) { return static_cast<std::size_t>(std::max(4 * k, 50)); }

// The documents a filter allows, their chunk-id ranges and how many chunks they hold.
struct Allowed {
  std::vector<std::int64_t> docs;
  LexicalIndex::ChunkRanges ranges;
  std::int64_t chunks = 0;
};

struct Dense {
  std::vector<std::int64_t> ids;
  std::vector<float> similarities;
};

Dense dense_candidates(const CorpusStore::Impl& im, const std::vector<float>& q, const Allowed* allowed,
                       std::size_t limit) {
  Dense out;
  std::vector<std::pair<std::int64_t, float>> hits;
  if (allowed == nullptr) {
    hits = im.index->search(q, limit);
  } else if (allowed->chunks <= EXACT_FILTER_LIMIT) {
    // Selective filter: score every allowed chunk exactly (no recall lost to the graph).
    for (std::int64_t doc : allowed->docs) {
      const DocEntry& e = im.docs.at(doc);
      for (std::int64_t id = e.first_chunk; id <= e.last_chunk; ++id)
        if (auto sim = im.index->similarity(q, id)) hits.emplace_back(id, *sim);
    }
    std::sort(hits.begin(), hits.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (hits.size() > limit) hits.resize(limit);
  } else {
    // Broad filter: over-fetch from the graph in proportion to what the filter keeps.
    const double total = static_cast<double>(std::max<std::size_t>(im.index->size(), 1));
    const double keep = std::max(0.01, static_cast<double>(allowed->chunks) / total);
    const auto fetch = std::min<std::size_t>(static_cast<std::size_t>(std::ceil(2.0 * limit / keep)), 8192);
    std::vector<std::int64_t> sorted_docs = allowed->docs;
    std::sort(sorted_docs.begin(), sorted_docs.end());
    for (const auto& h : im.index->search(q, std::max(fetch, limit))) {
      if (std::binary_search(sorted_docs.begin(), sorted_docs.end(), im.doc_of_chunk(h.first))) hits.push_back(h);
      if (hits.size() >= limit) break;
    }
  }
  for (const auto& [id, sim] : hits) {
    out.ids.push_back(id);
    out.similarities.push_back(sim);
  }
  return out;
}

}  // namespace

Result<std::vector<ScoredChunk>> CorpusStore::query(const std::string& text, const std::vector<float>& query_vector,
                                                    const QueryOptions& options) const {
  if (options.k < 1 || options.k > RAG_MAX_K)
    return make_error(ErrorCode::bad_request, "k must be between 1 and " + std::to_string(RAG_MAX_K),
                      Json{{"k", options.k}});
  HN_TRY_ASSIGN(auto filter, parse_filter(options.filter));
  std::vector<float> q = query_vector;
  if (!q.empty() && !normalise(q)) return make_error(ErrorCode::bad_request, "query vector is zero or not finite");
  const std::size_t limit = candidates_for(options.k);

  Impl& im = *m_impl;
  std::vector<std::string> terms;
  {
    std::lock_guard lock(im.query_tokenizer_mutex);
    terms = im.query_tokenizer->query_terms(text, FTS_MAX_WORDS);
  }
  HN_TRY_ASSIGN(auto reader, im.reader());
  std::shared_lock lock(im.state_mutex);
  if (!q.empty() && im.dim != 0 && static_cast<int>(q.size()) != im.dim)
    return make_error(ErrorCode::bad_request, "query vector has the wrong dimension",
                      Json{{"dim", q.size()}, {"corpus_dim", im.dim}, {"corpus_model", im.model}});

  Allowed allowed;
  if (!filter.empty()) {
    for (const auto& [id, entry] : im.docs) {
      if (matches(filter, entry.info)) {
        allowed.docs.push_back(id);
        if (entry.last_chunk >= entry.first_chunk) allowed.ranges.emplace_back(entry.first_chunk, entry.last_chunk);
        allowed.chunks += entry.info.chunks;
      }
    }
    if (allowed.docs.empty()) return std::vector<ScoredChunk>{};
  }
  const Allowed* allowed_ptr = filter.empty() ? nullptr : &allowed;

  std::vector<std::int64_t> lexical;
  for (const auto& hit : im.lexical.search(terms, limit, allowed_ptr ? &allowed.ranges : nullptr))
    lexical.push_back(hit.chunk_id);
  Dense dense;
  if (!q.empty() && im.index) dense = dense_candidates(im, q, allowed_ptr, limit);
  const auto fused = fuse_rrf(lexical, dense.ids, dense.similarities);

  std::vector<ScoredChunk> out;
  HN_TRY_ASSIGN(auto row, reader->db().prepare(options.include_text
                                                   ? "SELECT doc_id, ordinal, page, text FROM chunks WHERE id = ?1"
                                                   : "SELECT doc_id, ordinal, page FROM chunks WHERE id = ?1"));
  for (const auto& hit : fused) {
    if (out.size() >= static_cast<std::size_t>(options.k)) break;
    row.reset();
    row.bind(1, hit.id);
    HN_TRY_ASSIGN(auto found, row.step());
    if (!found) continue;  // removed since the candidates were taken
    auto doc = im.docs.find(row.column_int(0));
    if (doc == im.docs.end()) continue;  // committed a moment ago, not yet in the cache
    ScoredChunk sc;
    sc.rank = static_cast<int>(out.size() + 1);
    sc.score = hit.score;
    sc.ordinal = static_cast<int>(row.column_int(1));
    sc.page = static_cast<int>(row.column_int(2));
    if (options.include_text) sc.text = row.column_text(3);
    sc.doc = doc->second.info;
    sc.chunk_id = sc.doc.doc_cid + "#" + std::to_string(sc.ordinal);
    out.push_back(std::move(sc));
  }
  return out;
}

Result<std::vector<CorpusStore::StoredChunk>> CorpusStore::chunks_after(std::int64_t after_id, int limit) const {
  if (limit < 1) return make_error(ErrorCode::bad_request, "limit must be at least 1");
  HN_TRY_ASSIGN(auto reader, m_impl->reader());
  HN_TRY_ASSIGN(auto s, reader->db().prepare("SELECT c.id, d.doc_cid, c.text FROM chunks c JOIN documents d "
                                             "ON d.id = c.doc_id WHERE c.id > ?1 ORDER BY c.id LIMIT ?2"));
  s.bind(1, after_id);
  s.bind(2, static_cast<std::int64_t>(limit));
  std::vector<StoredChunk> out;
  while (true) {
    HN_TRY_ASSIGN(auto row, s.step());
    if (!row) break;
    out.push_back(StoredChunk{s.column_int(0), s.column_text(1), s.column_text(2)});
  }
  return out;
}

}  // namespace hn::services::rag
