// corpus_lexical_file_test.cpp — the corpus's lexical index on disk (lexical.idx,
// services/rag/lexical_file.h) on real SQLite files: a reopened store loads it and ranks
// exactly as a store that rebuilt it from the chunks; a file behind the database (a write
// after the last save, a writer killed with SIGKILL before it saved), a torn, altered,
// truncated or malformed one, and a database written without the stamp are each rebuilt
// and right; writes after a load stay right and are saved for the next open.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/file_util.h"
#include "corpus_fixture.h"

namespace hn::services::rag {
namespace {

namespace fs = std::filesystem;
using namespace corpus_test;

// Random prose over a skewed vocabulary t1…t200 (common words match many chunks).
struct Prose {
  std::mt19937_64 rng{23};
  std::string word() {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return "t" + std::to_string(static_cast<int>(std::pow(200.0, u)));
  }
  std::vector<std::string> texts(int n) {
    std::vector<std::string> out;
    for (int c = 0; c < n; ++c) {
      std::string t;
      const int words = 2 + static_cast<int>(rng() % 30);
      for (int w = 0; w < words; ++w) t += word() + (w % 7 == 6 ? ". " : " ");
      out.push_back(t);
    }
    return out;
  }
  std::vector<std::vector<float>> vectors(std::size_t n) {
    std::vector<std::vector<float>> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(axis(static_cast<int>(rng() % DIM), 0.1f));
    return out;
  }
};

class CorpusLexicalFile : public CorpusStoreTest {
 protected:
  fs::path lexical_file() const { return corpus_dir() / "lexical.idx"; }
  fs::path db_file() const { return corpus_dir() / "corpus.db"; }

  void add(CorpusStore& store, const std::string& name, int chunks) {
    auto t = prose.texts(chunks);
    ASSERT_TRUE(store.add_document(doc(name), chunks_of(t), prose.vectors(t.size()), "m1"));
  }
  // 30 documents, a third replaced, some removed: the index has dead slots.
  void fill(CorpusStore& store) {
    for (int d = 0; d < 30; ++d) add(store, "d" + std::to_string(d), 1 + d % 7);
    for (int d = 0; d < 30; d += 3) add(store, "d" + std::to_string(d), 2 + d % 5);
    for (int d = 1; d < 30; d += 4) ASSERT_TRUE(store.remove_document(cid("d" + std::to_string(d))));
  }
  // The store's lexical ranking is FTS5's bm25() ranking over the same database.
  void agree(CorpusStore& store, const std::string& when) {
    Prose q;
    for (int i = 0; i < 25; ++i) {
      const std::string text = q.word() + " " + q.word() + (i % 4 == 0 ? " zeppelin" : " " + q.word());
      auto got = store.query(text, {}, with_k(20));
      ASSERT_TRUE(got.has_value()) << when;
      std::vector<std::string> ids;
      for (const auto& h : *got) ids.push_back(h.chunk_id);
      EXPECT_EQ(ids, fts5_ranking(db_file(), text, 20)) << when << ": " << text;
    }
  }
  // Ids and fused scores of the lexical top 20 for 40 fixed queries.
  std::vector<std::pair<std::string, double>> rankings(CorpusStore& store) {
    Prose q;
    std::vector<std::pair<std::string, double>> out;
    for (int i = 0; i < 40; ++i) {
      auto got = store.query(q.word() + " " + q.word() + " " + q.word(), {}, with_k(20));
      EXPECT_TRUE(got.has_value());
      if (got)
        for (const auto& h : *got) out.emplace_back(h.chunk_id, h.score);
      out.emplace_back("|", 0.0);
    }
    return out;
  }
  bool finds(CorpusStore& store, const std::string& word) {
    auto got = store.query(word, {}, with_k(5));
    return got && !got->empty();
  }
  // Runs `work` on a store opened in a child process, which then kills itself with SIGKILL
  // (no destructor, no save: as a crash).
  void in_killed_child(const std::function<void(CorpusStore&)>& work) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto store = CorpusStore::open(tmp.path(), "handbook");
      if (!store) ::_exit(2);
      work(**store);
      ::kill(::getpid(), SIGKILL);
      ::_exit(3);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child exited with " << WEXITSTATUS(status);
  }
  void write_bytes(const std::string& bytes) {
    std::ofstream(lexical_file(), std::ios::binary | std::ios::trunc) << bytes;
  }
  std::string read_bytes() {
    auto bytes = read_file(lexical_file());
    EXPECT_TRUE(bytes.has_value());
    return bytes ? *bytes : std::string();
  }

  Prose prose;
};

TEST_F(CorpusLexicalFile, AReopenedStoreLoadsItAndRanksAsARebuiltOne) {
  {
    auto store = open();
    EXPECT_FALSE(store->open_report().lexical_loaded);
    EXPECT_EQ(store->open_report().lexical_rebuilt, "missing");
    fill(*store);
  }
  ASSERT_TRUE(fs::exists(lexical_file()));  // saved at close
  std::vector<std::pair<std::string, double>> loaded;
  {
    auto store = open();
    EXPECT_TRUE(store->open_report().lexical_loaded);
    EXPECT_EQ(store->open_report().lexical_rebuilt, "");
    EXPECT_GT(store->open_report().lexical_bytes, 0);
    agree(*store, "loaded");
    loaded = rankings(*store);
  }
  fs::remove(lexical_file());
  {
    auto store = open();
    EXPECT_FALSE(store->open_report().lexical_loaded);
    EXPECT_EQ(store->open_report().lexical_rebuilt, "missing");
    EXPECT_EQ(rankings(*store), loaded);  // the same ids with the same scores
  }
  ASSERT_TRUE(fs::exists(lexical_file()));  // the rebuilt index was saved at once
  auto store = open();
  EXPECT_TRUE(store->open_report().lexical_loaded);
  EXPECT_EQ(rankings(*store), loaded);
  EXPECT_GT(store->info().size_bytes, static_cast<std::int64_t>(fs::file_size(lexical_file())));
}

// A file behind the database: an old copy put back after later writes, and writers killed
// with SIGKILL after their commit but before any save. Each is rebuilt and right; a writer
// that flushed before it was killed leaves a file that loads.
TEST_F(CorpusLexicalFile, AStaleFileIsRebuilt) {
  const fs::path saved = tmp.path() / "saved.idx";
  {
    auto store = open();
    fill(*store);
  }
  fs::copy_file(lexical_file(), saved);
  {
    auto store = open();
    ASSERT_TRUE(store->open_report().lexical_loaded);
    ASSERT_TRUE(store->add_document(doc("late"), chunks_of({"zeppelin over the allotments", "t1 zeppelin"}),
                                    {axis(1), axis(2)}, "m1"));
    ASSERT_TRUE(store->remove_document(cid("d0")));
  }
  fs::copy_file(saved, lexical_file(), fs::copy_options::overwrite_existing);
  {
    auto store = open();
    EXPECT_FALSE(store->open_report().lexical_loaded);
    EXPECT_EQ(store->open_report().lexical_rebuilt.rfind("stale: ", 0), 0u) << store->open_report().lexical_rebuilt;
    EXPECT_TRUE(finds(*store, "zeppelin"));
    agree(*store, "stale copy rebuilt");
  }
  // A replace killed before a save: the file still holds the old chunks.
  in_killed_child([&](CorpusStore& store) {
    (void)store.add_document(doc("late"), chunks_of({"airship t2 t3"}), {axis(4)}, "m1");
  });
  {
    auto store = open();
    EXPECT_FALSE(store->open_report().lexical_loaded);
    EXPECT_EQ(store->open_report().lexical_rebuilt.rfind("stale: ", 0), 0u) << store->open_report().lexical_rebuilt;
    EXPECT_TRUE(finds(*store, "airship"));
    EXPECT_FALSE(finds(*store, "zeppelin"));  // the replaced chunks' word is gone
    agree(*store, "killed after a replace");
  }
  // A remove killed before a save.
  in_killed_child([&](CorpusStore& store) { (void)store.remove_document(cid("late")); });
  {
    auto store = open();
    EXPECT_EQ(store->open_report().lexical_rebuilt.rfind("stale: ", 0), 0u);
    EXPECT_FALSE(finds(*store, "airship"));
    agree(*store, "killed after a remove");
  }
  // flush() saves it: killed after a flush, the next open loads the file.
  in_killed_child([&](CorpusStore& store) {
    (void)store.add_document(doc("flushed"), chunks_of({"balloon t4"}), {axis(5)}, "m1");
    (void)store.flush();
  });
  auto store = open();
  EXPECT_TRUE(store->open_report().lexical_loaded) << store->open_report().lexical_rebuilt;
  EXPECT_TRUE(finds(*store, "balloon"));
  agree(*store, "flushed, then killed");
}

// Torn, truncated, altered, empty, foreign, of another version, or with a right checksum
// over malformed postings: each is refused before use and the index rebuilt from the
// chunks (and saved, so the next open loads it).
TEST_F(CorpusLexicalFile, ACorruptOrTruncatedFileIsRebuilt) {
  {
    auto store = open();
    fill(*store);
  }
  const std::string good = read_bytes();
  ASSERT_GT(good.size(), 200u);
  // The layout (lexical_file.h): magic 8, version 8, writes 8, nonce size 8, the nonce, body
  // length 8, the body, BLAKE3 of all before it (32).
  const std::size_t nonce = static_cast<unsigned char>(good[24]);
  const std::size_t body_at = 32 + nonce + 8;
  auto reframed = [&](std::uint64_t version, std::string body) {
    std::string out = good.substr(0, 32 + nonce);
    for (int i = 0; i < 8; ++i) out[8 + static_cast<std::size_t>(i)] = static_cast<char>((version >> (8 * i)) & 0xFF);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((body.size() >> (8 * i)) & 0xFF));
    out += body;
    const Digest d = blake3_digest(std::span(reinterpret_cast<const std::uint8_t*>(out.data()), out.size()));
    out.append(reinterpret_cast<const char*>(d.data()), d.size());
    return out;
  };
  const std::string body = good.substr(body_at, good.size() - body_at - 32);
  ASSERT_EQ(reframed(1, body), good);  // the test's framing is the file's
  std::string flipped = good;
  flipped[good.size() / 2] = static_cast<char>(flipped[good.size() / 2] ^ 0x10);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"truncated to half", good.substr(0, good.size() / 2)},
      {"one byte short", good.substr(0, good.size() - 1)},
      {"one byte more", good + "x"},
      {"a byte altered", flipped},
      {"empty", ""},
      {"foreign", std::string(4096, 'x')},
      {"another version", reframed(2, body)},
      {"malformed postings, right checksum", reframed(1, body.substr(0, body.size() - 3))},
  };
  for (const auto& [what, bytes] : cases) {
    write_bytes(bytes);
    {
      auto store = open();
      EXPECT_FALSE(store->open_report().lexical_loaded) << what;
      EXPECT_EQ(store->open_report().lexical_rebuilt.rfind("corrupt: ", 0), 0u)
          << what << ": " << store->open_report().lexical_rebuilt;
      agree(*store, what);
    }
    auto store = open();
    EXPECT_TRUE(store->open_report().lexical_loaded) << what << ": saved again after the rebuild";
  }
}

// Adds, a replace, a remove and a reindex after a load: each stays FTS5's ranking, and the
// file saved at close loads with all of them (a reindex changes no text: no rebuild).
TEST_F(CorpusLexicalFile, WritesAfterALoadStayRightAndAreSaved) {
  {
    auto store = open();
    fill(*store);
  }
  {
    auto store = open();
    ASSERT_TRUE(store->open_report().lexical_loaded);
    add(*store, "new", 5);
    agree(*store, "added after load");
    add(*store, "d3", 4);
    agree(*store, "replaced after load");
    ASSERT_TRUE(store->remove_document(cid("d6")));
    agree(*store, "removed after load");
    ASSERT_TRUE(store->add_document(doc("z"), chunks_of({"zeppelin t7"}), {axis(3)}, "m1"));
  }
  {
    auto store = open();
    ASSERT_TRUE(store->open_report().lexical_loaded) << store->open_report().lexical_rebuilt;
    EXPECT_TRUE(finds(*store, "zeppelin"));
    agree(*store, "reopened after writes");
    reindex_all(*store, "m2", DIM, [&](std::size_t n) { return prose.vectors(n); });
    if (HasFatalFailure()) return;
    agree(*store, "reindexed");
  }
  {
    auto store = open();
    EXPECT_TRUE(store->open_report().lexical_loaded) << store->open_report().lexical_rebuilt;
    EXPECT_EQ(store->embedding_model(), "m2");
    agree(*store, "reopened after a reindex");
    for (const auto& d : store->documents()) ASSERT_TRUE(store->remove_document(d.doc_cid));
    EXPECT_FALSE(finds(*store, "zeppelin"));
  }
  auto store = open();
  EXPECT_TRUE(store->open_report().lexical_loaded) << store->open_report().lexical_rebuilt;
  EXPECT_EQ(store->info().chunks, 0);
  EXPECT_FALSE(finds(*store, "t1"));
}

// A database changed without the stamp (as a build before lexical.idx would write it): the
// file's stamp still matches, but its chunks are not the database's — rebuilt.
TEST_F(CorpusLexicalFile, ADatabaseWrittenWithoutTheStampIsCaught) {
  {
    auto store = open();
    fill(*store);
  }
  {
    auto db = events::detail::Db::open(db_file().string(), true);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE(db->exec(
        "BEGIN;"
        "INSERT INTO chunks_fts(chunks_fts, rowid, text, doc_id) SELECT 'delete', id, text, doc_id FROM chunks "
        "WHERE doc_id = (SELECT MAX(id) FROM documents);"
        "DELETE FROM chunks WHERE doc_id = (SELECT MAX(id) FROM documents);"
        "DELETE FROM documents WHERE id = (SELECT MAX(id) FROM documents);"
        "COMMIT;"));
  }
  auto store = open();
  EXPECT_FALSE(store->open_report().lexical_loaded);
  EXPECT_EQ(store->open_report().lexical_rebuilt.rfind("disagrees: ", 0), 0u) << store->open_report().lexical_rebuilt;
  agree(*store, "rebuilt after an unstamped write");
}

}  // namespace
}  // namespace hn::services::rag
