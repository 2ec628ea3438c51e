// ingest.cpp — IngestPipeline and its event ledger.
#include "services/rag/ingest.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <span>

#include "blobs/store.h"
#include "core/file_util.h"
#include "events/event_log.h"
#include "observability/logging.h"

namespace hn::services::rag {
namespace {

const Version V10{1, 0};
constexpr const char* FILE_FETCH = "file.fetch";  // the files service's local-only fetch

const observability::Logger& ingest_log() {
  static const observability::Logger log("rag.ingest");
  return log;
}

Error bad(std::string message) { return make_error(ErrorCode::bad_request, std::move(message)); }

std::int64_t ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
      .count();
}

// "Text/Plain; charset=utf-8" → "text/plain".
std::string normalise_media_type(std::string type) {
  if (auto semi = type.find(';'); semi != std::string::npos) type.resize(semi);
  while (!type.empty() && type.back() == ' ') type.pop_back();
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type;
}

// When the manifest names no useful type: the PDF magic, else the file name's extension.
std::string sniff_media_type(const Bytes& bytes, const std::string& name) {
  static constexpr std::string_view PDF_MAGIC = "%PDF-";
  if (bytes.size() >= PDF_MAGIC.size() &&
      std::equal(PDF_MAGIC.begin(), PDF_MAGIC.end(), bytes.begin())) {
    return "application/pdf";
  }
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0;
  };
  if (ends(".md") || ends(".markdown")) return "text/markdown";
  if (ends(".txt")) return "text/plain";
  return {};
}

std::string ledger_key(const std::string& corpus, const std::string& doc_cid) {
  return corpus + " " + doc_cid;
}


}  // namespace

[[noreturn]] void ingest_kill_self(const char* why) {
  ingest_log().warning("test hook: killing the node", Json{{"at", why}});
  ::kill(::getpid(), SIGKILL);
  std::abort();
}

IngestHooks IngestHooks::from_env() {
  IngestHooks h;
  if (const char* v = std::getenv("HEARTHNET_RAG_KILL_AFTER_BATCHES")) h.kill_after_batches = std::atoi(v);
  if (const char* v = std::getenv("HEARTHNET_RAG_KILL_BEFORE_EVENT")) h.kill_before_event = std::string(v) == "1";
  if (const char* v = std::getenv("HEARTHNET_RAG_BATCH_TEXTS")) {
    const int n = std::atoi(v);
    if (n > 0) h.batch_texts = static_cast<std::size_t>(n);
  }
  return h;
}

// --- EventLedger ---

EventLedger::EventLedger(std::filesystem::path file) : m_file(std::move(file)) {}

Status EventLedger::load() {
  std::error_code ec;
  if (!std::filesystem::exists(m_file, ec)) return {};
  HN_TRY_ASSIGN(auto text, read_file(m_file));
  auto j = parse_json(text);
  std::lock_guard lock(m_mutex);
  m_ids.clear();
  if (!j || !j->is_object()) {
    // A torn ledger costs nothing: announce_missing finds our events in the log.
    ingest_log().warning("ledger unreadable; rebuilt from the event log", Json{{"file", m_file.string()}});
    return {};
  }
  for (auto it = j->begin(); it != j->end(); ++it) {
    if (it.value().is_string()) m_ids[it.key()] = it.value().get<std::string>();
  }
  return {};
}

std::string EventLedger::find(const std::string& corpus, const std::string& doc_cid) const {
  std::lock_guard lock(m_mutex);
  auto it = m_ids.find(ledger_key(corpus, doc_cid));
  return it == m_ids.end() ? std::string() : it->second;
}

Status EventLedger::record(const std::string& corpus, const std::string& doc_cid,
                           const std::string& event_id) {
  std::lock_guard lock(m_mutex);
  m_ids[ledger_key(corpus, doc_cid)] = event_id;
  Json j = Json::object();
  for (const auto& [k, v] : m_ids) j[k] = v;
  return atomic_write_file(m_file, j.dump());
}

// --- IngestPipeline ---

IngestPipeline::IngestPipeline(const service::ServiceContext& ctx, BusEmbedder& embedder,
                               IngestHooks hooks)
    : m_ctx(ctx), m_embedder(embedder), m_hooks(hooks), m_ledger(ctx.data_dir / "announced.json") {}

Status IngestPipeline::start() { return m_ledger.load(); }

Result<IngestPipeline::Loaded> IngestPipeline::load(const IngestRequest& request,
                                                    const bus::CancelToken& cancel) {
  const std::string& cid = request.doc_cid;
  if (!m_ctx.blobs.has_blob(cid)) {
    // Not here: the files service fetches it from the nodes that hold it (M07).
    bus::CallOptions o;
    o.target_node = m_ctx.bus.our_node_id();
    o.cancel = cancel;
    auto fetched = m_ctx.bus.stream(FILE_FETCH, V10, Json{{"input", {{"cid", cid}}}},
                                    [](bus::StreamFrame) -> Status { return {}; }, o);
    if (!fetched && fetched.error().code != ErrorCode::not_found) return fetched.error();
    if (!fetched || !m_ctx.blobs.has_blob(cid)) {
      return make_error(ErrorCode::not_found,
                        "doc_cid " + cid + " is not resolvable to a blob: no node holds it" +
                            (fetched ? std::string() : " (" + fetched.error().message + ")"));
    }
  }
  HN_TRY_ASSIGN(auto manifest, m_ctx.blobs.read_manifest(cid));
  Loaded doc;
  HN_TRY_ASSIGN(doc.bytes, m_ctx.blobs.read_blob_bytes(cid));
  doc.file_name = manifest.filename.value_or("");
  doc.media_type = normalise_media_type(
      !request.media_type.empty() ? request.media_type : manifest.mime_type.value_or(""));
  if (doc.media_type.empty() || doc.media_type == "application/octet-stream") {
    doc.media_type = sniff_media_type(doc.bytes, doc.file_name);
  }
  if (!supported_media_type(doc.media_type)) {
    return bad("unsupported media type \"" + doc.media_type +
               "\": RAG ingests application/pdf, text/plain and text/markdown");
  }
  return doc;
}

Result<IngestResult> IngestPipeline::ingest(const IngestRequest& request, CorpusStore* store,
                                            const CreateStore& create_store,
                                            const ProgressFn& progress,
                                            const bus::CancelToken& cancel) {
  const auto t0 = std::chrono::steady_clock::now();
  IngestResult result;
  result.corpus = request.corpus;
  result.doc_cid = request.doc_cid;

  // The model: [rag] embedding_model, else the corpus's, else what the bus offers.
  const std::string model = m_embedder.choose_model(store ? store->embedding_model() : "");
  if (!model.empty() && !m_embedder.offered(model)) {
    // M05 §6: the model a corpus needs is unavailable.
    return make_error(ErrorCode::partition, "no embed.text provider of model \"" + model +
                                                "\" on the bus (corpus " + request.corpus + ")");
  }
  result.embedding_model = model;

  // M05 §4.3: already here with this model → nothing to do.
  if (store != nullptr && store->has_document(request.doc_cid, model)) {
    for (const auto& d : store->documents()) {
      if (d.doc_cid != request.doc_cid) continue;
      result.title = d.title;
      result.chunks_indexed = d.chunks;
      result.tokens_indexed = d.tokens;
    }
    result.ingest_event_id = m_ledger.find(request.corpus, request.doc_cid);
    result.embedding_model = store->embedding_model();
    result.duplicate = true;
    result.ms = ms_since(t0);
    return result;
  }

  HN_TRY_ASSIGN(auto doc, load(request, cancel));
  result.title = !request.title.empty()       ? request.title
                 : !doc.file_name.empty()     ? doc.file_name
                                              : request.doc_cid;

  // Chunks measured in the embedder's own tokens when this node has its tokenizer, and no
  // longer than the model takes (it would cut them).
  ChunkOptions options;
  if (auto tok = m_embedder.tokenizer(model)) {
    options.count_tokens = tok->count;
    options.count_tokens_batch = tok->count_batch;
    if (tok->max_tokens > 0) {
      options.tokens_per_chunk = std::clamp(tok->max_tokens - 16, 32, RAG_CHUNK_TOKENS);
      options.overlap_tokens = std::min(RAG_CHUNK_OVERLAP_TOKENS, options.tokens_per_chunk / 5);
    }
  }
  IngestProgress state;
  const std::int64_t load_ms = ms_since(t0);
  HN_TRY_ASSIGN(auto embedded, chunk_and_embed(doc, options, model, state, progress, cancel));
  std::vector<Chunk> chunks = std::move(embedded.chunks);
  std::vector<std::vector<float>> vectors = std::move(embedded.vectors);
  const std::int64_t embedded_ms = ms_since(t0);

  DocumentInfo info;
  info.doc_cid = request.doc_cid;
  info.title = result.title;
  info.language = request.language;
  info.media_type = doc.media_type;
  info.metadata = request.metadata;
  info.chunks = static_cast<std::int64_t>(chunks.size());
  for (const auto& c : chunks) info.tokens += c.tokens;
  if (store == nullptr) {
    HN_TRY_ASSIGN(store, create_store());
    result.created_corpus = true;
  }
  const std::int64_t opened_ms = ms_since(t0);
  // One transaction: the document is whole or absent, whatever happens from here.
  HN_TRY(store->add_document(info, chunks, vectors, model));
  const std::int64_t stored_ms = ms_since(t0);
  if (m_hooks.kill_before_event) ingest_kill_self("before the event");

  auto event_id = announce(request.corpus, info);
  if (!event_id) {
    // Stored but not announced: the next start appends it (announce_missing).
    ingest_log().warning("rag.document.ingested not appended", Json{{"error", event_id.error().to_string()}});
  }
  result.ingest_event_id = event_id ? *event_id : std::string();
  result.chunks_indexed = info.chunks;
  result.tokens_indexed = info.tokens;
  result.ms = ms_since(t0);
  ingest_log().info("document ingested", Json{{"corpus", request.corpus},
                                             {"doc_cid", request.doc_cid},
                                             {"chunks", info.chunks},
                                             {"model", model},
                                             {"ms", result.ms},
                                             // Where the time went (each from the start).
                                             {"loaded_ms", load_ms},
                                             {"embedded_ms", embedded_ms},
                                             {"opened_ms", opened_ms},
                                             {"stored_ms", stored_ms}});
  return result;
}

Result<std::string> IngestPipeline::announce(const std::string& corpus, const DocumentInfo& doc) {
  // One event per (corpus, doc_cid): a later re-ingest (a new version of the vectors)
  // announces nothing new.
  if (auto known = m_ledger.find(corpus, doc.doc_cid); !known.empty()) return known;
  // CONTRACT §7.2.
  Json data{{"corpus", corpus},
            {"doc_cid", doc.doc_cid},
            {"title", doc.title},
            {"language", doc.language},
            {"chunks", doc.chunks}};
  HN_TRY_ASSIGN(auto event, m_ctx.log.append_local(events::EventType::rag_document_ingested, std::move(data)));
  if (Status s = m_ledger.record(corpus, doc.doc_cid, event.event_id.str()); !s) {
    ingest_log().warning("ledger not written", Json{{"error", s.error().to_string()}});
  }
  return event.event_id.str();
}

Result<int> IngestPipeline::announce_missing(const std::vector<CorpusStore*>& stores) {
  std::vector<std::pair<std::string, DocumentInfo>> missing;
  for (auto* store : stores) {
    for (auto& d : store->documents()) {
      if (m_ledger.find(store->name(), d.doc_cid).empty()) missing.emplace_back(store->name(), std::move(d));
    }
  }
  if (missing.empty()) return 0;
  // Appended before a crash took the ledger's note? Then the log has it: note it, no twin.
  std::map<std::string, std::string> in_log;
  events::ReplayOptions o;
  o.types = {events::EventType::rag_document_ingested};
  const NodeId self = m_ctx.node_id;
  HN_TRY(m_ctx.log.replay(o, [&](events::Event& e) {
    if (e.author == self && e.data.is_object()) {
      in_log[ledger_key(e.data.value("corpus", ""), e.data.value("doc_cid", ""))] = e.event_id.str();
    }
    return true;
  }));
  int appended = 0;
  for (const auto& [corpus, doc] : missing) {
    if (auto it = in_log.find(ledger_key(corpus, doc.doc_cid)); it != in_log.end()) {
      HN_TRY(m_ledger.record(corpus, doc.doc_cid, it->second));
      continue;
    }
    auto id = announce(corpus, doc);
    if (!id) return id.take_error();
    ++appended;
    ingest_log().info("rag.document.ingested appended after a restart",
                      Json{{"corpus", corpus}, {"doc_cid", doc.doc_cid}});
  }
  return appended;
}

}  // namespace hn::services::rag
