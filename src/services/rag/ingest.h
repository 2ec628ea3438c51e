// ingest.h — IngestPipeline (M05 §3.3): a document from the blob store (fetched from the
// mesh with the files service's local-only file.fetch when this node lacks it) → chunks
// (chunker.h, counted with the embedder's own tokenizer when this node has it) →
// embeddings through the bus in batches of at most 256 texts → one atomic
// CorpusStore::add_document → the `rag.document.ingested` event (CONTRACT §7.2).
//
// Order and crashes (doc/design/rag.md "Ingest"): nothing is written before every chunk
// has its vector; the store's commit makes the document whole at once; the event is
// appended after the commit and noted in the ledger (<data_dir>/announced.json). A crash
// between the commit and the append is mended at the next start (announce_missing): the
// log is searched for our event first, so none is appended twice.
// Idempotent (M05 §4.3): a (corpus, doc_cid) already stored with the same embedding model
// returns the stored result without fetching, chunking or embedding anything.
// Bad input (unsupported media type, encrypted / corrupt / text-less PDF, invalid UTF-8)
// is bad_request and leaves the corpus — or its absence — as it was.
//
// Thread-safety: ingest() for different corpora may run concurrently; the caller
// serialises ingests of one corpus. The ledger is internally locked.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "bus/capability.h"
#include "core/encoding.h"
#include "core/error.h"
#include "core/json.h"
#include "service/context.h"
#include "services/rag/bus_embedder.h"
#include "services/rag/corpus_store.h"

namespace hn::services::rag {

struct IngestRequest {
  std::string corpus;
  std::string doc_cid;
  std::string title;       // "" = the blob's file name, else the CID
  std::string language;    // "" = unknown
  std::string media_type;  // "" = the blob manifest's (then sniffed from the bytes / name)
  Json metadata = Json::object();
};

// What rag.ingest_stream's `progress` frames carry.
struct IngestProgress {
  int pages_done = 0;
  int pages_total = 0;
  std::int64_t chunks_done = 0;  // embedded
  std::int64_t chunks_total = 0;
};
// Returning an error stops the ingest (a consumer that went away); nothing is written.
using ProgressFn = std::function<Status(const IngestProgress&)>;

struct IngestResult {
  std::string corpus;
  std::string doc_cid;
  std::string title;
  std::int64_t chunks_indexed = 0;
  std::int64_t tokens_indexed = 0;
  std::string ingest_event_id;  // "" only when appending it failed (retried at start)
  std::string embedding_model;  // "" for a lexical-only ingest (no embedder on the bus)
  std::int64_t ms = 0;
  bool duplicate = false;  // already ingested: nothing was done
  bool created_corpus = false;
};

// Test hooks (environment of the node): HEARTHNET_RAG_KILL_AFTER_BATCHES=N — the node
// SIGKILLs itself after N embedding batches of an ingest (before anything is written);
// HEARTHNET_RAG_KILL_BEFORE_EVENT=1 — after the store's commit, before the event append;
// HEARTHNET_RAG_BATCH_TEXTS=N — embed N texts per call instead of 256 (more batches).
// The test hooks' end: logs where, then SIGKILLs this process.
[[noreturn]] void ingest_kill_self(const char* why);

struct IngestHooks {
  int kill_after_batches = 0;
  bool kill_before_event = false;
  std::size_t batch_texts = 0;  // 0 = EMBED_MAX_TEXTS
  static IngestHooks from_env();
};

// The (corpus, doc_cid) → event id of every rag.document.ingested this node appended.
class EventLedger {
 public:
  explicit EventLedger(std::filesystem::path file);
  Status load();
  std::string find(const std::string& corpus, const std::string& doc_cid) const;
  Status record(const std::string& corpus, const std::string& doc_cid, const std::string& event_id);

 private:
  std::filesystem::path m_file;
  mutable std::mutex m_mutex;
  std::map<std::string, std::string> m_ids;  // "<corpus> <doc_cid>" → event id
};

class IngestPipeline {
 public:
  // Opens (creating) the corpus's store when an ingest is ready to write into a corpus
  // that does not exist yet.
  using CreateStore = std::function<Result<CorpusStore*>()>;

  IngestPipeline(const service::ServiceContext& ctx, BusEmbedder& embedder, IngestHooks hooks);
  Status start();  // loads the ledger

  // `store` null: the corpus does not exist yet (create_store makes it once there is
  // something to write).
  Result<IngestResult> ingest(const IngestRequest& request, CorpusStore* store,
                              const CreateStore& create_store, const ProgressFn& progress,
                              const bus::CancelToken& cancel);
  // Appends the event of every document in `stores` that has none (a crash between commit
  // and append); returns how many it appended.
  Result<int> announce_missing(const std::vector<CorpusStore*>& stores);
  const EventLedger& ledger() const { return m_ledger; }

 private:
  struct Loaded {
    Bytes bytes;
    std::string media_type;
    std::string file_name;
  };
  Result<Loaded> load(const IngestRequest& request, const bus::CancelToken& cancel);
  // The document's chunks and, with a model, their vectors (ingest_stages.cpp): a PDF's
  // pages are chunked in groups on a helper thread while the groups before are embedded, so
  // the embedder waits only for the first group.
  struct Embedded {
    std::vector<Chunk> chunks;
    std::vector<std::vector<float>> vectors;  // empty without a model
  };
  Result<Embedded> chunk_and_embed(const Loaded& doc, const ChunkOptions& options, const std::string& model,
                                   IngestProgress& progress, const ProgressFn& report,
                                   const bus::CancelToken& cancel);
  Result<std::string> announce(const std::string& corpus, const DocumentInfo& doc);

  service::ServiceContext m_ctx;
  BusEmbedder& m_embedder;
  IngestHooks m_hooks;
  EventLedger m_ledger;
};

}  // namespace hn::services::rag
