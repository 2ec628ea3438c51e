// rag_service.cpp — lifecycle, the corpus map, capability (re)offers, rag.query and
// rag.list_corpora. Ingest and reindex handlers are in rag_ingest_handlers.cpp.
#include "services/rag/rag_service.h"

#include <algorithm>
#include <chrono>
#include <system_error>

#include "core/hash.h"
#include "observability/logging.h"
#include "services/rag/answer.h"

namespace hn::services::rag {
namespace {

const observability::Logger& rag_log() {
  static const observability::Logger log("rag");
  return log;
}

Error bad(std::string message) { return make_error(ErrorCode::bad_request, std::move(message)); }

std::size_t utf8_chars(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

struct QueryInput {
  std::string corpus;
  std::string text;
  QueryOptions options;
};

Result<QueryInput> parse_query(const Json& body) {
  QueryInput q;
  const Json params = body.value("params", Json::object());
  if (!params.is_object() || !params.contains("corpus") || !params["corpus"].is_string()) {
    return bad("params.corpus must name a corpus");
  }
  q.corpus = params["corpus"].get<std::string>();
  const Json& in = body["input"];
  if (!in.contains("query") || !in["query"].is_string() ||
      in["query"].get_ref<const std::string&>().empty() ||
      utf8_chars(in["query"].get_ref<const std::string&>()) > RAG_QUERY_MAX_CHARS) {
    return bad("input.query must be a text of 1.." + std::to_string(RAG_QUERY_MAX_CHARS) +
               " characters");
  }
  q.text = in["query"].get<std::string>();
  if (auto k = in.find("k"); k != in.end() && !k->is_null()) {
    // CONTRACT §4.4: k ≤ RAG_MAX_K, else bad_request.
    if (!k->is_number_integer() || k->get<std::int64_t>() < 1 || k->get<std::int64_t>() > RAG_MAX_K) {
      return bad("input.k must be 1.." + std::to_string(RAG_MAX_K));
    }
    q.options.k = k->get<int>();
  }
  if (auto f = in.find("filter"); f != in.end() && !f->is_null()) {
    if (!f->is_object()) return bad("input.filter must be an object");
    q.options.filter = *f;
  }
  if (auto t = in.find("include_text"); t != in.end() && !t->is_null()) {
    if (!t->is_boolean()) return bad("input.include_text must be true or false");
    q.options.include_text = t->get<bool>();
  }
  return q;
}

std::int64_t ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
      .count();
}

}  // namespace

RagService::RagService(const service::ServiceContext& ctx, RagOptions options)
    : m_ctx(ctx),
      m_options(std::move(options)),
      m_embedder(ctx.bus, m_options.embedding_model),
      m_pipeline(std::make_unique<IngestPipeline>(m_ctx, m_embedder, m_options.hooks)) {}

RagService::~RagService() { stop(); }

Status RagService::start() {
  if (!m_options.enabled) return {};
  std::error_code ec;
  std::filesystem::create_directories(m_options.corpora_dir, ec);
  if (ec) {
    return make_error(ErrorCode::io_error,
                      "cannot create " + m_options.corpora_dir.string() + ": " + ec.message());
  }
  for (const auto& name : list_corpora(m_options.corpora_dir)) {
    auto store = CorpusStore::open(m_options.corpora_dir, name);
    if (!store) {
      // One unreadable corpus never keeps the node (or the other corpora) down.
      rag_log().warning("corpus not opened", Json{{"corpus", name}, {"error", store.error().to_string()}});
      continue;
    }
    // What the open cost and why (a rebuilt index is the slow path: doc/design/rag.md).
    const IndexReport& opened = (*store)->open_report();
    rag_log().info("corpus opened",
                   Json{{"corpus", name},
                        {"lexical", opened.lexical_loaded ? std::string("loaded") : opened.lexical_rebuilt},
                        {"lexical_ms", opened.lexical_ms},
                        {"vectors", opened.rebuilt ? "rebuilt" : opened.loaded ? "loaded" : "none"}});
    m_corpora[name] = std::shared_ptr<CorpusStore>(std::move(*store));
  }
  HN_TRY(m_pipeline->start());
  // Documents committed before a crash took their event with it get it now.
  std::vector<CorpusStore*> stores;
  for (const auto& [name, store] : m_corpora) stores.push_back(store.get());
  if (auto n = m_pipeline->announce_missing(stores); !n) {
    rag_log().warning("missing rag.document.ingested events not appended",
                      Json{{"error", n.error().to_string()}});
  }
  // Remote providers of rag.query are matched by corpus too, with or without a corpus here.
  m_ctx.bus.router().set_params_predicate(RAG_QUERY, query_params_compatible);
  m_ingest_queue = std::make_shared<WorkQueue>(WorkQueueOptions{"rag-ingest", 2, 16, 5});
  m_stop = bus::CancelToken();
  m_reindexer = std::thread([this] { startup_reindex(); });
  rag_log().info("rag started", Json{{"corpora", corpora()}, {"dir", m_options.corpora_dir.string()}});
  return {};
}

void RagService::stop() {
  m_stop.cancel();
  if (m_reindexer.joinable()) m_reindexer.join();
  if (m_ingest_queue) {
    m_ingest_queue->drain();
    m_ingest_queue->stop();
  }
}

Json RagService::health() const {
  if (!m_options.enabled) return Json{{"enabled", false}};
  Json corpora = Json::object();
  {
    std::lock_guard lock(m_mutex);
    for (const auto& [name, store] : m_corpora) {
      const auto info = store->info();
      corpora[name] = Json{{"docs", info.docs}, {"chunks", info.chunks},
                           {"embedding_model", info.embedding_model}};
    }
  }
  Json h{{"enabled", true},
         {"corpora", corpora},
         {"embedding_model", m_options.embedding_model},
         {"queries", m_queries.load()},
         {"ingests", m_ingests.load()},
         {"reindexes", m_reindexes.load()}};
  if (m_ingest_queue) {
    const auto q = m_ingest_queue->stats();
    // Beside the host's queue (threads counted by NodeOpen's queue test), like files' fetch queue.
    h["extra_queues"] = Json::array(
        {Json{{"name", q.name}, {"threads", q.threads}, {"queued", q.queued}, {"running", q.running}}});
  }
  return h;
}

std::vector<std::string> RagService::corpora() const {
  std::lock_guard lock(m_mutex);
  std::vector<std::string> out;
  for (const auto& [name, store] : m_corpora) out.push_back(name);
  return out;
}

std::shared_ptr<CorpusStore> RagService::find(const std::string& name) const {
  std::lock_guard lock(m_mutex);
  auto it = m_corpora.find(name);
  return it == m_corpora.end() ? nullptr : it->second;
}

Result<std::shared_ptr<CorpusStore>> RagService::open(const std::string& name) {
  std::lock_guard lock(m_mutex);
  if (auto it = m_corpora.find(name); it != m_corpora.end()) return it->second;
  HN_TRY_ASSIGN(auto store, CorpusStore::open(m_options.corpora_dir, name));
  auto shared = std::shared_ptr<CorpusStore>(std::move(store));
  m_corpora[name] = shared;
  return shared;
}

std::shared_ptr<std::mutex> RagService::writer(const std::string& name) {
  std::lock_guard lock(m_mutex);
  auto& m = m_writers[name];
  if (!m) m = std::make_shared<std::mutex>();
  return m;
}

std::map<std::string, std::string> RagService::routable() const {
  std::lock_guard lock(m_mutex);
  std::map<std::string, std::string> out;
  for (const auto& [name, store] : m_corpora) {
    // M05 §4.5: the personal corpus is never routable from other nodes.
    if (name != PERSONAL_CORPUS) out[name] = store->embedding_model();
  }
  return out;
}

// --- capabilities ---

bus::LocalCapability RagService::query_capability(const std::map<std::string, std::string>& corpora) {
  bus::LocalCapability cap;
  cap.descriptor = rag_query_descriptor();
  cap.descriptor.params = query_params(corpora);
  // This node's own entry also takes `personal` (its handler answers the node itself
  // only); peers match with query_params_compatible alone, and personal is in no params.
  cap.params_compatible = [this](const Json& offered, const Json& requested) {
    if (query_params_compatible(offered, requested)) return true;
    return requested.is_object() && requested.value("corpus", Json()) == PERSONAL_CORPUS &&
           find(PERSONAL_CORPUS) != nullptr;
  };
  cap.handler = [this](const bus::CallContext& c, const Json& b) { return handle_query(c, b); };
  return cap;
}

bus::LocalCapability RagService::ingest_capability(const std::map<std::string, std::string>& corpora) {
  bus::LocalCapability cap;
  cap.descriptor = rag_ingest_descriptor();
  Json names = Json::array();
  for (const auto& [name, model] : corpora) names.push_back(name);
  cap.descriptor.params = Json{{"corpora_available", names}};  // M05 §3.5
  cap.handler = [this](const bus::CallContext& c, const Json& b) { return handle_ingest(c, b); };
  cap.executor = m_ingest_queue;  // long work: never holds the query threads
  return cap;
}

std::vector<bus::LocalCapability> RagService::capabilities() {
  if (!m_options.enabled) return {};
  const auto corpora = routable();
  const bool personal = find(PERSONAL_CORPUS) != nullptr;
  std::vector<bus::LocalCapability> caps;
  {
    std::lock_guard lock(m_offer_mutex);
    m_offered = corpora;
    m_offered_personal = personal;
  }
  // rag.query only while a corpus is here (a query for another routes away).
  if (!corpora.empty() || personal) caps.push_back(query_capability(corpora));
  caps.push_back(ingest_capability(corpora));

  bus::LocalCapability list;
  list.descriptor = rag_list_corpora_descriptor();
  list.handler = [this](const bus::CallContext& c, const Json& b) { return handle_list_corpora(c, b); };
  caps.push_back(std::move(list));

  bus::LocalCapability stream;
  stream.descriptor = rag_ingest_stream_descriptor();
  stream.stream_handler = [this](const bus::CallContext& c, const Json& b, const bus::FrameSink& e) {
    return handle_ingest_stream(c, b, e);
  };
  stream.executor = m_ingest_queue;
  caps.push_back(std::move(stream));

  bus::LocalCapability reindex;
  reindex.descriptor = rag_reindex_descriptor();
  reindex.handler = [this](const bus::CallContext& c, const Json& b) { return handle_reindex(c, b); };
  reindex.executor = m_ingest_queue;
  caps.push_back(std::move(reindex));

  // rag.answer@1.0 (answer.h: ask with sources, local-only), on the service's own queue.
  caps.push_back(rag_answer_capability(m_ctx.bus));
  return caps;
}

bool RagService::reoffer() {
  std::lock_guard lock(m_offer_mutex);
  const auto corpora = routable();
  const bool personal = find(PERSONAL_CORPUS) != nullptr;
  if (corpora == m_offered && personal == m_offered_personal) return true;
  auto offer = [this](bus::LocalCapability cap) -> Status {
    if (m_ctx.offer) return m_ctx.offer(std::move(cap));
    return m_ctx.bus.register_capability(std::move(cap), {"rag"});  // a context built by hand
  };
  Status s = offer(query_capability(corpora));
  if (s) s = offer(ingest_capability(corpora));
  if (!s) {
    rag_log().warning("rag.query not re-offered", Json{{"error", s.error().to_string()}});
    return false;
  }
  m_offered = corpora;
  m_offered_personal = personal;
  Json names = Json::array();
  for (const auto& [name, model] : corpora) names.push_back(name);
  rag_log().info("rag.query offered", Json{{"corpora", names}});
  return true;
}

// --- rag.query ---

Result<Json> RagService::handle_query(const bus::CallContext& ctx, const Json& body) {
  const auto t0 = std::chrono::steady_clock::now();
  HN_TRY_ASSIGN(auto q, parse_query(body));
  ++m_queries;
  auto store = find(q.corpus);
  // M05 §4.5: personal answers the node itself only.
  if (!store || (q.corpus == PERSONAL_CORPUS && ctx.request.caller != m_ctx.node_id)) {
    return make_error(ErrorCode::not_found, "no corpus \"" + q.corpus + "\" on this node");
  }
  const std::string model = store->embedding_model();
  std::vector<float> vector;
  std::string lexical_reason;
  if (model.empty()) {
    lexical_reason = "the corpus has no embeddings";
  } else {
    auto v = m_embedder.embed(model, {q.text}, ctx.cancel);
    if (v && v->size() == 1 && static_cast<int>(v->front().size()) == store->dim()) {
      vector = std::move(v->front());
    } else {
      // No embedder of the corpus's model on the bus: BM25 alone, and the answer says so.
      lexical_reason = v ? "the embedder answered another dimension"
                         : "no embed.text provider of " + model + ": " + v.error().message;
    }
  }
  HN_TRY_ASSIGN(auto hits, store->query(q.text, vector, q.options));
  Json chunks = Json::array();
  for (const auto& h : hits) {
    chunks.push_back(Json{{"rank", h.rank},
                          {"score", h.score},
                          {"text", h.text},
                          {"metadata",
                           {{"doc_cid", h.doc.doc_cid},
                            {"doc_title", h.doc.title},
                            {"page", h.page},
                            {"chunk_id", h.chunk_id}}}});
  }
  Json meta{{"corpus", q.corpus},
            {"ms", ms_since(t0)},
            {"embedding_model", model},
            {"retrieval", vector.empty() ? "lexical" : "hybrid"}};
  if (!lexical_reason.empty()) meta["lexical_reason"] = lexical_reason;
  return Json{{"output", {{"chunks", std::move(chunks)}}}, {"meta", std::move(meta)}};
}

// --- rag.list_corpora ---

Result<Json> RagService::handle_list_corpora(const bus::CallContext& ctx, const Json&) {
  const auto t0 = std::chrono::steady_clock::now();
  const bool self = ctx.request.caller == m_ctx.node_id;
  std::vector<std::shared_ptr<CorpusStore>> stores;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& [name, store] : m_corpora) {
      if (name != PERSONAL_CORPUS || self) stores.push_back(store);
    }
  }
  Json out = Json::array();
  for (const auto& store : stores) {
    const auto info = store->info();
    out.push_back(Json{{"name", info.name},
                       {"docs", info.docs},
                       {"chunks", info.chunks},
                       {"size_bytes", info.size_bytes},
                       {"language_majority",
                        info.language_majority.empty() ? Json(nullptr) : Json(info.language_majority)},
                       {"embedding_model", info.embedding_model},
                       {"dim", info.dim}});
  }
  return Json{{"output", {{"corpora", std::move(out)}}}, {"meta", {{"ms", ms_since(t0)}}}};
}

std::unique_ptr<bus::Service> make_service(const service::ServiceContext& ctx) {
  RagOptions o;
  o.enabled = ctx.config.rag.enabled;
  // The node hands services resolved paths; a context built by hand may leave it empty.
  o.corpora_dir = ctx.config.rag.corpora_dir.empty() ? ctx.data_dir / "corpora"
                                                     : ctx.config.rag.corpora_dir;
  o.embedding_model = ctx.config.rag.embedding_model;
  o.hooks = IngestHooks::from_env();
  return std::make_unique<RagService>(ctx, std::move(o));
}

}  // namespace hn::services::rag
