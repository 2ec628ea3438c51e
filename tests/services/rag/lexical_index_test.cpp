// lexical_index_test.cpp — the in-memory BM25 index (services/rag/lexical_index.h) and FTS5's
// tokenizer outside SQL (fts_tokenizer.h), against a real in-memory SQLite FTS5 table: the
// terms are the ones FTS5 stores, the ranking is FTS5's bm25(), removal and compaction keep
// frequencies and scores right. The store-level checks (after add/remove/reindex, reopen,
// kill mid-write) are in corpus_store_test.cpp.
#include "services/rag/lexical_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "events/detail/sqlite.h"
#include "services/rag/fts_tokenizer.h"
#include "services/rag/retrieval.h"

namespace hn::services::rag {
namespace {

using events::detail::Db;

class LexicalIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Db::open(":memory:", true);
    ASSERT_TRUE(opened.has_value());
    db = std::move(opened).value();
    // The store's declaration (corpus_store.cpp), minus the external content.
    ASSERT_TRUE(db.exec(
        "CREATE VIRTUAL TABLE t USING fts5(text, tokenize = 'unicode61 remove_diacritics 2');"
        "CREATE VIRTUAL TABLE v USING fts5vocab(t, instance);"));
    auto tok = FtsTokenizer::create(db.handle());
    ASSERT_TRUE(tok.has_value()) << tok.error().to_string();
    tokenizer = std::move(tok).value();
  }
  void TearDown() override { tokenizer.reset(); }

  void insert(std::int64_t rowid, const std::string& text) {
    auto s = db.prepare("INSERT INTO t(rowid, text) VALUES(?1, ?2)");
    ASSERT_TRUE(s.has_value());
    s->bind(1, rowid);
    s->bind(2, text);
    ASSERT_TRUE(s->run());
  }
  // FTS5's own best n for an OR of the words: (rowid, -bm25), ties by rowid.
  std::vector<LexicalIndex::Hit> fts5_top(const std::vector<std::string>& words, std::size_t n) {
    std::vector<LexicalIndex::Hit> out;
    auto s = db.prepare(
        "SELECT rowid, bm25(t) FROM t WHERE t MATCH ?1 ORDER BY bm25(t), rowid LIMIT ?2");
    EXPECT_TRUE(s.has_value());
    s->bind(1, fts_match_expression(words));
    s->bind(2, static_cast<std::int64_t>(n));
    while (true) {
      auto row = s->step();
      EXPECT_TRUE(row.has_value());
      if (!row || !*row) break;
      out.push_back({s->column_int(0), -s->column_double(1)});
    }
    return out;
  }
  static void expect_same(const std::vector<LexicalIndex::Hit>& got,
                          const std::vector<LexicalIndex::Hit>& want, const std::string& what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].chunk_id, want[i].chunk_id) << what << " at " << i;
      EXPECT_NEAR(got[i].score, want[i].score, 1e-9 * std::max(1.0, std::abs(want[i].score)))
          << what << " at " << i;
    }
  }

  Db db;
  std::unique_ptr<FtsTokenizer> tokenizer;
};

TEST_F(LexicalIndexTest, TermsAreTheOnesFts5Stores) {
  const std::string text =
      "Über GRÖSSE: naïve Café-Owners' café, ÉCOLE école 42x 日本語 Straße straße";
  insert(1, text);
  std::map<std::string, std::uint32_t> fts;
  auto s = db.prepare("SELECT term FROM v");
  ASSERT_TRUE(s.has_value());
  std::uint32_t tokens = 0;
  while (*s->step()) {
    ++fts[s->column_text(0)];
    ++tokens;
  }
  const ChunkTerms terms = count_terms(*tokenizer, text);
  EXPECT_EQ(terms.length, tokens);
  const std::map<std::string, std::uint32_t> ours(terms.terms.begin(), terms.terms.end());
  EXPECT_EQ(ours, fts);
  EXPECT_EQ(fts["cafe"], 2u);
  EXPECT_EQ(fts["ecole"], 2u);
  // A query is cut the same way, de-duplicated, and capped.
  EXPECT_EQ(tokenizer->query_terms("Café? CAFE! école \"(*)\" -", 32),
            (std::vector<std::string>{"cafe", "ecole"}));
  EXPECT_EQ(tokenizer->query_terms("a b c d e", 3), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(tokenizer->query_terms("\"(*)\" : ^ -", 32).empty());
}

// Random chunks with a skewed vocabulary: the index's top 20 (ids and scores) is FTS5's
// bm25() ranking for every query, before and after removals that force a compaction.
TEST_F(LexicalIndexTest, RankingIsFts5Bm25BeforeAndAfterRemovalAndCompaction) {
  std::mt19937_64 rng(7);
  std::vector<std::string> vocab;
  for (int i = 0; i < 300; ++i) vocab.push_back("w" + std::to_string(i));
  auto pick = [&] {  // roughly Zipf: small ranks often
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return vocab[static_cast<std::size_t>(std::pow(300.0, u)) - 1];
  };
  LexicalIndex index;
  std::map<std::int64_t, std::string> texts;
  ASSERT_TRUE(db.exec("BEGIN"));
  for (std::int64_t id = 1; id <= 3000; ++id) {
    std::string text;
    const int words = 3 + static_cast<int>(rng() % 40);
    for (int w = 0; w < words; ++w) text += pick() + " ";
    insert(id, text);
    texts[id] = text;
    index.add(id, count_terms(*tokenizer, text));
  }
  ASSERT_TRUE(db.exec("COMMIT"));
  EXPECT_EQ(index.size(), 3000u);
  auto check = [&](const std::string& when) {
    for (int q = 0; q < 40; ++q) {
      std::vector<std::string> words{pick(), pick(), q % 5 == 0 ? std::string("absent") : pick()};
      std::sort(words.begin(), words.end());
      words.erase(std::unique(words.begin(), words.end()), words.end());
      expect_same(index.search(words, 20), fts5_top(words, 20), when + " q" + std::to_string(q));
    }
  };
  check("built");
  // Remove 2500 chunks (more than the 1024 dead slots and the live ones: compacts).
  const std::size_t postings_before = index.postings();
  ASSERT_TRUE(db.exec("BEGIN"));
  for (std::int64_t id = 1; id <= 3000; ++id) {
    if (id % 6 == 0) continue;
    auto s = db.prepare("DELETE FROM t WHERE rowid = ?1");
    s->bind(1, id);
    ASSERT_TRUE(s->run());
    index.remove(id, count_terms(*tokenizer, texts[id]));
  }
  ASSERT_TRUE(db.exec("COMMIT"));
  EXPECT_EQ(index.size(), 500u);
  EXPECT_LT(index.postings(), postings_before / 2);  // dead postings went with the compaction
  check("after removal");
  index.remove(999999, ChunkTerms{});  // unknown: nothing happens
  index.remove(6, count_terms(*tokenizer, texts[6]));
  index.remove(6, count_terms(*tokenizer, texts[6]));  // twice: once
  EXPECT_EQ(index.size(), 499u);
  ASSERT_TRUE(db.exec("DELETE FROM t WHERE rowid = 6"));
  check("after one more");
  // Document frequencies are the live ones.
  std::int64_t live_w0 = 0;
  for (const auto& [id, text] : texts) {
    if (id % 6 != 0 || id == 6) continue;
    const auto t = count_terms(*tokenizer, text);
    live_w0 +=
        std::any_of(t.terms.begin(), t.terms.end(), [](const auto& p) { return p.first == "w0"; })
            ? 1
            : 0;
  }
  EXPECT_GT(live_w0, 0);
  EXPECT_EQ(index.document_frequency("w0"), live_w0);
}

TEST_F(LexicalIndexTest, AllowedRangesAndTies) {
  LexicalIndex index;
  for (std::int64_t id = 1; id <= 10; ++id) index.add(id, count_terms(*tokenizer, "pump water"));
  index.add(5, count_terms(*tokenizer, "pump"));  // not above the last id: ignored
  EXPECT_EQ(index.size(), 10u);
  auto all = index.search({"pump"}, 3);
  ASSERT_EQ(all.size(), 3u);  // equal scores: lower ids first
  EXPECT_EQ(all[0].chunk_id, 1);
  EXPECT_EQ(all[2].chunk_id, 3);
  const LexicalIndex::ChunkRanges ranges{{4, 5}, {9, 40}};
  auto some = index.search({"pump", "water"}, 10, &ranges);
  std::vector<std::int64_t> ids;
  for (const auto& h : some) ids.push_back(h.chunk_id);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{4, 5, 9, 10}));
  EXPECT_TRUE(index.search({"absent"}, 10).empty());
  EXPECT_TRUE(index.search({}, 10).empty());
  EXPECT_TRUE(index.search({"pump"}, 0).empty());
  EXPECT_TRUE(LexicalIndex().search({"pump"}, 5).empty());
  EXPECT_GT(index.memory_bytes(), 0u);
}

}  // namespace
}  // namespace hn::services::rag
