// rag_service.h — the RAG service (M05): rag.query, rag.ingest and rag.list_corpora @1.0
// (CONTRACT §4.4–4.6) over one CorpusStore per corpus under [rag] corpora_dir, and the
// local-only extensions rag.ingest_stream and rag.reindex (doc/design/rag.md).
//
// Capabilities:
//   rag.query        member   one registry entry per node (the registry keys entries by node,
//                             name and version) whose params name every corpus it holds —
//                             {"corpus": <first>, "corpora": [..], "embedding_model",
//                             "embedding_models": {corpus: model}, "k_max"} — and a params
//                             predicate (the requested corpus is one of them), so a query for
//                             a corpus on another node routes there. Not offered while the
//                             node holds no corpus; `personal` is in no params (peers never
//                             route to it), only this node's own entry takes it.
//                             Re-offered (ServiceContext::offer) when an ingest creates a
//                             corpus or a reindex changes a model.
//   rag.ingest       trusted  params {"corpus"}: a document already in (or fetchable into)
//                             the blob store into a corpus; idempotent by (corpus, doc_cid,
//                             embedding model).
//   rag.list_corpora member   the corpora here (`personal` only for the node itself).
//   rag.ingest_stream self    the same ingest as a stream: `progress` frames {pages_done,
//                             pages_total, chunks_done, chunks_total}, then `done` carrying
//                             rag.ingest's response (the CLI's progress bar).
//   rag.reindex      self     {corpus, embedding_model?}: re-embed every chunk through the bus.
// rag.answer (answer.h, the ask-with-sources flow) is added in capabilities().
//
// At start: every corpus on disk is opened; documents whose rag.document.ingested event
// never made it to the log (a crash between the store's commit and the append) get it now;
// a corpus embedded with another model than [rag] embedding_model is re-embedded in the
// background (queries keep the old vectors until the new ones are committed).
//
// Thread-safety: handlers run concurrently on the service's queue (queries) and on its
// ingest queue (ingest, reindex); the corpus map is under a mutex, each CorpusStore is
// thread-safe, and ingests and reindexes of one corpus take turns on that corpus's lock.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bus/service.h"
#include "core/work_queue.h"
#include "service/context.h"
#include "services/rag/bus_embedder.h"
#include "services/rag/corpus_store.h"
#include "services/rag/ingest.h"

namespace hn::services::rag {

inline constexpr const char* RAG_QUERY = "rag.query";
inline constexpr const char* RAG_INGEST = "rag.ingest";
inline constexpr const char* RAG_LIST_CORPORA = "rag.list_corpora";
inline constexpr const char* RAG_INGEST_STREAM = "rag.ingest_stream";
inline constexpr const char* RAG_REINDEX = "rag.reindex";
// M05 §4.2: reserved corpus names.
inline constexpr const char* PERSONAL_CORPUS = "personal";  // never offered to peers
inline constexpr const char* SYSTEM_CORPUS = "system";      // read-only: never ingested into
inline constexpr int RAG_QUERY_MAX_CHARS = 4000;

// The descriptors (descriptors.cpp). rag.query's params are filled per node (query_params).
bus::CapabilityDescriptor rag_query_descriptor();
bus::CapabilityDescriptor rag_ingest_descriptor();
bus::CapabilityDescriptor rag_list_corpora_descriptor();
bus::CapabilityDescriptor rag_ingest_stream_descriptor();
bus::CapabilityDescriptor rag_reindex_descriptor();
// rag.query's params for the routable corpora (name → embedding model).
Json query_params(const std::map<std::string, std::string>& corpora);
// M05 §3.5: the requested corpus is one this provider holds ("corpus" or in "corpora").
bool query_params_compatible(const Json& offered, const Json& requested);

struct RagOptions {
  bool enabled = true;
  std::filesystem::path corpora_dir;
  std::string embedding_model;  // [rag] embedding_model; "" = whatever the bus offers
  IngestHooks hooks;            // test hooks (ingest.h)
};

class RagService final : public bus::Service {
 public:
  RagService(const service::ServiceContext& ctx, RagOptions options);
  ~RagService() override;

  std::string name() const override { return "rag"; }
  std::string version() const override { return "1.0.0"; }
  std::vector<bus::LocalCapability> capabilities() override;
  bus::ExecutionSpec execution() const override { return {4, 64}; }
  Status start() override;
  void stop() override;
  Json health() const override;

  // The handlers (public for tests).
  Result<Json> handle_query(const bus::CallContext& ctx, const Json& body);
  Result<Json> handle_ingest(const bus::CallContext& ctx, const Json& body);
  Result<Json> handle_ingest_stream(const bus::CallContext& ctx, const Json& body,
                                    const bus::FrameSink& emit);
  Result<Json> handle_list_corpora(const bus::CallContext& ctx, const Json& body);
  Result<Json> handle_reindex(const bus::CallContext& ctx, const Json& body);

  // Re-embeds every chunk of `corpus` with `model` ("" = the configured or offered one).
  Result<Json> reindex(const std::string& corpus, const std::string& model,
                       const bus::CancelToken& cancel);
  // Names of the corpora open here, sorted.
  std::vector<std::string> corpora() const;

 private:
  Result<Json> ingest(const bus::CallContext& ctx, const Json& body, const ProgressFn& progress);
  std::shared_ptr<CorpusStore> find(const std::string& name) const;
  // The corpus's store, opened (and created) when it is not open yet.
  Result<std::shared_ptr<CorpusStore>> open(const std::string& name);
  // The lock that ingests and reindexes of one corpus take turns on.
  std::shared_ptr<std::mutex> writer(const std::string& name);
  // Offers rag.query / rag.ingest again when the corpora or their models changed; false
  // when the host refused (not hosted yet, or stopping): the next call tries again.
  bool reoffer();
  bus::LocalCapability query_capability(const std::map<std::string, std::string>& corpora);
  bus::LocalCapability ingest_capability(const std::map<std::string, std::string>& corpora);
  // The corpora peers may query (all but personal) → embedding model.
  std::map<std::string, std::string> routable() const;
  // At start: re-embeds corpora whose model is not [rag] embedding_model (background).
  void startup_reindex();

  service::ServiceContext m_ctx;
  RagOptions m_options;
  BusEmbedder m_embedder;
  std::unique_ptr<IngestPipeline> m_pipeline;
  std::shared_ptr<WorkQueue> m_ingest_queue;  // long work beside the query threads

  mutable std::mutex m_mutex;  // the two maps below
  std::map<std::string, std::shared_ptr<CorpusStore>> m_corpora;
  std::map<std::string, std::shared_ptr<std::mutex>> m_writers;
  std::mutex m_offer_mutex;                       // serialises re-offers
  std::map<std::string, std::string> m_offered;  // what rag.query's params say now
  bool m_offered_personal = false;               // rag.query offered for personal (locally)

  bus::CancelToken m_stop;
  std::thread m_reindexer;
  std::atomic<std::int64_t> m_queries{0};
  std::atomic<std::int64_t> m_ingests{0};
  std::atomic<std::int64_t> m_reindexes{0};
};

// The service host's factory (src/node/service_list.cpp): config.rag, the test hooks of
// ingest.h. With config.rag.enabled false it offers nothing.
std::unique_ptr<bus::Service> make_service(const service::ServiceContext& ctx);

}  // namespace hn::services::rag
