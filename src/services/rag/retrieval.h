// retrieval.h — the pure parts of hybrid retrieval (M05 §3.2, phase 2 overview): turning
// any user text into a safe FTS5 query (for asking chunks_fts directly: the store ranks
// from its in-memory lexical index, lexical_index.h), the metadata filter of CONTRACT §4.4,
// and reciprocal rank fusion of the lexical and dense rankings.
//
// Thread-safety: free functions and values; no shared state.
// Invariants: fts_match_expression never yields FTS5 syntax from the user's text (each
// word is a quoted string), so any text is a valid query; a DocFilter built by
// parse_filter only holds well-typed conditions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "core/query_words.h"

namespace hn::services::rag {

struct DocumentInfo;

// RRF's constant (Cormack et al. 2009): score = Σ 1 / (RRF_K + rank).
inline constexpr int RRF_K = 60;
// At most this many words (terms) of a query are ranked.
inline constexpr std::size_t FTS_MAX_WORDS = 32;

// The query's words (core/query_words.h), at most FTS_MAX_WORDS.
inline std::vector<std::string> query_words(std::string_view text) {
  return hn::query_words(text, FTS_MAX_WORDS);
}
using hn::fts_match_expression;

// CONTRACT §4.4 filter: equality on a document field (doc_cid, title, language,
// media_type) or a metadata key; "min_<key>" / "max_<key>" with a number compare a
// numeric field or metadata value (inclusive).
struct DocFilter {
  struct Condition {
    enum class Kind { equals, min, max } kind = Kind::equals;
    std::string key;
    Json value;
  };
  std::vector<Condition> conditions;
  bool empty() const { return conditions.empty(); }
};

// bad_request when filter is not an object or a min_/max_ value is not a number.
Result<DocFilter> parse_filter(const Json& filter);
// Whether a document meets every condition (a missing key never matches).
bool matches(const DocFilter& filter, const DocumentInfo& doc);

// One fused hit: the chunk id, its fused score and the ranks it had (0 = absent).
struct FusedHit {
  std::int64_t id = 0;
  double score = 0;
  int lexical_rank = 0;
  int dense_rank = 0;
  float similarity = 0;  // cosine, when dense_rank > 0
};

// Reciprocal rank fusion of the two rankings (each best first; either may be empty),
// best first; ties go to the higher cosine, then the lower id. `similarities` is parallel to
// `dense`.
std::vector<FusedHit> fuse_rrf(const std::vector<std::int64_t>& lexical, const std::vector<std::int64_t>& dense,
                               const std::vector<float>& similarities);

}  // namespace hn::services::rag
