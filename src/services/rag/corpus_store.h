// corpus_store.h — one corpus on disk (M05 §3.2): a SQLite file (documents, chunks,
// their metadata and an FTS5 index over chunk text) and beside it a persisted hnswlib
// index of the chunks' vectors (cosine). Retrieval is hybrid: BM25 (FTS5's bm25(), from an
// in-memory inverted index of the FTS5 tokenizer's terms, lexical_index.h) and dense
// cosine from hnswlib, fused by reciprocal rank; lexical alone when the caller has no
// query vector (no embedder on the bus).
//
// Layout: <dir>/<corpus>/corpus.db and <dir>/<corpus>/vectors.hnsw (+ vectors.hnsw.meta,
// the index's tag and hash). The database is the truth and holds every vector; the index
// file is a cache, saved at close and every few thousand changes, and reconciled with the
// database on open; the lexical index lives in memory, updated after each commit, and is
// saved beside it (lexical.idx, tagged with the database's text stamp) and loaded on open
// when the stamps agree, else rebuilt from the chunks (doc/design/rag.md "Corpus store").
//
// Thread-safety: one CorpusStore may be used from several threads; writes are
// serialised inside, queries run concurrently with each other.
// Invariants: add_document is atomic — after a crash (kill -9) at any point the corpus
// holds the document whole or not at all, and the vector index agrees with the database
// (missing vectors are re-added from the database on open), as the lexical index does (a
// file whose stamp is not the database's, or that fails its checksum, is rebuilt from the
// chunks on open). A corpus has one embedding
// model and dimension at a time; reindex replaces every vector.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "services/rag/chunker.h"

namespace hn::services::rag {

// [a-z0-9-]+, at most 64 characters (M05 §4.2).
bool valid_corpus_name(std::string_view name);

struct DocumentInfo {
  std::string doc_cid;  // "blake3:…"
  std::string title;
  std::string language;  // "" when unknown
  std::string media_type;
  Json metadata = Json::object();  // the caller's (author, year, …)
  std::int64_t chunks = 0;
  std::int64_t tokens = 0;
};

struct CorpusInfo {
  std::string name;
  std::int64_t docs = 0;
  std::int64_t chunks = 0;
  std::int64_t size_bytes = 0;       // the files on disk
  std::string language_majority;     // "" when no document names one
  std::string embedding_model;       // "" for a lexical-only corpus
  int dim = 0;
};

struct QueryOptions {
  int k = RAG_DEFAULT_K;             // 1..RAG_MAX_K
  Json filter = Json::object();      // equality on document fields or metadata keys;
                                     // "min_<key>" / "max_<key>" compare numbers
  bool include_text = true;
};

struct ScoredChunk {
  int rank = 0;          // from 1
  double score = 0;      // the fused score, higher = better
  std::string text;      // empty unless include_text
  std::string chunk_id;  // stable: "<doc_cid>#<ordinal>"
  int page = 0;
  int ordinal = 0;
  DocumentInfo doc;      // without metadata tokens/chunks counts filled only if cheap
};

// What open did to the vector index and the lexical index (tests, the bench and the
// doctor read it).
struct IndexReport {
  bool loaded = false;       // read from vectors.hnsw
  bool rebuilt = false;      // rebuilt from the database (file missing, torn, stale, sparse)
  std::int64_t added = 0;    // vectors the file lacked, re-added from the database
  std::int64_t dropped = 0;  // vectors of chunks the database no longer holds
  bool lexical_loaded = false;     // the lexical index read from lexical.idx
  std::string lexical_rebuilt;     // why it was rebuilt from the chunks instead ("" = loaded):
                                   // "missing", "stale: …", "corrupt: …", "disagrees: …"
  std::int64_t lexical_ms = 0;     // loading it, or rebuilding (and saving) it
  std::int64_t lexical_bytes = 0;  // its size in memory, about
};

class CorpusStore {
 public:
  // Opens or creates <dir>/<name>. bad_request for an invalid name; storage_error when
  // the files cannot be opened.
  static Result<std::unique_ptr<CorpusStore>> open(const std::filesystem::path& dir, const std::string& name);
  ~CorpusStore();
  CorpusStore(const CorpusStore&) = delete;
  CorpusStore& operator=(const CorpusStore&) = delete;

  const std::string& name() const;
  std::string embedding_model() const;  // "" until the first vectors are added
  int dim() const;

  // Whether doc_cid is in the corpus with vectors from `embedding_model` ("" = any).
  bool has_document(const std::string& doc_cid, const std::string& embedding_model = "") const;

  // Adds one document with its chunks and one vector per chunk (vectors may be empty for
  // a lexical-only ingest; else vectors.size() == chunks.size(), every vector of dim()).
  // Replaces an earlier version of the same doc_cid. bad_request on a model/dimension
  // mismatch with the corpus (reindex first).
  Status add_document(const DocumentInfo& doc, const std::vector<Chunk>& chunks,
                      const std::vector<std::vector<float>>& vectors, const std::string& embedding_model);

  Status remove_document(const std::string& doc_cid);

  // Hybrid retrieval; query_vector empty = lexical only, text without words = dense only.
  // bad_request for k outside 1..RAG_MAX_K, a malformed filter, or a query vector whose
  // dimension is not the corpus's. The filter applies before the ranking is cut to k.
  Result<std::vector<ScoredChunk>> query(const std::string& text, const std::vector<float>& query_vector,
                                         const QueryOptions& options) const;

  // For reindex: every chunk of the corpus in (doc, ordinal) order, in pages of `limit`.
  struct StoredChunk {
    std::int64_t id = 0;
    std::string doc_cid;
    std::string text;
  };
  Result<std::vector<StoredChunk>> chunks_after(std::int64_t after_id, int limit) const;
  // Replaces the corpus's vectors: begin (new model and dim), put pages of vectors by
  // chunk id, commit swaps the index in atomically (a crash before commit keeps the old).
  Status begin_reindex(const std::string& embedding_model, int dim);
  Status put_reindexed(const std::vector<std::int64_t>& ids, const std::vector<std::vector<float>>& vectors);
  Status commit_reindex();

  std::vector<DocumentInfo> documents() const;  // in the order they were added
  CorpusInfo info() const;

  const IndexReport& open_report() const;
  // Saves the vector and lexical indexes now (they are also saved on destruction and every
  // few thousand changes); the database needs no flush.
  Status flush();

  struct Impl;  // corpus_store_impl.h, for the store's own source files

 private:
  explicit CorpusStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// The corpora under dir (each folder holding a corpus.db), sorted.
std::vector<std::string> list_corpora(const std::filesystem::path& dir);

// Test only: called inside add_document's transaction, after every row is written and
// before the commit (the crash test sleeps there to be killed). Empty = none.
void set_add_document_hook_for_test(std::function<void()> hook);

}  // namespace hn::services::rag
