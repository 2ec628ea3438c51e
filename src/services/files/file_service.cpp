// file_service.cpp — the file service's handlers (file_service.h).
#include "services/files/file_service.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>

#include "core/hash.h"
#include "services/files/frames.h"

namespace hn::services::files {
namespace {

const Version V1{1, 0};

Error bad(std::string message) { return make_error(ErrorCode::bad_request, std::move(message)); }

// The "cid" input, checked (the schema subset has no pattern).
Result<std::string> cid_input(const Json& input, const char* field = "cid") {
  const auto it = input.find(field);
  if (it == input.end() || !it->is_string() || !is_valid_cid(it->get_ref<const std::string&>())) {
    return bad(std::string("\"") + field + "\" must be a CID: blake3:<64 hex characters>");
  }
  return it->get<std::string>();
}

std::int64_t elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

Json entry_json(const blobs::BlobStat& s) {
  return Json{{"cid", s.cid},
              {"name", s.filename ? Json(*s.filename) : Json(nullptr)},
              {"mime_type", s.mime_type ? Json(*s.mime_type) : Json(nullptr)},
              {"size_bytes", s.size_bytes},
              {"pinned", s.pinned},
              {"last_used_ms", s.last_used_ms}};
}

}  // namespace

FileService::FileService(const service::ServiceContext& ctx, FileServiceOptions options)
    : m_ctx(ctx),
      m_options(options),
      m_fetch_queue(std::make_shared<WorkQueue>(WorkQueueOptions{"file-fetch", 2, 16, 5})),
      m_transfer(ctx.blobs, ctx.bus,
                 [this](std::int64_t n) { return admit(n, GcChoice::make_room); },
                 options.transfer) {}

FileService::~FileService() { stop(); }

Status FileService::start() {
  // The source index: live events first (no gap), then what the log already holds.
  const std::vector<events::EventType> types{events::EventType::file_cid_advertised,
                                             events::EventType::file_cid_unpinned};
  m_subscription = m_ctx.log.subscribe([this](const events::Event& e) { m_index.apply(e); }, types);
  events::ReplayOptions ro;
  ro.types = types;
  return m_ctx.log.replay(ro, [this](events::Event& e) {
    m_index.apply(e);
    return true;
  });
}

void FileService::stop() {
  m_subscription.reset();
  m_stop.cancel();  // running fetches end at their next reply
  if (m_fetch_queue) m_fetch_queue->stop();
}

Json FileService::health() const {
  Json h{{"sources_known", m_index.all().size()}};
  // The fetch queue beside the host's (threads counted by NodeOpen's queue test).
  Json queues = Json::array();
  for (const WorkQueue* q : {static_cast<const WorkQueue*>(m_fetch_queue.get()), m_transfer.workers()}) {
    if (!q) continue;
    const auto st = q->stats();
    queues.push_back(Json{{"name", st.name}, {"threads", st.threads}});
  }
  if (!queues.empty()) h["extra_queues"] = queues;
  if (auto t = m_ctx.blobs.total_bytes()) h["store_bytes"] = *t;
  return h;
}

std::vector<bus::LocalCapability> FileService::capabilities() {
  std::vector<bus::LocalCapability> caps(6);
  caps[0].descriptor = file_read_descriptor();
  caps[0].handler = [this](const bus::CallContext& c, const Json& b) { return read(c, b); };
  caps[0].stream_handler = [this](const bus::CallContext& c, const Json& b,
                                  const bus::FrameSink& e) { return read_stream(c, b, e); };
  caps[1].descriptor = file_list_descriptor();
  caps[1].handler = [this](const bus::CallContext& c, const Json& b) { return list(c, b); };
  caps[2].descriptor = file_advertise_descriptor();
  caps[2].handler = [this](const bus::CallContext& c, const Json& b) { return advertise(c, b); };
  caps[3].descriptor = file_put_descriptor();
  caps[3].handler = [this](const bus::CallContext& c, const Json& b) { return put(c, b); };
  caps[3].stream_handler = [this](const bus::CallContext& c, const Json& b,
                                  const bus::FrameSink& emit) -> Result<Json> {
    HN_TRY_ASSIGN(auto r, put(c, b));
    HN_TRY(emit(bus::StreamFrame{"ready", Json{{"needed", r["output"]["needed"]}}}));
    return r["output"];
  };
  caps[4].descriptor = file_fetch_descriptor();
  caps[4].stream_handler = [this](const bus::CallContext& c, const Json& b,
                                  const bus::FrameSink& e) { return fetch(c, b, e); };
  caps[4].executor = m_fetch_queue;  // long work: never holds the read/list threads
  caps[5].descriptor = file_pin_descriptor();
  caps[5].handler = [this](const bus::CallContext& c, const Json& b) { return pin(c, b); };
  return caps;
}

Result<Bytes> FileService::serve_chunk(const std::string& cid) {
  HN_TRY_ASSIGN(auto data, m_ctx.blobs.read_chunk(cid));
  if (m_options.corrupt_reads && !data.empty()) data[0] ^= 0xff;
  return data;
}

Result<Bytes> FileService::serve_chunk(const blobs::BlobManifest& m, const blobs::ChunkRef& ref) {
  HN_TRY_ASSIGN(auto data, m_ctx.blobs.read_blob_chunk(m, ref));
  if (m_options.corrupt_reads && !data.empty()) data[0] ^= 0xff;
  return data;
}

// --- file.read (CONTRACT §4.7) ---

Result<Json> FileService::read(const bus::CallContext&, const Json& body) {
  HN_TRY_ASSIGN(auto cid, cid_input(body["input"]));
  const auto started = std::chrono::steady_clock::now();
  if (m_ctx.blobs.has_chunk(cid)) {
    HN_TRY_ASSIGN(auto data, serve_chunk(cid));
    return Json{{"output", chunk_frame(std::nullopt, cid, data)}, {"meta", {{"ms", elapsed_ms(started)}}}};
  }
  if (m_ctx.blobs.has_blob(cid)) {
    HN_TRY_ASSIGN(auto m, m_ctx.blobs.read_manifest(cid));
    return Json{{"output", {{"manifest", blobs::manifest_to_json(m)}}},
                {"meta", {{"ms", elapsed_ms(started)}}}};
  }
  return make_error(ErrorCode::not_found, "no blob or chunk " + cid + " here");
}

Result<Json> FileService::read_stream(const bus::CallContext& ctx, const Json& body,
                                      const bus::FrameSink& emit) {
  HN_TRY_ASSIGN(auto cid, cid_input(body["input"]));
  const auto started = std::chrono::steady_clock::now();
  // The binary chunk path (doc/design/files.md): only for a consumer that asked for binary
  // frames; everyone else gets the contract's JSON frames.
  const bool binary = ctx.request.binary_frames;
  auto emit_chunk = [&](std::int64_t index, const std::string& chunk_cid, Bytes data) -> Status {
    if (binary) {
      Json header = chunk_frame_header(index, chunk_cid, data.size());
      return emit(bus::StreamFrame{"chunk", std::move(header), std::move(data)});
    }
    return emit(bus::StreamFrame{"chunk", chunk_frame(index, chunk_cid, data)});
  };
  if (m_ctx.blobs.has_chunk(cid)) {
    HN_TRY_ASSIGN(auto data, serve_chunk(cid));
    HN_TRY(emit_chunk(0, cid, std::move(data)));
    return Json{{"chunks", 1}, {"ms", elapsed_ms(started)}};
  }
  const auto want = body["input"].find("chunks");
  const bool some = want != body["input"].end();
  // A whole-blob stream needs the whole blob; a fetcher's batch ("chunks") reads the manifest
  // once and each chunk it names (a missing one ends the stream with not_found) — checking
  // every chunk of a 1 GiB blob per 16 MiB batch cost the server more than the batch itself.
  if (!some && !m_ctx.blobs.has_blob(cid)) return make_error(ErrorCode::not_found, "no blob " + cid + " here");
  auto manifest = m_ctx.blobs.read_manifest(cid);
  if (!manifest && manifest.error().code == ErrorCode::not_found) {
    return make_error(ErrorCode::not_found, "no blob " + cid + " here");
  }
  HN_TRY_ASSIGN(auto m, std::move(manifest));
  std::vector<blobs::ChunkRef> chunks;
  if (some) {
    // Extension (doc/design/files.md): only these chunk indices, no manifest frame.
    for (const auto& i : *want) {
      if (!i.is_number_integer() || i.get<std::int64_t>() < 0 ||
          i.get<std::int64_t>() >= static_cast<std::int64_t>(m.chunks.size())) {
        return bad("\"chunks\" must hold chunk indices of the blob");
      }
      chunks.push_back(m.chunks[i.get<std::size_t>()]);
    }
  } else {
    HN_TRY(emit(bus::StreamFrame{"manifest", blobs::manifest_to_json(m)}));
    chunks = m.chunks;
  }
  for (const auto& c : chunks) {
    if (ctx.cancelled()) return make_error(ErrorCode::timeout, "cancelled", Json{{"cancelled", true}});
    HN_TRY_ASSIGN(auto data, serve_chunk(m, c));
    HN_TRY(emit_chunk(c.index, c.cid, std::move(data)));
  }
  return Json{{"chunks", chunks.size()}, {"ms", elapsed_ms(started)}};
}

// --- file.list (CONTRACT §4.8) ---

Result<Json> FileService::list(const bus::CallContext& ctx, const Json& body) {
  const Json& input = body["input"];
  const std::string prefix = input.value("prefix", std::string());
  if (!prefix.empty() && std::string_view("blake3:").substr(0, std::min<std::size_t>(prefix.size(), 7)) !=
                             std::string_view(prefix).substr(0, 7)) {
    return bad("\"prefix\" must be the start of a CID (blake3:…)");
  }
  const auto started = std::chrono::steady_clock::now();
  HN_TRY_ASSIGN(auto all, m_ctx.blobs.list_cids(prefix, blobs::ListFilter::manifests));
  Json cids = Json::array();
  Json entries = Json::array();
  const bool detail = input.value("detail", false) || input.value("remote", false);
  const auto index = m_index.all();
  for (const auto& cid : all) {
    if (!m_ctx.blobs.has_blob(cid)) continue;  // a fetch or put still under way
    cids.push_back(cid);
    if (!detail) continue;
    auto s = m_ctx.blobs.stat(cid);
    if (!s) continue;
    Json e = entry_json(*s);
    Json holders = Json::array({m_ctx.node_id.str()});
    if (auto it = index.find(cid); it != index.end()) {
      for (const auto& h : it->second.holders) {
        if (h != m_ctx.node_id) holders.push_back(h.str());
      }
    }
    e["holders"] = holders;
    e["local"] = true;
    entries.push_back(std::move(e));
  }
  Json out{{"cids", cids}};
  if (input.value("remote", false) && ctx.request.caller_trust == TrustLevel::self) {
    // What peers hold and this node does not.
    Json remote = list_remote(prefix);
    for (auto& [cid, e] : remote.items()) {
      if (m_ctx.blobs.has_blob(cid)) continue;
      e["cid"] = cid;
      e["local"] = false;
      entries.push_back(e);
    }
  }
  if (detail) out["entries"] = entries;
  return Json{{"output", out}, {"meta", {{"ms", elapsed_ms(started)}}}};
}

// --- file.advertise (CONTRACT §4.9) ---

Result<Json> FileService::advertise(const bus::CallContext& ctx, const Json& body) {
  std::vector<std::string> cids;
  for (const auto& c : body["input"]["cids"]) {
    if (!c.is_string() || !is_valid_cid(c.get_ref<const std::string&>())) {
      return bad("\"cids\" must hold CIDs (blake3:<64 hex>)");
    }
    cids.push_back(c.get<std::string>());
  }
  m_index.record(ctx.request.caller, cids);
  return Json{{"output", {{"recorded", cids.size()}}}, {"meta", {{"ms", 0}}}};
}

// --- file.put (CONTRACT §4.10) ---

Result<Json> FileService::put(const bus::CallContext& ctx, const Json& body) {
  const auto started = std::chrono::steady_clock::now();
  auto parsed = parse_put_request(body["input"]);
  if (!parsed) {
    // M07 §6: bytes that fail verification are the caller's fault.
    auto e = parsed.take_error();
    if (e.code == ErrorCode::hash_mismatch || e.code == ErrorCode::manifest_invalid) {
      e = make_error(ErrorCode::bad_request, "file.put: " + e.message);
    }
    return e;
  }
  auto& req = *parsed;
  const auto& m = req.manifest;
  const bool was_whole = m_ctx.blobs.has_blob(m.cid);
  // The chunks the store lacks, asked of the store (put_progress.h: once a put, not a batch).
  auto scan_missing = [&] {
    std::vector<blobs::ChunkRef> missing;
    for (const auto& c : m.chunks) {
      if (!m_ctx.blobs.has_chunk(c.cid)) missing.push_back(c);
    }
    return missing;
  };
  std::int64_t incoming = 0;
  std::vector<blobs::ChunkRef> missing;
  if (req.chunks.empty()) {
    missing = scan_missing();
    for (const auto& c : missing) incoming += c.size_bytes;
  }
  for (const auto& c : req.chunks) incoming += static_cast<std::int64_t>(c.data().size());
  // The first call reserves room for the whole blob (GC may run then); a later batch only
  // checks, so GC never takes this put's own chunks, which are orphans until the manifest.
  if (!was_whole && incoming > 0) {
    HN_TRY(admit(incoming, req.chunks.empty() ? GcChoice::make_room : GcChoice::check_only));
  }
  std::int64_t received = 0;
  std::vector<std::string> stored;
  for (const auto& c : req.chunks) {
    if (ctx.cancelled()) return make_error(ErrorCode::timeout, "cancelled", Json{{"cancelled", true}});
    // Verified by the parser (hashed once); flushed once, before the manifest makes the blob.
    HN_TRY(m_ctx.blobs.write_chunk(c.chunk, blobs::BlobStore::Durability::deferred));
    stored.push_back(c.cid());
    ++received;
  }
  std::vector<std::int64_t> left;
  bool asked_store = true;  // `left` comes from the store's answer in this call
  auto track = [&](const std::vector<blobs::ChunkRef>& lacking) {
    m_puts.start(m.cid, lacking);
    left.clear();
    for (const auto& c : lacking) left.push_back(c.index);
  };
  if (req.chunks.empty()) {
    track(missing);
  } else if (auto tracked = m_puts.stored(m.cid, stored)) {
    left = std::move(*tracked);
    asked_store = false;
  } else {
    track(scan_missing());  // not tracked (a restart, or an old put): ask the store
  }
  // Before the manifest makes the blob whole, every chunk from the store once more unless
  // this call just asked it (one may have gone since the put began).
  if (left.empty() && !asked_store) {
    if (auto lacking = scan_missing(); !lacking.empty()) track(lacking);
  }
  Json needed = Json::array();
  for (auto i : left) needed.push_back(i);
  const bool complete = left.empty();
  if (complete) {
    m_puts.finish(m.cid);
    // The manifest last: until here no blob is visible (a partial put leaves none).
    HN_TRY(m_ctx.blobs.sync_all());
    HN_TRY(m_ctx.blobs.write_manifest(m));
    if (req.pin) HN_TRY(m_ctx.blobs.pin(m.cid));
    if (!was_whole) advertise_whole(m);
  }
  return Json{{"output",
               {{"cid", m.cid},
                {"needed", needed},
                {"received", received},
                {"complete", complete},
                {"ms", elapsed_ms(started)}}},
              {"meta", {{"ms", elapsed_ms(started)}}}};
}

Status FileService::admit(std::int64_t incoming, GcChoice gc) {
  const auto& cfg = m_ctx.config.file;
  HN_TRY_ASSIGN(auto usage, m_ctx.blobs.disk_usage());
  // Against the whole filesystem (no max_store_bytes) other programs' files count too: only
  // the free-space floor below refuses, and no GC runs here (doc/design/files.md).
  const bool store_capacity = cfg.max_store_bytes > 0;
  if (store_capacity && usage.capacity_bytes > 0) {
    const double cap = static_cast<double>(usage.capacity_bytes);
    const double limit = cfg.gc_threshold * cap;
    if (static_cast<double>(usage.used_bytes + static_cast<std::uint64_t>(incoming)) > limit) {
      // M07 §5.4: evict LRU unpinned blobs first, far enough to make room.
      const double target =
          std::max(0.0, std::min(cfg.gc_target, (limit - static_cast<double>(incoming)) / cap));
      if (gc == GcChoice::make_room) {
        HN_TRY_ASSIGN(auto report, m_ctx.blobs.gc(target));
        (void)report;
      }
      HN_TRY_ASSIGN(auto after, m_ctx.blobs.disk_usage());
      if (static_cast<double>(after.used_bytes + static_cast<std::uint64_t>(incoming)) > limit) {
        return make_error(ErrorCode::capacity_exceeded,
                          "the blob store would pass file.gc_threshold (pinned data keeps it full)",
                          Json{{"used_bytes", after.used_bytes},
                               {"capacity_bytes", after.capacity_bytes},
                               {"gc_threshold", cfg.gc_threshold},
                               {"incoming_bytes", incoming}});
      }
    }
  }
  // M07 §5.7: the filesystem keeps at least the floor free.
  HN_TRY_ASSIGN(auto fs_usage, blobs::filesystem_disk_usage(m_ctx.blobs.dir()));
  const std::uint64_t free_bytes =
      fs_usage.capacity_bytes > fs_usage.used_bytes ? fs_usage.capacity_bytes - fs_usage.used_bytes : 0;
  if (free_bytes < static_cast<std::uint64_t>(incoming) + m_options.free_space_floor) {
    return make_error(ErrorCode::capacity_exceeded, "too little free disk space for the blob",
                      Json{{"free_bytes", free_bytes},
                           {"floor_bytes", m_options.free_space_floor},
                           {"incoming_bytes", incoming}});
  }
  return {};
}

void FileService::advertise_whole(const blobs::BlobManifest& m) {
  // CONTRACT §7.2 file.cid.advertised (the spec's own field name "sizes_bytes").
  (void)m_ctx.log.append_local(events::EventType::file_cid_advertised,
                               Json{{"cid", m.cid}, {"sizes_bytes", m.size_bytes}});
}

// --- file.pin (extension) ---

Result<Json> FileService::pin(const bus::CallContext&, const Json& body) {
  HN_TRY_ASSIGN(auto cid, cid_input(body["input"]));
  if (!m_ctx.blobs.has_blob(cid)) return make_error(ErrorCode::not_found, "no blob " + cid + " here");
  const bool pinned = body["input"]["pinned"].get<bool>();
  if (pinned) {
    HN_TRY(m_ctx.blobs.pin(cid));
  } else if (m_ctx.blobs.is_pinned(cid)) {
    HN_TRY(m_ctx.blobs.unpin(cid));
    (void)m_ctx.log.append_local(events::EventType::file_cid_unpinned, Json{{"cid", cid}});
  }
  return Json{{"output", {{"cid", cid}, {"pinned", pinned}}}};
}

// --- sources (M07 §5.5) ---

namespace {
// Waits for a set of async bus calls.
struct Gather {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::pair<NodeId, Result<Json>>> answers;
  std::size_t expected = 0;
};
}  // namespace

static std::vector<std::pair<NodeId, Result<Json>>> ask_every_peer(bus::CapabilityBus& bus,
                                                                    const NodeId& self,
                                                                    const Json& body) {
  auto g = std::make_shared<Gather>();
  std::vector<NodeId> peers;
  for (const auto& e : bus.registry().find(FILE_LIST, V1)) {
    if (!e.is_local && e.node_id != self) peers.push_back(e.node_id);
  }
  g->expected = peers.size();
  for (const auto& p : peers) {
    bus::CallOptions o;
    o.target_node = p;
    o.remote_only = true;
    o.timeout_seconds = 5;
    bus.async_call(FILE_LIST, V1, body, o, [g, p](Result<Json> r) {
      std::lock_guard lock(g->mutex);
      g->answers.emplace_back(p, std::move(r));
      g->cv.notify_all();
    });
  }
  std::unique_lock lock(g->mutex);
  g->cv.wait_for(lock, std::chrono::seconds(6), [&] { return g->answers.size() >= g->expected; });
  return g->answers;
}

std::vector<NodeId> FileService::find_sources(const std::string& cid) {
  for (auto& [node, r] : ask_every_peer(m_ctx.bus, m_ctx.node_id, Json{{"input", {{"prefix", cid}}}})) {
    if (!r) continue;
    bool holds = false;
    for (const auto& c : (*r)["output"].value("cids", Json::array())) holds |= c == cid;
    if (holds) {
      m_index.record(node, {cid});
    } else {
      m_index.forget(node, cid);
    }
  }
  std::vector<NodeId> out;
  for (auto& n : m_index.holders(cid)) {
    if (n != m_ctx.node_id) out.push_back(std::move(n));
  }
  return out;
}

Json FileService::list_remote(const std::string& prefix) {
  Json body{{"input", {{"detail", true}}}};
  if (!prefix.empty()) body["input"]["prefix"] = prefix;
  Json out = Json::object();
  for (auto& [node, r] : ask_every_peer(m_ctx.bus, m_ctx.node_id, body)) {
    if (!r) continue;
    const Json entries = (*r)["output"].value("entries", Json::array());
    for (const auto& e : entries) {
      if (!e.is_object() || !e.contains("cid") || !e["cid"].is_string() ||
          !is_valid_cid(e["cid"].get_ref<const std::string&>())) {
        continue;
      }
      const std::string cid = e["cid"].get<std::string>();
      m_index.record(node, {cid});
      auto& o = out[cid];
      if (!o.is_object()) {
        o = Json{{"name", e.value("name", Json(nullptr))},
                 {"mime_type", e.value("mime_type", Json(nullptr))},
                 {"size_bytes", e.value("size_bytes", Json(nullptr))},
                 {"pinned", false},
                 {"holders", Json::array()}};
      }
      o["holders"].push_back(node.str());
    }
  }
  return out;
}

// --- file.fetch (extension) ---

Result<Json> FileService::fetch(const bus::CallContext& ctx, const Json& body,
                                const bus::FrameSink& emit) {
  const Json& input = body["input"];
  HN_TRY_ASSIGN(auto cid, cid_input(input));
  const auto started = std::chrono::steady_clock::now();
  std::optional<std::filesystem::path> out;
  if (auto o = input.find("out"); o != input.end()) {
    out = std::filesystem::path(o->get<std::string>());
    if (!out->is_absolute()) return bad("\"out\" must be an absolute path");
    std::error_code ec;
    if (std::filesystem::exists(*out, ec) && !input.value("force", false)) {
      return bad(out->string() + " exists (use --force to replace it)");
    }
  }
  const auto out_mode = input.value("copy", false) ? blobs::ExportMode::copy : blobs::ExportMode::share;
  FetchReport report;
  if (m_ctx.blobs.has_blob(cid)) {
    HN_TRY_ASSIGN(auto m, m_ctx.blobs.read_manifest(cid));
    report.manifest = m;
    report.chunks_total = report.chunks_present = static_cast<std::int64_t>(m.chunks.size());
    if (out) {  // whole here already
      HN_TRY_ASSIGN(report.out_kind, m_ctx.blobs.export_blob(cid, *out, out_mode));
    }
  } else {
    std::vector<NodeId> sources = find_sources(cid);
    if (auto s = input.find("sources"); s != input.end()) {
      for (const auto& n : *s) {
        if (n.is_string()) sources.emplace_back(n.get<std::string>());
      }
    }
    if (sources.empty()) return make_error(ErrorCode::not_found, "no node holds " + cid);
    auto progress = [&](const FetchProgress& p) -> Status {
      return emit(bus::StreamFrame{"progress", Json{{"bytes_done", p.bytes_done},
                                                    {"bytes_total", p.bytes_total},
                                                    {"chunks_done", p.chunks_done},
                                                    {"chunks_total", p.chunks_total},
                                                    {"sources", p.sources_live}}});
    };
    // The caller's cancel or the service's stop ends the fetch.
    bus::CancelToken cancel;
    const auto a = ctx.cancel.on_cancel([cancel] { cancel.cancel(); });
    const auto b = m_stop.on_cancel([cancel] { cancel.cancel(); });
    auto r = m_transfer.fetch_blob(cid, sources, progress, cancel, out, out_mode);
    ctx.cancel.forget(a);
    m_stop.forget(b);
    if (!r) return r.error();
    report = std::move(r).value();
    advertise_whole(report.manifest);
  }
  Json by_source = Json::object();
  for (const auto& [n, c] : report.chunks_by_source) by_source[n.str()] = c;
  Json dropped = Json::array();
  for (const auto& n : report.dropped_sources) dropped.push_back(n.str());
  const auto& m = report.manifest;
  return Json{{"cid", cid},
              {"size_bytes", m.size_bytes},
              {"name", m.filename ? Json(*m.filename) : Json(nullptr)},
              {"mime_type", m.mime_type ? Json(*m.mime_type) : Json(nullptr)},
              {"chunks_total", report.chunks_total},
              {"chunks_present", report.chunks_present},
              {"chunks_fetched", report.chunks_fetched},
              {"bytes_fetched", report.bytes_fetched},
              {"bad_chunks", report.bad_chunks},
              {"chunks_by_source", by_source},
              {"dropped_sources", dropped},
              {"out", out ? Json(out->string()) : Json(nullptr)},
              {"out_kind", report.out_kind ? Json(std::string(blobs::export_kind_name(*report.out_kind)))
                                           : Json(nullptr)},
              {"ms", elapsed_ms(started)}};
}

std::unique_ptr<bus::Service> make_service(const service::ServiceContext& ctx) {
  FileServiceOptions o;
  const char* hook = std::getenv("HEARTHNET_FILE_CORRUPT_READS");
  o.corrupt_reads = hook != nullptr && std::string(hook) == "1";
  if (const char* kill = std::getenv("HEARTHNET_FILE_KILL_AFTER_CHUNKS")) {
    o.transfer.kill_after_chunks = std::atoll(kill);
  }
  if (const char* threads = std::getenv("HEARTHNET_FILE_STORE_THREADS")) {
    o.transfer.store_threads = std::clamp(std::atoi(threads), 0, 8);
  }
  if (const char* binary = std::getenv("HEARTHNET_FILE_BINARY_CHUNKS")) {
    o.transfer.binary_chunks = std::string(binary) != "0";
  }
  return std::make_unique<FileService>(ctx, o);
}

}  // namespace hn::services::files
