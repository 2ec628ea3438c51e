// fts_tokenizer.h — FTS5's own tokenizer, called outside SQL through the fts5_api: the
// tokenizer chunks_fts is declared with (unicode61, remove_diacritics 2), so the in-memory
// lexical index (lexical_index.h) holds exactly the terms FTS5 indexes, and a query is cut
// into terms exactly as FTS5 would cut it.
//
// Thread-safety: one FtsTokenizer is used by one thread at a time (unicode61 keeps a
// folding buffer in its instance); the database connection it came from must outlive it.
// Invariants: terms are what FTS5 stores — case-folded, diacritics removed — never empty.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

struct sqlite3;

namespace hn::services::rag {

// chunks_fts's tokenizer (corpus_store.cpp's schema names the same).
inline constexpr const char* FTS_TOKENIZER = "unicode61";
inline constexpr const char* FTS_TOKENIZER_ARGS[] = {"remove_diacritics", "2"};

class FtsTokenizer {
 public:
  // The tokenizer of `db`'s FTS5 module. internal_error when FTS5 or unicode61 is missing.
  static Result<std::unique_ptr<FtsTokenizer>> create(sqlite3* db);
  ~FtsTokenizer();
  FtsTokenizer(const FtsTokenizer&) = delete;
  FtsTokenizer& operator=(const FtsTokenizer&) = delete;

  // Calls on_token with each term of text, in order, as a document is indexed. The view
  // is valid only during the call.
  void tokenize(std::string_view text, const std::function<void(std::string_view)>& on_token);
  // A query's terms: tokenized as FTS5 tokenizes a query, de-duplicated, in order of first
  // appearance, at most `max_terms`.
  std::vector<std::string> query_terms(std::string_view text, std::size_t max_terms);

  struct Impl;

 private:
  explicit FtsTokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace hn::services::rag
