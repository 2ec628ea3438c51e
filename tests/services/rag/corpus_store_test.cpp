// corpus_store_test.cpp — CorpusStore on real SQLite files and a real hnswlib index:
// retrieval (dense, lexical, hybrid, filter, k), documents per model, replace/remove,
// the index file as a cache (reopen, torn file, vectors it lacks), reindex, and a child
// process killed with SIGKILL inside add_document's transaction.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <thread>
#include <atomic>
#include <cmath>

#include "core/hash.h"
#include "events/detail/sqlite.h"
#include "services/rag/corpus_store.h"
#include "services/rag/retrieval.h"
#include "support/test_support.h"
#include "corpus_fixture.h"

namespace hn::services::rag {
namespace {

namespace fs = std::filesystem;
using namespace corpus_test;

TEST_F(CorpusStoreTest, CorpusNamesFollowM05) {
  EXPECT_TRUE(valid_corpus_name("niederrhein-emergency"));
  EXPECT_TRUE(valid_corpus_name(std::string(64, 'a')));
  for (const char* bad : {"", "Upper", "a_b", "../x", "a/b", "a b", "ä"}) {
    EXPECT_FALSE(valid_corpus_name(bad)) << bad;
    auto store = CorpusStore::open(tmp.path(), bad);
    ASSERT_FALSE(store.has_value()) << bad;
    EXPECT_EQ(store.error().code, ErrorCode::bad_request);
  }
  EXPECT_FALSE(valid_corpus_name(std::string(65, 'a')));
  EXPECT_FALSE(fs::exists(tmp.path() / "Upper"));
}

TEST_F(CorpusStoreTest, AddThenDenseQueryRecoversChunk) {
  auto store = open();
  add_water(*store);
  auto hits = store->query("", axis(2, 0.1f), with_k(3));
  ASSERT_TRUE(hits.has_value()) << hits.error().to_string();
  ASSERT_EQ(hits->size(), 3u);
  const ScoredChunk& top = hits->front();
  EXPECT_EQ(top.rank, 1);
  EXPECT_EQ(top.ordinal, 2);
  EXPECT_EQ(top.page, 3);
  EXPECT_EQ(top.text, "store drinking water in clean containers");
  EXPECT_EQ(top.chunk_id, cid("water") + "#2");
  EXPECT_EQ(top.doc.title, "water");
  EXPECT_EQ((*hits)[1].ordinal, 3);  // the tail points at axis 3
  EXPECT_GT(top.score, (*hits)[1].score);
  EXPECT_EQ(store->embedding_model(), "m1");
  EXPECT_EQ(store->dim(), DIM);
}

TEST_F(CorpusStoreTest, AddThenLexicalQueryRecoversChunk) {
  auto store = open();
  add_water(*store);
  auto hits = store->query("How do I use chlorine?", {}, with_k(5));
  ASSERT_TRUE(hits.has_value());
  ASSERT_FALSE(hits->empty());
  EXPECT_EQ(hits->front().ordinal, 3);
  auto no_text = store->query("chlorine", {}, with_k(5, Json::object(), false));
  ASSERT_TRUE(no_text.has_value());
  ASSERT_FALSE(no_text->empty());
  EXPECT_TRUE(no_text->front().text.empty());
  EXPECT_EQ(no_text->front().chunk_id, cid("water") + "#3");
}

// Lexical puts A first, dense puts C first; B is second in both and first when fused.
TEST_F(CorpusStoreTest, HybridBeatsEitherAlone) {
  auto store = open();
  const std::vector<float> filler = {0.5f, 0.3f, 0, 0, 0, 0, 0.8f, 0};  // between B and A in cosine
  ASSERT_TRUE(store->add_document(
      doc("crafted"),
      chunks_of({"solar panel solar panel battery",  // A: lexical best, far in vector space
                 "solar panel battery",              // B: lexical second, vector second
                 "inverter wiring diagram",          // C: no lexical match, vector best
                 "garden compost heap", "garden shed roof", "garden hose", "garden fence",
                 "garden gate"}),  // fillers: no lexical match, dense ranks 3..7
      {axis(5), axis(1, 0.0f), axis(0), filler, filler, filler, filler, filler}, "m1"));
  const std::vector<float> q = {1.0f, 0.9f, 0, 0, 0, 0, 0, 0};  // C, then B
  auto lexical = store->query("solar panel", {}, with_k(1));
  auto dense = store->query("", q, with_k(1));
  auto hybrid = store->query("solar panel", q, with_k(3));
  ASSERT_TRUE(lexical && dense && hybrid);
  EXPECT_EQ(lexical->front().ordinal, 0);
  EXPECT_EQ(dense->front().ordinal, 2);
  EXPECT_EQ(hybrid->front().ordinal, 1);
}

TEST_F(CorpusStoreTest, FilterAppliesBeforeTheCutToK) {
  auto store = open();
  ASSERT_TRUE(store->add_document(doc("old", "de", {{"year", 1990}, {"author", "Amt"}}), chunks_of({"brunnen wasser"}),
                                  {axis(0)}, "m1"));
  ASSERT_TRUE(store->add_document(doc("mid", "de", {{"year", 2005}}), chunks_of({"regen wasser"}), {axis(0, 0.5f)},
                                  "m1"));
  ASSERT_TRUE(store->add_document(doc("new", "en", {{"year", 2024}}), chunks_of({"rain water"}), {axis(0, 1.0f)},
                                  "m1"));
  // Unfiltered, "old" is the best; each filter below removes it and k = 1 still answers.
  auto best = store->query("wasser", axis(0), with_k(1));
  ASSERT_TRUE(best && best->size() == 1u);
  EXPECT_EQ(best->front().doc.title, "old");
  auto by_year = store->query("wasser", axis(0), with_k(1, {{"min_year", 2000}}));
  ASSERT_TRUE(by_year && by_year->size() == 1u);
  EXPECT_EQ(by_year->front().doc.title, "mid");
  auto by_lang = store->query("", axis(0), with_k(5, {{"language", "en"}}));
  ASSERT_TRUE(by_lang && by_lang->size() == 1u);
  EXPECT_EQ(by_lang->front().doc.title, "new");
  auto range = store->query("", axis(0), with_k(5, {{"min_year", 2000}, {"max_year", 2010}}));
  ASSERT_TRUE(range && range->size() == 1u);
  EXPECT_EQ(range->front().doc.title, "mid");
  auto meta = store->query("wasser", {}, with_k(5, {{"author", "Amt"}}));
  ASSERT_TRUE(meta && meta->size() == 1u);
  EXPECT_EQ(meta->front().doc.metadata["year"], 1990);
  auto none = store->query("wasser", axis(0), with_k(5, {{"language", "fr"}}));
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  auto bad = store->query("wasser", {}, with_k(5, {{"min_year", "2000"}}));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::bad_request);
  auto not_object = store->query("wasser", {}, with_k(5, Json::array({1})));
  ASSERT_FALSE(not_object.has_value());
  EXPECT_EQ(not_object.error().code, ErrorCode::bad_request);
}

TEST_F(CorpusStoreTest, KMustBeWithinOneToTwenty) {
  auto store = open();
  add_water(*store);
  for (int k : {0, -1, RAG_MAX_K + 1}) {
    auto r = store->query("water", axis(0), with_k(k));
    ASSERT_FALSE(r.has_value()) << k;
    EXPECT_EQ(r.error().code, ErrorCode::bad_request);
  }
  auto one = store->query("water", axis(0), with_k(1));
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->size(), 1u);
  auto max = store->query("water", axis(0), with_k(RAG_MAX_K));
  ASSERT_TRUE(max.has_value());
  EXPECT_EQ(max->size(), 4u);
  auto wrong_dim = store->query("water", std::vector<float>(DIM + 1, 1.0f), with_k(3));
  ASSERT_FALSE(wrong_dim.has_value());
  EXPECT_EQ(wrong_dim.error().code, ErrorCode::bad_request);
}

TEST_F(CorpusStoreTest, HasDocumentPerEmbeddingModel) {
  auto store = open();
  add_water(*store);
  ASSERT_TRUE(store->add_document(doc("lexical"), chunks_of({"no vectors here"}), {}, ""));
  EXPECT_TRUE(store->has_document(cid("water")));
  EXPECT_TRUE(store->has_document(cid("water"), "m1"));
  EXPECT_FALSE(store->has_document(cid("water"), "m2"));
  EXPECT_TRUE(store->has_document(cid("lexical")));
  EXPECT_FALSE(store->has_document(cid("lexical"), "m1"));
  EXPECT_FALSE(store->has_document(cid("absent")));
  // Another model or dimension is refused while the corpus holds m1's vectors.
  auto other = store->add_document(doc("other"), chunks_of({"x"}), {axis(0)}, "m2");
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code, ErrorCode::bad_request);
  auto short_vec = store->add_document(doc("other"), chunks_of({"x"}), {{1.0f, 0.0f}}, "m1");
  ASSERT_FALSE(short_vec.has_value());
  EXPECT_FALSE(store->has_document(cid("other")));
  EXPECT_EQ(store->info().docs, 2);
}

TEST_F(CorpusStoreTest, BadInputLeavesTheCorpusAsItWas) {
  auto store = open();
  add_water(*store);
  const auto nan = std::numeric_limits<float>::quiet_NaN();
  DocumentInfo bad_cid = doc("x");
  bad_cid.doc_cid = "not-a-cid";
  std::vector<Status> results;
  results.push_back(store->add_document(bad_cid, chunks_of({"a"}), {}, ""));
  results.push_back(store->add_document(doc("x"), {}, {}, ""));
  results.push_back(store->add_document(doc("x"), chunks_of({"a", "b"}), {axis(0)}, "m1"));
  results.push_back(store->add_document(doc("x"), chunks_of({"a"}), {std::vector<float>(DIM, nan)}, "m1"));
  results.push_back(store->add_document(doc("x"), chunks_of({"a"}), {std::vector<float>(DIM, 0.0f)}, "m1"));
  results.push_back(store->add_document(doc("x"), chunks_of({"a"}), {axis(0)}, ""));
  results.push_back(store->add_document(doc("x"), chunks_of({""}), {}, ""));
  auto dup = chunks_of({"a", "b"});
  dup[1].ordinal = 0;
  results.push_back(store->add_document(doc("x"), dup, {}, ""));
  for (std::size_t i = 0; i < results.size(); ++i) {
    ASSERT_FALSE(results[i].has_value()) << i;
    EXPECT_EQ(results[i].error().code, ErrorCode::bad_request) << i;
  }
  EXPECT_EQ(store->info().docs, 1);
  EXPECT_EQ(store->info().chunks, 4);
}

TEST_F(CorpusStoreTest, ReplaceAndRemoveDocuments) {
  auto store = open();
  add_water(*store);
  ASSERT_TRUE(store->add_document(doc("water"), chunks_of({"replaced text about wells"}), {axis(6)}, "m1"));
  EXPECT_EQ(store->documents().size(), 1u);
  EXPECT_EQ(store->info().chunks, 1);
  auto old_word = store->query("chlorine", {}, with_k(5));
  ASSERT_TRUE(old_word.has_value());
  EXPECT_TRUE(old_word->empty());
  auto dense = store->query("", axis(3), with_k(5));
  ASSERT_TRUE(dense.has_value());
  ASSERT_EQ(dense->size(), 1u);  // the old four vectors are gone from the index
  EXPECT_EQ(dense->front().text, "replaced text about wells");
  EXPECT_EQ(dense->front().chunk_id, cid("water") + "#0");
  ASSERT_TRUE(store->remove_document(cid("water")));
  EXPECT_TRUE(store->documents().empty());
  EXPECT_FALSE(store->has_document(cid("water")));
  auto after = store->query("wells", axis(6), with_k(5));
  ASSERT_TRUE(after.has_value());
  EXPECT_TRUE(after->empty());
  auto again = store->remove_document(cid("water"));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::not_found);
}

TEST_F(CorpusStoreTest, ReopenRestoresTheIndexFromItsFile) {
  {
    auto store = open();
    add_water(*store);
  }
  auto store = open();
  EXPECT_TRUE(store->open_report().loaded);
  EXPECT_FALSE(store->open_report().rebuilt);
  EXPECT_EQ(store->open_report().added, 0);
  EXPECT_EQ(store->embedding_model(), "m1");
  auto hits = store->query("", axis(1), with_k(1));
  ASSERT_TRUE(hits && hits->size() == 1u);
  EXPECT_EQ(hits->front().ordinal, 1);
  EXPECT_TRUE(store->has_document(cid("water"), "m1"));
}

TEST_F(CorpusStoreTest, TornOrAlteredIndexFileIsRebuilt) {
  {
    auto store = open();
    add_water(*store);
  }
  const fs::path file = corpus_dir() / "vectors.hnsw";
  ASSERT_TRUE(fs::exists(file));
  fs::resize_file(file, fs::file_size(file) / 2);
  {
    auto store = open();
    EXPECT_TRUE(store->open_report().rebuilt);
    auto hits = store->query("", axis(3), with_k(1));
    ASSERT_TRUE(hits && hits->size() == 1u);
    EXPECT_EQ(hits->front().ordinal, 3);
  }
  // Same size, other bytes: the sidecar's hash catches it before hnswlib reads it.
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(file) / 2));
    const char junk[16] = {char(0xff), char(0xff), char(0xff), char(0xff), char(0xff), char(0xff),
                           char(0xff), char(0xff), char(0xff), char(0xff), char(0xff), char(0xff)};
    f.write(junk, sizeof junk);
  }
  {
    auto store = open();
    EXPECT_TRUE(store->open_report().rebuilt);
    auto hits = store->query("", axis(0), with_k(1));
    ASSERT_TRUE(hits && hits->size() == 1u);
    EXPECT_EQ(hits->front().ordinal, 0);
  }
  fs::remove(file);
  auto store = open();
  EXPECT_TRUE(store->open_report().rebuilt);
  EXPECT_TRUE(fs::exists(file));
}

// An index file older than the database: vectors it lacks come back from the database,
// vectors of removed chunks are dropped.
TEST_F(CorpusStoreTest, StaleIndexIsReconciledWithTheDatabase) {
  const fs::path file = corpus_dir() / "vectors.hnsw";
  const fs::path saved = tmp.path() / "saved";
  fs::create_directories(saved);
  {
    auto store = open();
    add_water(*store);
  }
  fs::copy_file(file, saved / "vectors.hnsw");
  fs::copy_file(fs::path(file.string() + ".meta"), saved / "vectors.hnsw.meta");
  {
    auto store = open();
    ASSERT_TRUE(store->add_document(doc("wells"), chunks_of({"deep wells", "shallow wells"}),
                                    {axis(5), axis(6)}, "m1"));
    ASSERT_TRUE(store->remove_document(cid("water")));
  }
  fs::copy_file(saved / "vectors.hnsw", file, fs::copy_options::overwrite_existing);
  fs::copy_file(saved / "vectors.hnsw.meta", fs::path(file.string() + ".meta"), fs::copy_options::overwrite_existing);
  auto store = open();
  EXPECT_TRUE(store->open_report().loaded);
  EXPECT_FALSE(store->open_report().rebuilt);
  EXPECT_EQ(store->open_report().added, 2);
  EXPECT_EQ(store->open_report().dropped, 4);
  auto hits = store->query("", axis(0), with_k(10));
  ASSERT_TRUE(hits.has_value());
  ASSERT_EQ(hits->size(), 2u);  // only the wells; none of water's four
  for (const auto& h : *hits) EXPECT_EQ(h.doc.title, "wells");
  auto six = store->query("", axis(6), with_k(1));
  ASSERT_TRUE(six && six->size() == 1u);
  EXPECT_EQ(six->front().text, "shallow wells");
}

TEST_F(CorpusStoreTest, ReindexCommitSwapsModelAndVectors) {
  auto store = open();
  add_water(*store);
  ASSERT_TRUE(store->add_document(doc("lexical"), chunks_of({"no vectors yet"}), {}, ""));
  std::vector<CorpusStore::StoredChunk> all;
  std::int64_t after = 0;
  while (true) {
    auto page = store->chunks_after(after, 2);
    ASSERT_TRUE(page.has_value());
    if (page->empty()) break;
    after = page->back().id;
    all.insert(all.end(), page->begin(), page->end());
  }
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].doc_cid, cid("water"));
  EXPECT_EQ(all[4].text, "no vectors yet");
  ASSERT_TRUE(store->begin_reindex("m2", 5));
  std::vector<std::int64_t> ids;
  std::vector<std::vector<float>> vectors;
  for (std::size_t i = 0; i < all.size(); ++i) {
    ids.push_back(all[i].id);
    std::vector<float> v(5, 0.0f);
    v[all.size() - 1 - i] = 1.0f;  // reversed: the last chunk on axis 0
    vectors.push_back(v);
  }
  // Not every chunk has its vector yet: commit refuses and keeps the staging.
  ASSERT_TRUE(store->put_reindexed({ids.begin(), ids.begin() + 2}, {vectors.begin(), vectors.begin() + 2}));
  auto early = store->commit_reindex();
  ASSERT_FALSE(early.has_value());
  EXPECT_EQ(early.error().code, ErrorCode::bad_request);
  EXPECT_EQ(store->embedding_model(), "m1");
  ASSERT_TRUE(store->put_reindexed({ids.begin() + 2, ids.end()}, {vectors.begin() + 2, vectors.end()}));
  auto unknown = store->put_reindexed({999999}, {{1, 0, 0, 0, 0}});
  ASSERT_FALSE(unknown.has_value());
  ASSERT_TRUE(store->commit_reindex());
  EXPECT_EQ(store->embedding_model(), "m2");
  EXPECT_EQ(store->dim(), 5);
  EXPECT_TRUE(store->has_document(cid("lexical"), "m2"));
  EXPECT_FALSE(store->has_document(cid("water"), "m1"));
  auto hits = store->query("", {1, 0, 0, 0, 0}, with_k(2));
  ASSERT_TRUE(hits && hits->size() == 2u);
  EXPECT_EQ(hits->front().text, "no vectors yet");
  auto old_dim = store->query("", axis(0), with_k(2));
  ASSERT_FALSE(old_dim.has_value());
  store.reset();
  store = open();
  EXPECT_TRUE(store->open_report().loaded);
  EXPECT_EQ(store->info().embedding_model, "m2");
  auto again = store->query("", {1, 0, 0, 0, 0}, with_k(1));
  ASSERT_TRUE(again && again->size() == 1u);
  EXPECT_EQ(again->front().text, "no vectors yet");
}

TEST_F(CorpusStoreTest, ReindexDroppedBeforeCommitKeepsTheOldVectors) {
  {
    auto store = open();
    add_water(*store);
    ASSERT_TRUE(store->begin_reindex("m2", 4));
    auto page = store->chunks_after(0, 10);
    ASSERT_TRUE(page.has_value());
    ASSERT_TRUE(store->put_reindexed({page->front().id}, {{0, 0, 0, 1}}));
    // Dropped here without commit_reindex (what a crash does).
  }
  auto store = open();
  EXPECT_EQ(store->embedding_model(), "m1");
  EXPECT_EQ(store->dim(), DIM);
  auto hits = store->query("", axis(2), with_k(1));
  ASSERT_TRUE(hits && hits->size() == 1u);
  EXPECT_EQ(hits->front().ordinal, 2);
  auto commit = store->commit_reindex();  // the staged reindex did not survive
  ASSERT_FALSE(commit.has_value());
  EXPECT_EQ(commit.error().code, ErrorCode::bad_request);
}

TEST_F(CorpusStoreTest, AnyTextIsAValidQuery) {
  auto store = open();
  add_water(*store);
  ASSERT_TRUE(store->add_document(doc("ops"), chunks_of({"and or not near water"}), {}, ""));
  for (const char* text : {"\"unbalanced", "AND", "OR OR", "NOT water", "text:water", "water*", "NEAR(a b)",
                           "-water", "^water", "()", "{x}", "a\"b'c", "💧 water", "", "   ", "\\", "'; DROP TABLE chunks;--",
                           "über größe", "water AND"}) {
    auto r = store->query(text, {}, with_k(5));
    ASSERT_TRUE(r.has_value()) << text << ": " << r.error().to_string();
  }
  auto ops = store->query("NOT near", {}, with_k(5));
  ASSERT_TRUE(ops.has_value());
  ASSERT_FALSE(ops->empty());
  EXPECT_EQ(ops->front().doc.title, "ops");
  auto quoted = store->query("\"chlorine", {}, with_k(5));
  ASSERT_TRUE(quoted && !quoted->empty());
  EXPECT_EQ(quoted->front().ordinal, 3);
  EXPECT_EQ(store->info().docs, 2);
}

// A child killed with SIGKILL while add_document's transaction is open: after reopen the
// corpus holds the earlier document whole (its vectors re-added to the index, which was
// never saved) and nothing of the interrupted one; a retry then completes it.
TEST_F(CorpusStoreTest, KilledMidAddLeavesDocumentsWholeOrAbsent) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    auto store = CorpusStore::open(tmp.path(), "handbook");
    if (!store) ::_exit(2);
    if (!(*store)->add_document(doc("water"), chunks_of({"boil rainwater", "chlorine tablets"}), {axis(0), axis(1)},
                                "m1"))
      ::_exit(3);
    set_add_document_hook_for_test([&] {
      const char byte = 1;
      (void)!::write(ready[1], &byte, 1);
      ::pause();
    });
    std::vector<std::string> texts;
    std::vector<std::vector<float>> vectors;
    for (int i = 0; i < 200; ++i) {
      texts.push_back("interrupted zeppelin paragraph " + std::to_string(i));
      vectors.push_back(axis(2 + i % 5, 0.01f * static_cast<float>(i)));
    }
    (void)(*store)->add_document(doc("long"), chunks_of(texts), vectors, "m1");
    ::_exit(4);
  }
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);  // the child is inside the transaction
  ::close(ready[0]);
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));

  auto store = open();
  EXPECT_TRUE(store->has_document(cid("water"), "m1"));
  EXPECT_FALSE(store->has_document(cid("long")));
  EXPECT_EQ(store->info().docs, 1);
  EXPECT_EQ(store->info().chunks, 2);
  EXPECT_EQ(store->open_report().added + (store->open_report().rebuilt ? 2 : 0), 2);
  auto zeppelin = store->query("zeppelin", {}, with_k(5));
  ASSERT_TRUE(zeppelin.has_value());
  EXPECT_TRUE(zeppelin->empty());
  auto dense = store->query("", axis(1), with_k(5));
  ASSERT_TRUE(dense.has_value());
  ASSERT_EQ(dense->size(), 2u);
  EXPECT_EQ(dense->front().text, "chlorine tablets");
  // The retry completes it.
  ASSERT_TRUE(store->add_document(doc("long"), chunks_of({"interrupted zeppelin paragraph"}), {axis(4)}, "m1"));
  auto retried = store->query("zeppelin", axis(4), with_k(5));
  ASSERT_TRUE(retried && retried->size() == 3u);  // dense ranks every vector; fused, "long" leads
  EXPECT_EQ(retried->front().doc.title, "long");
}

// Queries run while documents are added and replaced: none fails, and every hit belongs to
// a document the store holds whole (its chunk count as added).
TEST_F(CorpusStoreTest, QueriesRunWhileWritersAddAndReplace) {
  auto store = open();
  add_water(*store);
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, queries{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      while (!stop.load()) {
        auto r = store->query("shared words", axis(t), with_k(10));
        if (!r) {
          ++failures;
          continue;
        }
        for (const auto& h : *r)
          if (h.doc.chunks != (h.doc.title == "water" ? 4 : 3)) ++failures;
        ++queries;
      }
    });
  }
  for (int i = 0; i < 30; ++i) {
    const std::string name = "doc" + std::to_string(i % 10);  // the last 20 replace
    ASSERT_TRUE(store->add_document(doc(name), chunks_of({"shared words one", "shared words two", "three"}),
                                    {axis(i), axis(i + 1), axis(i + 2)}, "m1"));
  }
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(queries.load(), 0);
  EXPECT_EQ(store->info().docs, 11);
  EXPECT_EQ(store->info().chunks, 34);
}

TEST_F(CorpusStoreTest, ListCorporaAndInfo) {
  {
    auto a = open("alpha");
    ASSERT_TRUE(a->add_document(doc("one", "de"), chunks_of({"eins", "zwei"}), {axis(0), axis(1)}, "m1"));
    ASSERT_TRUE(a->add_document(doc("two", "de"), chunks_of({"drei"}), {axis(2)}, "m1"));
    ASSERT_TRUE(a->add_document(doc("three", "en"), chunks_of({"four"}), {axis(3)}, "m1"));
    auto b = open("beta");
    const CorpusInfo info = a->info();
    EXPECT_EQ(info.name, "alpha");
    EXPECT_EQ(info.docs, 3);
    EXPECT_EQ(info.chunks, 4);
    EXPECT_EQ(info.language_majority, "de");
    EXPECT_EQ(info.embedding_model, "m1");
    EXPECT_EQ(info.dim, DIM);
    EXPECT_GT(info.size_bytes, 0);
    const CorpusInfo empty = b->info();
    EXPECT_EQ(empty.docs, 0);
    EXPECT_EQ(empty.embedding_model, "");
    EXPECT_EQ(empty.dim, 0);
    EXPECT_EQ(empty.language_majority, "");
    const auto docs = a->documents();
    ASSERT_EQ(docs.size(), 3u);
    EXPECT_EQ(docs[0].title, "one");
    EXPECT_EQ(docs[0].chunks, 2);
    EXPECT_EQ(docs[0].tokens, 20);
  }
  fs::create_directories(tmp.path() / "not-a-corpus");
  fs::create_directories(tmp.path() / "Bad_Name");
  std::ofstream(tmp.path() / "Bad_Name" / "corpus.db") << "x";
  EXPECT_EQ(list_corpora(tmp.path()), (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_TRUE(list_corpora(tmp.path() / "missing").empty());
}

// The store's lexical ranking (its in-memory index) is FTS5's bm25() ranking over the same
// database after every kind of write: adds, replaces, removes, a reindex, a reopen, and a
// writer killed inside its transaction (whose words must then be nowhere).
TEST_F(CorpusStoreTest, LexicalIndexAgreesWithFts5AfterEveryWrite) {
  std::mt19937_64 rng(11);
  auto word = [&] {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return "t" + std::to_string(static_cast<int>(std::pow(200.0, u)));
  };
  auto texts = [&](int n) {
    std::vector<std::string> out;
    for (int c = 0; c < n; ++c) {
      std::string t;
      const int words = 2 + static_cast<int>(rng() % 30);
      for (int w = 0; w < words; ++w) t += word() + (w % 7 == 6 ? ". " : " ");
      out.push_back(t);
    }
    return out;
  };
  auto vectors = [&](std::size_t n) {
    std::vector<std::vector<float>> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(axis(static_cast<int>(rng() % DIM), 0.1f));
    return out;
  };
  const fs::path db_file = corpus_dir() / "corpus.db";
  auto agree = [&](CorpusStore& store, const std::string& when) {
    for (int q = 0; q < 25; ++q) {
      const std::string text = word() + " " + word() + (q % 4 == 0 ? " Zeppelin" : " " + word());
      auto got = store.query(text, {}, with_k(20));
      ASSERT_TRUE(got.has_value()) << when;
      std::vector<std::string> ids;
      for (const auto& h : *got) ids.push_back(h.chunk_id);
      EXPECT_EQ(ids, fts5_ranking(db_file, text, 20)) << when << ": " << text;
    }
  };
  {
    auto store = open();
    for (int d = 0; d < 30; ++d) {
      auto t = texts(1 + d % 7);
      ASSERT_TRUE(store->add_document(doc("d" + std::to_string(d)), chunks_of(t), vectors(t.size()), "m1"));
    }
    agree(*store, "added");
    for (int d = 0; d < 30; d += 3) {
      auto t = texts(2 + d % 5);
      ASSERT_TRUE(store->add_document(doc("d" + std::to_string(d)), chunks_of(t), vectors(t.size()), "m1"));
    }
    for (int d = 1; d < 30; d += 4) ASSERT_TRUE(store->remove_document(cid("d" + std::to_string(d))));
    agree(*store, "replaced and removed");
    reindex_all(*store, "m2", DIM, [&](std::size_t n) { return vectors(n); });
    if (HasFatalFailure()) return;
    agree(*store, "reindexed");
  }
  {
    auto store = open();
    EXPECT_GT(store->open_report().lexical_bytes, 0);
    agree(*store, "reopened");
  }
  // A writer killed inside add_document's transaction.
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    auto store = CorpusStore::open(tmp.path(), "handbook");
    if (!store) ::_exit(2);
    set_add_document_hook_for_test([&] {
      const char byte = 1;
      (void)!::write(ready[1], &byte, 1);
      ::pause();
    });
    (void)(*store)->add_document(doc("killed"), chunks_of({"zeppelin t1 t2", "zeppelin t3"}), {axis(0), axis(1)},
                                 "m2");
    ::_exit(4);
  }
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto store = open();
  EXPECT_FALSE(store->has_document(cid("killed")));
  auto zeppelin = store->query("zeppelin", {}, with_k(5));
  ASSERT_TRUE(zeppelin.has_value());
  EXPECT_TRUE(zeppelin->empty());
  agree(*store, "after a kill mid-write");
  // And the next write is seen by both.
  ASSERT_TRUE(store->add_document(doc("killed"), chunks_of({"zeppelin t1 t2", "zeppelin t3"}), {axis(0), axis(1)},
                                  "m2"));
  agree(*store, "retried");
  auto found = store->query("zeppelin", {}, with_k(5));
  ASSERT_TRUE(found && found->size() == 2u);
}

TEST(Retrieval, QueryWordsAreQuotedForFts) {
  EXPECT_EQ(query_words("Wie reinige ich Regenwasser? Regenwasser!"),
            (std::vector<std::string>{"wie", "reinige", "ich", "regenwasser"}));
  EXPECT_EQ(fts_match_expression({"a", "b"}), "\"a\" OR \"b\"");
  EXPECT_EQ(fts_match_expression(query_words("\"(*)\" : ^ -")), "");
  EXPECT_EQ(query_words(std::string(200, 'x') + " " + std::string(100, 'y')).size(), 2u);
}

TEST(Retrieval, ReciprocalRankFusion) {
  const auto fused = fuse_rrf({1, 2, 3}, {3, 4}, {0.9f, 0.8f});
  ASSERT_EQ(fused.size(), 4u);
  EXPECT_EQ(fused[0].id, 3);  // 1/63 + 1/61
  EXPECT_EQ(fused[0].lexical_rank, 3);
  EXPECT_EQ(fused[0].dense_rank, 1);
  EXPECT_NEAR(fused[0].score, 1.0 / 63 + 1.0 / 61, 1e-12);
  EXPECT_EQ(fused[1].id, 1);
  EXPECT_EQ(fused[2].id, 4);  // 1/62 ties with 2's 1/62: the one with a cosine goes first
  EXPECT_EQ(fused[3].id, 2);
}

TEST(Retrieval, FilterConditions) {
  auto f = parse_filter({{"language", "de"}, {"min_year", 2000}, {"max_pages", 10}});
  ASSERT_TRUE(f.has_value());
  DocumentInfo d;
  d.language = "de";
  d.metadata = {{"year", 2010}, {"pages", 10}};
  EXPECT_TRUE(matches(*f, d));
  d.metadata["pages"] = 11;
  EXPECT_FALSE(matches(*f, d));
  d.metadata.erase("pages");
  EXPECT_FALSE(matches(*f, d));  // a missing key never matches
  EXPECT_FALSE(parse_filter({{"max_year", nullptr}}).has_value());
  EXPECT_FALSE(parse_filter("de").has_value());
  EXPECT_TRUE(parse_filter(nullptr).has_value());
}

}  // namespace
}  // namespace hn::services::rag
