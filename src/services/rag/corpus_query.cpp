// corpus_query.cpp — CorpusStore's retrieval (M05 §3.2, CONTRACT §4.4, phase 2 hybrid
// search): BM25 candidates from FTS5 and cosine candidates from hnswlib (or, under a
// selective filter, exact cosine over the allowed chunks), fused by reciprocal rank, cut
// to k, then their rows read. Also chunks_after for reindex.
#include <algorithm>
#include <cmath>

#include "services/rag/corpus_store_impl.h"
#include "services/rag/retrieval.h"

namespace hn::services::rag {

namespace {

// Candidates each ranking contributes before fusion.
std::size_t candidates_for(int k) { return static_cast<std::size_t>(std::max(4 * k, 50)); }

// The allowed documents as a JSON array of row ids (for json_each), and their chunk count.
struct Allowed {
  std::vector<std::int64_t> docs;
  std::int64_t chunks = 0;
};

Result<std::vector<std::int64_t>> lexical_candidates(Db& db, const std::string& match, const Allowed* allowed,
                                                     std::size_t limit) {
  std::vector<std::int64_t> out;
  std::string sql = "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?1";
  if (allowed != nullptr) sql += " AND doc_id IN (SELECT value FROM json_each(?3))";
  sql += " ORDER BY rank LIMIT ?2";
  HN_TRY_ASSIGN(auto s, db.prepare(sql));
  s.bind(1, match);
  s.bind(2, static_cast<std::int64_t>(limit));
  if (allowed != nullptr) s.bind(3, Json(allowed->docs).dump());
  while (true) {
    HN_TRY_ASSIGN(auto row, s.step());
    if (!row) break;
    out.push_back(s.column_int(0));
  }
  return out;
}

// Each word's document frequency from the FTS vocabulary, then the planned MATCH.
Result<LexicalPlan> plan_match(Db& db, const std::vector<std::string>& words, std::int64_t total_chunks) {
  if (words.empty()) return LexicalPlan{};
  HN_TRY_ASSIGN(auto s, db.prepare("SELECT doc FROM chunks_vocab WHERE term = ?1"));
  std::vector<TermStat> terms;
  for (const auto& w : words) {
    TermStat t{w, 0};
    if (std::any_of(w.begin(), w.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
      t.df = -1;
    } else {
      s.reset();
      s.bind(1, w);
      HN_TRY_ASSIGN(auto row, s.step());
      if (row) t.df = s.column_int(0);
    }
    terms.push_back(std::move(t));
  }
  return plan_lexical_query(std::move(terms), total_chunks);
}

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
  const auto words = query_words(text);
  const std::size_t limit = candidates_for(options.k);

  Impl& im = *m_impl;
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
        allowed.chunks += entry.info.chunks;
      }
    }
    if (allowed.docs.empty()) return std::vector<ScoredChunk>{};
  }
  const Allowed* allowed_ptr = filter.empty() ? nullptr : &allowed;

  std::vector<std::int64_t> lexical;
  std::int64_t total_chunks = 0;
  for (const auto& [id, entry] : im.docs) total_chunks += entry.info.chunks;
  HN_TRY_ASSIGN(auto plan, plan_match(reader->db(), words, total_chunks));
  if (!plan.match.empty()) {
    HN_TRY_ASSIGN(lexical, lexical_candidates(reader->db(), plan.match, allowed_ptr, limit));
  }
  if (lexical.size() < static_cast<std::size_t>(options.k) && !plan.fallback.empty()) {
    HN_TRY_ASSIGN(auto more, lexical_candidates(reader->db(), plan.fallback, allowed_ptr, limit));
    for (std::int64_t id : more)
      if (lexical.size() < limit && std::find(lexical.begin(), lexical.end(), id) == lexical.end()) lexical.push_back(id);
  }
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
