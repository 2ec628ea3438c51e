// corpus_store_impl.h — CorpusStore's state, shared by its three source files
// (corpus_store.cpp: open, reconcile, info; corpus_write.cpp: add, remove, reindex;
// corpus_query.cpp: retrieval). Not for use outside them.
//
// Thread-safety: `write_mutex` serialises writers (one SQLite writer per database) and
// guards the writer's tokenizer; `state_mutex` guards the in-memory state (model, vector
// index, lexical index and its text stamp, document cache): queries hold it
// shared for their whole run, writers take it exclusively only to apply a committed change.
// A query may therefore see rows committed a moment before the cache knows them; it skips
// chunks of documents the cache does not hold, so it never returns half a document.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "events/detail/sqlite.h"
#include "services/rag/corpus_store.h"
#include "services/rag/fts_tokenizer.h"
#include "services/rag/lexical_file.h"
#include "services/rag/lexical_index.h"
#include "services/rag/vector_index.h"

namespace hn::services::rag {

namespace fs = std::filesystem;
using events::detail::Db;
using events::detail::Stmt;

// Save an index (vectors, lexical) once this many changes are unsaved (or an eighth of its size).
inline constexpr std::int64_t INDEX_SAVE_EVERY = 4096;
// A filtered dense query scores every allowed chunk exactly up to this many chunks.
inline constexpr std::int64_t EXACT_FILTER_LIMIT = 20000;

// A shared mutex that lets a waiting writer in before new readers: glibc's rwlock prefers
// readers, so a steady stream of queries would starve ingest. A writer holds the gate while
// it waits; readers pass the gate only to take their shared lock. (No thread takes it
// shared twice, which the gate would deadlock.)
class WriterFirstMutex {
 public:
  void lock() {
    std::lock_guard gate(m_gate);
    m_rw.lock();
  }
  void unlock() { m_rw.unlock(); }
  void lock_shared() {
    std::lock_guard gate(m_gate);
    m_rw.lock_shared();
  }
  void unlock_shared() { m_rw.unlock_shared(); }

 private:
  std::mutex m_gate;
  std::shared_mutex m_rw;
};

struct DocEntry {
  DocumentInfo info;
  std::string model;  // "" when its chunks have no vectors
  std::int64_t first_chunk = 0;  // chunk ids of one document are contiguous (one transaction)
  std::int64_t last_chunk = -1;
};

struct CorpusStore::Impl {
  fs::path dir;
  fs::path db_path;
  fs::path index_path;
  fs::path lexical_path;
  std::string name;

  std::mutex write_mutex;  // held by every writer for its whole run
  Db db;                   // the writer's connection
  std::unique_ptr<FtsTokenizer> write_tokenizer;  // chunk texts, under write_mutex

  std::mutex query_tokenizer_mutex;
  std::unique_ptr<FtsTokenizer> query_tokenizer;  // query texts, under its mutex

  std::mutex readers_mutex;
  std::vector<Db> readers;  // idle read-only connections

  mutable WriterFirstMutex state_mutex;  // guards everything below
  std::string model;          // the corpus's embedding model; "" before any vector
  int dim = 0;
  std::int64_t generation = 0;  // bumped by each committed reindex
  std::unique_ptr<VectorIndex> index;  // null while dim == 0
  LexicalIndex lexical;                // every chunk's terms (BM25)
  TextStamp text_stamp;                // the database's text stamp that `lexical` reflects
  std::unordered_map<std::int64_t, DocEntry> docs;  // by document row id
  std::unordered_map<std::string, std::int64_t> doc_ids;  // doc_cid → row id
  std::map<std::int64_t, std::int64_t> doc_by_first_chunk;  // first chunk id → row id
  std::int64_t unsaved = 0;          // vector changes since vectors.hnsw was saved
  // The text stamp lexical.idx holds, when it holds the current one or an older one this
  // store wrote; nullopt when unknown (no file, or another's). Under write_mutex.
  std::optional<TextStamp> lexical_saved;
  std::int64_t lexical_unsaved = 0;  // chunks added or removed since lexical.idx was saved
  IndexReport report;

  // Reindex in progress (guarded by write_mutex).
  bool reindexing = false;
  std::string reindex_model;
  int reindex_dim = 0;

  // A read-only connection for one query, back to the pool when done.
  class Reader {
   public:
    Reader(Impl& impl, Db db) : m_impl(impl), m_db(std::move(db)) {}
    ~Reader();
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    Db& db() { return m_db; }

   private:
    Impl& m_impl;
    Db m_db;
  };
  Result<std::unique_ptr<Reader>> reader();

  Json index_tag() const { return Json{{"model", model}, {"dim", dim}, {"generation", generation}}; }
  // The document holding a chunk id (row id), or -1.
  std::int64_t doc_of_chunk(std::int64_t chunk_id) const;
  // Under the exclusive state lock: the cache's view of one document.
  void cache_put(std::int64_t id, DocEntry entry);
  void cache_erase(std::int64_t id);
  // Under write_mutex and a state lock: saves the vector index when enough changes are
  // unsaved (or `force`), and the lexical index with it, or when enough of its own changes
  // are unsaved (or `force`) and the file is behind.
  Status save_indexes(bool force);
};

// Reads a float32 little-endian vector blob of `dim` floats; false when the size differs.
bool blob_to_vector(std::string_view blob, int dim, std::vector<float>& out);
std::string_view vector_to_blob(const std::vector<float>& v);

// A fresh index of every vector of `dim` floats in the database (hnsw insertions on every core).
Result<std::unique_ptr<VectorIndex>> build_index(Db& db, int dim);

// A chunk a write removed: its id and text (for the lexical index to forget its terms).
struct RemovedChunk {
  std::int64_t id = 0;
  std::string text;
};

// A value of the meta table ("" when absent), and one as an integer (0 when absent or not one).
Result<std::string> meta_value(Db& db, std::string_view key);
std::int64_t to_int(const std::string& text);

// Runs work inside BEGIN IMMEDIATE … COMMIT, rolling back on any error.
Status in_transaction(Db& db, const std::function<Status()>& work);

}  // namespace hn::services::rag
