// corpus_fixture.h — what the corpus store's tests share (corpus_store_test.cpp,
// corpus_lexical_file_test.cpp): small vectors and documents, the CorpusStoreTest fixture
// (a store in a temp folder), and FTS5's own ranking on a corpus's database to compare the
// store's lexical ranking with.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/hash.h"
#include "events/detail/sqlite.h"
#include "services/rag/corpus_store.h"
#include "services/rag/retrieval.h"
#include "support/test_support.h"

namespace hn::services::rag::corpus_test {

namespace fs = std::filesystem;

inline constexpr int DIM = 8;

inline std::string cid(const std::string& name) { return blake3_cid(name); }

// e_i scaled, plus a little of e_{i+1} so that neighbours are ordered.
inline std::vector<float> axis(int i, float tail = 0.0f) {
  std::vector<float> v(DIM, 0.0f);
  v[static_cast<std::size_t>(i % DIM)] = 1.0f;
  v[static_cast<std::size_t>((i + 1) % DIM)] = tail;
  return v;
}

inline std::vector<Chunk> chunks_of(const std::vector<std::string>& texts, int page = 1) {
  std::vector<Chunk> out;
  for (std::size_t i = 0; i < texts.size(); ++i)
    out.push_back(Chunk{texts[i], page + static_cast<int>(i), static_cast<int>(i), 10});
  return out;
}

inline DocumentInfo doc(const std::string& name, const std::string& language = "en", Json metadata = Json::object()) {
  DocumentInfo d;
  d.doc_cid = cid(name);
  d.title = name;
  d.language = language;
  d.media_type = "text/plain";
  d.metadata = std::move(metadata);
  return d;
}

inline QueryOptions with_k(int k, Json filter = Json::object(), bool include_text = true) {
  QueryOptions o;
  o.k = k;
  o.filter = std::move(filter);
  o.include_text = include_text;
  return o;
}

class CorpusStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<CorpusStore> open(const std::string& name = "handbook") {
    auto store = CorpusStore::open(tmp.path(), name);
    EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().to_string());
    return store ? std::move(store).value() : nullptr;
  }
  // doc "water": four chunks on axes 0..3.
  void add_water(CorpusStore& store) {
    ASSERT_TRUE(store.add_document(doc("water"),
                                   chunks_of({"boil rainwater for one minute", "filter through cloth and sand",
                                              "store drinking water in clean containers",
                                              "chlorine tablets purify water"}),
                                   {axis(0), axis(1), axis(2), axis(3)}, "m1"));
  }
  fs::path corpus_dir() const { return tmp.path() / "handbook"; }
  test::TempDir tmp;
};

// FTS5's own answer on the corpus's database: the chunk ids ("<doc_cid>#<ordinal>") of the
// best n chunks by bm25() for an OR of the text's words, ties by row id.
inline std::vector<std::string> fts5_ranking(const fs::path& db_file, const std::string& text, int n) {
  std::vector<std::string> out;
  auto db = events::detail::Db::open(db_file.string(), false);
  EXPECT_TRUE(db.has_value());
  if (!db) return out;
  const std::string match = fts_match_expression(query_words(text));
  if (match.empty()) return out;
  auto s = db->prepare(
      "SELECT d.doc_cid, c.ordinal FROM chunks_fts f JOIN chunks c ON c.id = f.rowid "
      "JOIN documents d ON d.id = c.doc_id WHERE chunks_fts MATCH ?1 ORDER BY bm25(chunks_fts), c.id LIMIT ?2");
  EXPECT_TRUE(s.has_value());
  s->bind(1, match);
  s->bind(2, static_cast<std::int64_t>(n));
  while (true) {
    auto row = s->step();
    if (!row || !*row) break;
    out.push_back(s->column_text(0) + "#" + std::to_string(s->column_int(1)));
  }
  return out;
}

// Reindexes every chunk of the store under `model` (pages of 50 chunks, vectors from
// `vectors_for(n)`) and commits; a failure fails the calling test.
inline void reindex_all(CorpusStore& store, const std::string& model, int dim,
                        const std::function<std::vector<std::vector<float>>(std::size_t)>& vectors_for) {
  ASSERT_TRUE(store.begin_reindex(model, dim));
  std::int64_t after = 0;
  while (true) {
    auto page = store.chunks_after(after, 50);
    ASSERT_TRUE(page.has_value());
    if (page->empty()) break;
    std::vector<std::int64_t> ids;
    for (const auto& c : *page) ids.push_back(c.id);
    ASSERT_TRUE(store.put_reindexed(ids, vectors_for(ids.size())));
    after = page->back().id;
  }
  ASSERT_TRUE(store.commit_reindex());
}

}  // namespace hn::services::rag::corpus_test
