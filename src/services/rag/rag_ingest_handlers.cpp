// rag_ingest_handlers.cpp — rag.ingest (CONTRACT §4.5), its local-only stream form
// rag.ingest_stream, rag.reindex, and the reindex at start when [rag] embedding_model
// changed (doc/design/rag.md "Reindex").
#include <chrono>
#include <thread>

#include "core/hash.h"
#include "observability/logging.h"
#include "services/rag/rag_service.h"

namespace hn::services::rag {
namespace {

const observability::Logger& rag_log() {
  static const observability::Logger log("rag");
  return log;
}

Error bad(std::string message) { return make_error(ErrorCode::bad_request, std::move(message)); }

constexpr int REINDEX_PAGE = 256;  // chunks read and embedded per step (one embed.text call)

std::int64_t ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
      .count();
}

Result<std::string> corpus_param(const Json& body) {
  const Json params = body.value("params", Json::object());
  if (!params.is_object() || !params.contains("corpus") || !params["corpus"].is_string()) {
    return bad("params.corpus must name a corpus");
  }
  std::string corpus = params["corpus"].get<std::string>();
  if (!valid_corpus_name(corpus)) {
    return bad("corpus \"" + corpus + "\": names are [a-z0-9-]+, at most 64 characters");
  }
  return corpus;
}

Result<IngestRequest> parse_ingest(const Json& body) {
  IngestRequest r;
  HN_TRY_ASSIGN(r.corpus, corpus_param(body));
  if (r.corpus == SYSTEM_CORPUS) return bad("the system corpus is read-only (M05 §4.2)");
  const Json& in = body["input"];
  if (!in.contains("doc_cid") || !in["doc_cid"].is_string() ||
      !is_valid_cid(in["doc_cid"].get_ref<const std::string&>())) {
    return bad("input.doc_cid must be a CID: blake3:<64 hex characters>");
  }
  r.doc_cid = in["doc_cid"].get<std::string>();
  auto text = [&](const char* key, std::string& out, std::size_t max) -> Status {
    auto it = in.find(key);
    if (it == in.end() || it->is_null()) return {};
    if (!it->is_string() || it->get_ref<const std::string&>().size() > max) {
      return bad(std::string("input.") + key + " must be a string of at most " +
                 std::to_string(max) + " bytes");
    }
    out = it->get<std::string>();
    return {};
  };
  HN_TRY(text("title", r.title, 500));
  HN_TRY(text("language", r.language, 35));
  HN_TRY(text("media_type", r.media_type, 255));
  if (auto m = in.find("metadata"); m != in.end() && !m->is_null()) {
    if (!m->is_object()) return bad("input.metadata must be an object");
    if (m->dump().size() > 16384) return bad("input.metadata is larger than 16 KiB");
    r.metadata = *m;
  }
  return r;
}

Json ingest_response(const IngestResult& r) {
  return Json{{"output",
               {{"doc_cid", r.doc_cid},
                {"chunks_indexed", r.chunks_indexed},
                {"tokens_indexed", r.tokens_indexed}}},
              {"meta",
               {{"corpus", r.corpus},
                {"ms", r.ms},
                {"ingest_event_id", r.ingest_event_id},
                {"title", r.title},
                {"embedding_model", r.embedding_model},
                {"duplicate", r.duplicate}}}};
}

}  // namespace

Result<Json> RagService::ingest(const bus::CallContext& ctx, const Json& body,
                                const ProgressFn& progress) {
  HN_TRY_ASSIGN(auto request, parse_ingest(body));
  ++m_ingests;
  auto lock_ptr = writer(request.corpus);
  std::lock_guard lock(*lock_ptr);  // one ingest or reindex of a corpus at a time
  auto store = find(request.corpus);
  IngestPipeline::CreateStore create = [this, &request, &store]() -> Result<CorpusStore*> {
    HN_TRY_ASSIGN(store, open(request.corpus));
    return store.get();
  };
  HN_TRY_ASSIGN(auto result, m_pipeline->ingest(request, store.get(), create, progress, ctx.cancel));
  if (!result.duplicate) reoffer();  // a new corpus, or a corpus's first vectors
  return ingest_response(result);
}

Result<Json> RagService::handle_ingest(const bus::CallContext& ctx, const Json& body) {
  return ingest(ctx, body, {});
}

Result<Json> RagService::handle_ingest_stream(const bus::CallContext& ctx, const Json& body,
                                              const bus::FrameSink& emit) {
  return ingest(ctx, body, [&emit](const IngestProgress& p) -> Status {
    return emit(bus::StreamFrame{"progress", Json{{"pages_done", p.pages_done},
                                                  {"pages_total", p.pages_total},
                                                  {"chunks_done", p.chunks_done},
                                                  {"chunks_total", p.chunks_total}}});
  });
}

Result<Json> RagService::handle_reindex(const bus::CallContext& ctx, const Json& body) {
  const Json& in = body["input"];
  if (!in.contains("corpus") || !in["corpus"].is_string()) return bad("input.corpus must name a corpus");
  std::string model;
  if (auto m = in.find("embedding_model"); m != in.end() && !m->is_null()) {
    if (!m->is_string()) return bad("input.embedding_model must be a string");
    model = m->get<std::string>();
  }
  return reindex(in["corpus"].get<std::string>(), model, ctx.cancel);
}

Result<Json> RagService::reindex(const std::string& corpus, const std::string& requested,
                                 const bus::CancelToken& cancel) {
  const auto t0 = std::chrono::steady_clock::now();
  auto store = find(corpus);
  if (!store) return make_error(ErrorCode::not_found, "no corpus \"" + corpus + "\" on this node");
  const std::string model = !requested.empty() ? requested : m_embedder.choose_model(store->embedding_model());
  if (model.empty() || !m_embedder.offered(model)) {
    return make_error(ErrorCode::partition,
                      model.empty() ? std::string("no embed.text provider on the bus")
                                    : "no embed.text provider of model \"" + model + "\" on the bus");
  }
  ++m_reindexes;
  auto lock_ptr = writer(corpus);
  std::lock_guard lock(*lock_ptr);
  std::int64_t after = 0;
  std::int64_t done = 0;
  int dim = 0;
  for (;;) {
    HN_TRY_ASSIGN(auto page, store->chunks_after(after, REINDEX_PAGE));
    if (page.empty()) break;
    std::vector<std::string> texts;
    std::vector<std::int64_t> ids;
    for (auto& c : page) {
      texts.push_back(std::move(c.text));
      ids.push_back(c.id);
    }
    HN_TRY_ASSIGN(auto vectors, m_embedder.embed(model, texts, cancel));
    if (dim == 0) {
      // The first answer tells the dimension; the old vectors stay until the commit.
      dim = static_cast<int>(vectors.front().size());
      HN_TRY(store->begin_reindex(model, dim));
    }
    HN_TRY(store->put_reindexed(ids, vectors));
    done += static_cast<std::int64_t>(ids.size());
    after = ids.back();
  }
  if (dim > 0) HN_TRY(store->commit_reindex());
  reoffer();  // the corpus's model is in rag.query's params
  rag_log().info("corpus reindexed", Json{{"corpus", corpus}, {"model", model}, {"chunks", done}});
  return Json{{"output", {{"corpus", corpus}, {"embedding_model", model}, {"dim", dim}, {"chunks", done}}},
              {"meta", {{"ms", ms_since(t0)}}}};
}

void RagService::startup_reindex() {
  const std::string& model = m_options.embedding_model;
  if (model.empty()) return;  // "" = whatever the bus offers: nothing to align to
  std::vector<std::string> stale;
  for (const auto& name : corpora()) {
    auto store = find(name);
    if (store && store->embedding_model() != model && store->info().chunks > 0) stale.push_back(name);
  }
  for (const auto& name : stale) {
    // The embedder may start after us, or live on a peer not seen yet: wait for it.
    while (!m_stop.is_cancelled() && !m_embedder.offered(model)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    if (m_stop.is_cancelled()) return;
    rag_log().info("reindexing: [rag] embedding_model changed", Json{{"corpus", name}, {"model", model}});
    if (auto r = reindex(name, model, m_stop); !r) {
      rag_log().warning("reindex failed", Json{{"corpus", name}, {"error", r.error().to_string()}});
    }
  }
  // A reindex done before the host finished registering us could not re-offer yet.
  for (int i = 0; i < 40 && !m_stop.is_cancelled() && !reoffer(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace hn::services::rag
