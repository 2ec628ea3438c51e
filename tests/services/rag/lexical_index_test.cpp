// lexical_index_test.cpp — the in-memory BM25 index (services/rag/lexical_index.h) and FTS5's
// tokenizer outside SQL (fts_tokenizer.h), against a real in-memory SQLite FTS5 table: the
// terms are the ones FTS5 stores, the ranking is FTS5's bm25(), removal and compaction keep
// frequencies and scores right; encode / decode give back the same index and refuse any
// malformed bytes. The store-level checks (after add/remove/reindex, reopen,
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

// An index with dead slots, encoded and decoded: the same ranking (ids and scores exactly),
// counts and document frequencies; the same writes on both keep them equal.
TEST_F(LexicalIndexTest, EncodedIndexDecodesToTheSameIndex) {
  std::mt19937_64 rng(5);
  auto text = [&] {
    std::string t;
    const int words = 2 + static_cast<int>(rng() % 25);
    for (int w = 0; w < words; ++w)
      t += "w" + std::to_string(static_cast<int>(std::pow(150.0, std::uniform_real_distribution<double>(0, 1)(rng)))) +
           " ";
    return t;
  };
  LexicalIndex index;
  std::map<std::int64_t, std::string> texts;
  for (std::int64_t id = 1; id <= 600; ++id) {
    texts[id] = text();
    index.add(id * 3, count_terms(*tokenizer, texts[id]));
  }
  for (std::int64_t id = 1; id <= 600; id += 7) index.remove(id * 3, count_terms(*tokenizer, texts[id]));
  std::string bytes;
  index.encode(bytes);
  auto decoded = LexicalIndex::decode(bytes);
  ASSERT_TRUE(decoded.has_value());
  auto same = [&](const std::string& when) {
    EXPECT_EQ(decoded->size(), index.size()) << when;
    EXPECT_EQ(decoded->terms(), index.terms()) << when;
    EXPECT_EQ(decoded->postings(), index.postings()) << when;
    EXPECT_EQ(decoded->last_chunk_id(), index.last_chunk_id()) << when;
    for (int w = 0; w < 150; w += 7)
      EXPECT_EQ(decoded->document_frequency("w" + std::to_string(w)), index.document_frequency("w" + std::to_string(w)))
          << when;
    for (int q = 0; q < 30; ++q) {
      const auto words = tokenizer->query_terms(text(), 32);
      const auto want = index.search(words, 20);
      const auto got = decoded->search(words, 20);
      ASSERT_EQ(got.size(), want.size()) << when;
      for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].chunk_id, want[i].chunk_id) << when;
        EXPECT_EQ(got[i].score, want[i].score) << when;
      }
    }
  };
  same("decoded");
  for (std::int64_t id = 601; id <= 650; ++id) {
    texts[id] = text();
    index.add(id * 3, count_terms(*tokenizer, texts[id]));
    decoded->add(id * 3, count_terms(*tokenizer, texts[id]));
  }
  for (std::int64_t id = 2; id <= 650; id += 5) {
    index.remove(id * 3, count_terms(*tokenizer, texts[id]));
    decoded->remove(id * 3, count_terms(*tokenizer, texts[id]));
  }
  same("after writes on both");
  std::string again;
  decoded->encode(again);
  std::string original;
  index.encode(original);
  EXPECT_EQ(again.size(), original.size());  // the same state (the term order may differ)
  // An empty index round-trips too.
  std::string empty;
  LexicalIndex().encode(empty);
  auto none = LexicalIndex::decode(empty);
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->size(), 0u);
  EXPECT_TRUE(none->search({"w1"}, 5).empty());
}

// Every truncation and trailing junk is refused; no flipped byte makes decode or a search
// read out of bounds (the asan preset runs this): either refused, or an index that answers.
TEST_F(LexicalIndexTest, DecodeRefusesMalformedBytesAndNeverReadsPastThem) {
  LexicalIndex index;
  index.add(1, count_terms(*tokenizer, "pump water pump"));
  index.add(2, count_terms(*tokenizer, "water tank"));
  index.add(9, count_terms(*tokenizer, "rain water tank filter"));
  index.remove(2, count_terms(*tokenizer, "water tank"));
  std::string bytes;
  index.encode(bytes);
  ASSERT_TRUE(LexicalIndex::decode(bytes).has_value());
  for (std::size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(LexicalIndex::decode(std::string_view(bytes).substr(0, n)).has_value()) << n;
  EXPECT_FALSE(LexicalIndex::decode(bytes + '\0').has_value());
  const std::vector<std::string> all{"pump", "water", "tank", "rain", "filter"};
  int refused = 0;
  for (std::size_t at = 0; at < bytes.size(); ++at) {
    for (unsigned char flip : {0x01, 0x80, 0xFF}) {
      std::string bad = bytes;
      bad[at] = static_cast<char>(static_cast<unsigned char>(bad[at]) ^ flip);
      auto got = LexicalIndex::decode(bad);
      if (!got) {
        ++refused;
        continue;
      }
      (void)got->search(all, 10);
      const LexicalIndex::ChunkRanges ranges{{0, 5}};
      (void)got->search(all, 10, &ranges);
    }
  }
  EXPECT_GT(refused, 0);
  // Slots out of order, a posting past the last slot, a term twice: each refused.
  auto framed = [](std::vector<std::int64_t> ids, std::vector<std::pair<std::string, std::string>> terms) {
    std::string out;
    auto u = [&](std::uint64_t v, int n) {
      for (int i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    };
    u(ids.size(), 8);
    for (auto id : ids) u(static_cast<std::uint64_t>(id), 8);
    for (std::size_t i = 0; i < ids.size(); ++i) u(3, 4);
    for (std::size_t i = 0; i < ids.size(); ++i) out.push_back(1);
    u(terms.size(), 8);
    for (const auto& [term, postings] : terms) {
      u(term.size(), 4);
      out += term;
      u(postings.size() / 2, 4);
      u(postings.size(), 8);
      out += postings;
    }
    return out;
  };
  EXPECT_TRUE(LexicalIndex::decode(framed({1, 2}, {{"a", std::string("\x00\x01\x01\x02", 4)}})).has_value());
  EXPECT_FALSE(LexicalIndex::decode(framed({2, 1}, {{"a", std::string("\x00\x01", 2)}})).has_value());
  EXPECT_FALSE(LexicalIndex::decode(framed({1, 2}, {{"a", std::string("\x00\x01\x02\x01", 4)}})).has_value());
  EXPECT_FALSE(LexicalIndex::decode(framed({1, 2}, {{"a", std::string("\x00\x01\x00\x01", 4)}})).has_value());
  EXPECT_FALSE(LexicalIndex::decode(framed({1, 2}, {{"a", std::string("\x00\x00", 2)}})).has_value());
  EXPECT_FALSE(
      LexicalIndex::decode(framed({1, 2}, {{"a", std::string("\x00\x01", 2)}, {"a", std::string("\x01\x01", 2)}}))
          .has_value());
  EXPECT_FALSE(LexicalIndex::decode(framed({1}, {{"a", std::string("\x80\x80\x80\x80\x80\x01", 6)}})).has_value());
}

}  // namespace
}  // namespace hn::services::rag
