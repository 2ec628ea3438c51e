// transfer.cpp — the TransferManager (transfer.h).
#include "services/files/transfer.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>

#include "observability/metrics.h"
#include "services/files/frames.h"

namespace hn::services::files {
namespace {

const Version READ_VERSION{1, 0};

observability::Counter& bad_chunks_metric() {
  static auto& c = observability::default_registry().counter(
      "hearthnet_file_bad_chunks_total", "Chunks from a source that failed verification",
      {"source"});
  return c;
}
observability::Counter& chunks_metric() {
  static auto& c = observability::default_registry().counter(
      "hearthnet_file_chunks_fetched_total", "Verified chunks fetched, by source", {"source"});
  return c;
}
observability::Counter& bytes_metric() {
  static auto& c = observability::default_registry().counter(
      "hearthnet_file_bytes_fetched_total", "Verified chunk bytes fetched");
  return c;
}

// One reply handed from the completing thread to the fetching one.
struct Reply {
  std::size_t slot = 0;  // index into the missing list
  NodeId source;
  Result<Json> result = Json(nullptr);
};

// Shared between fetch_blob and the bus callbacks, which may outlive it.
struct Inbox {
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<Reply> replies;
  void push(Reply r) {
    {
      std::lock_guard lock(mutex);
      replies.push_back(std::move(r));
    }
    cv.notify_one();
  }
};

struct SourceState {
  NodeId id;
  int in_flight = 0;
  bool live = true;
};

}  // namespace

TransferManager::TransferManager(blobs::BlobStore& store, bus::CapabilityBus& bus,
                                 CapacityCheck admit, TransferOptions options)
    : m_store(store), m_bus(bus), m_admit(std::move(admit)), m_options(options) {}

Result<blobs::BlobManifest> TransferManager::fetch_manifest(const std::string& cid,
                                                            const std::vector<NodeId>& sources) {
  if (m_store.has_manifest(cid)) {
    if (auto m = m_store.read_manifest(cid)) return m;
  }
  Error last = make_error(ErrorCode::not_found, "no source holds " + cid);
  for (const auto& source : sources) {
    bus::CallOptions o;
    o.target_node = source;
    o.remote_only = true;
    o.timeout_seconds = m_options.chunk_timeout_seconds;
    auto r = m_bus.call("file.read", READ_VERSION, Json{{"input", {{"cid", cid}}}}, o);
    if (!r) {
      last = r.error();
      continue;
    }
    const auto out = r->find("output");
    if (out == r->end() || !out->contains("manifest")) {
      last = make_error(ErrorCode::bad_request, "file.read answered no manifest for " + cid);
      continue;
    }
    auto m = blobs::parse_blob_manifest((*out)["manifest"]);
    if (!m || m->cid != cid) {
      last = m ? make_error(ErrorCode::bad_request, "manifest CID differs") : m.error();
      continue;
    }
    return m;
  }
  return last;
}

Result<FetchReport> TransferManager::fetch_blob(const std::string& manifest_cid,
                                                const std::vector<NodeId>& sources,
                                                const ProgressFn& progress,
                                                const bus::CancelToken& cancel) {
  FetchReport report;
  HN_TRY_ASSIGN(auto manifest, fetch_manifest(manifest_cid, sources));
  report.manifest = manifest;

  // Distinct chunks, and which of them are already here (a resumed fetch).
  std::vector<blobs::ChunkRef> missing;
  std::set<std::string> seen;
  std::int64_t bytes_missing = 0;
  for (const auto& c : manifest.chunks) {
    if (!seen.insert(c.cid).second) continue;
    ++report.chunks_total;
    if (m_store.has_chunk(c.cid)) {
      ++report.chunks_present;
    } else {
      missing.push_back(c);
      bytes_missing += c.size_bytes;
    }
  }
  if (m_admit) HN_TRY(m_admit(bytes_missing));
  // Stored before any chunk: a fetch killed from here on resumes (M07 §3.3 "Resumable").
  HN_TRY(m_store.write_manifest(manifest));

  FetchProgress p;
  p.bytes_total = manifest.size_bytes;
  p.bytes_done = manifest.size_bytes - bytes_missing;
  p.chunks_total = report.chunks_total;
  p.chunks_done = report.chunks_present;

  std::vector<SourceState> srcs;
  for (const auto& s : sources) {
    if (s != m_bus.our_node_id()) srcs.push_back(SourceState{s});
  }
  if (!missing.empty() && srcs.empty()) {
    return make_error(ErrorCode::partition, "no other node holds " + manifest_cid);
  }

  auto inbox = std::make_shared<Inbox>();
  std::deque<std::size_t> queue;
  for (std::size_t i = 0; i < missing.size(); ++i) queue.push_back(i);
  std::vector<int> attempts(missing.size(), 0);
  std::size_t done = 0;
  int in_flight = 0;
  std::vector<bus::CancelToken> tokens;  // cancelled when the fetch ends early
  auto last_progress = std::chrono::steady_clock::time_point{};

  auto live_sources = [&] {
    return static_cast<int>(std::count_if(srcs.begin(), srcs.end(), [](const auto& s) { return s.live; }));
  };
  auto fail = [&](Error e) -> Result<FetchReport> {
    for (const auto& t : tokens) t.cancel();
    return e;
  };

  while (done < missing.size()) {
    if (cancel.is_cancelled()) {
      return fail(make_error(ErrorCode::timeout, "fetch cancelled", Json{{"cancelled", true}}));
    }
    // Fill the window: the least-busy live source takes the next queued chunk.
    while (!queue.empty() && in_flight < m_options.window) {
      SourceState* best = nullptr;
      for (auto& s : srcs) {
        if (s.live && s.in_flight < m_options.per_source &&
            (best == nullptr || s.in_flight < best->in_flight)) {
          best = &s;
        }
      }
      if (best == nullptr) break;
      const std::size_t slot = queue.front();
      queue.pop_front();
      ++best->in_flight;
      ++in_flight;
      bus::CallOptions o;
      o.target_node = best->id;
      o.remote_only = true;
      o.timeout_seconds = m_options.chunk_timeout_seconds;
      tokens.push_back(o.cancel);
      const NodeId source = best->id;
      m_bus.async_call("file.read", READ_VERSION, Json{{"input", {{"cid", missing[slot].cid}}}},
                       o, [inbox, slot, source](Result<Json> r) {
                         inbox->push(Reply{slot, source, std::move(r)});
                       });
    }
    if (in_flight == 0) {
      return fail(make_error(ErrorCode::partition,
                             "every source of " + manifest_cid + " failed",
                             Json{{"chunks_missing", missing.size() - done}}));
    }
    Reply reply;
    {
      std::unique_lock lock(inbox->mutex);
      inbox->cv.wait_for(lock, std::chrono::milliseconds(200),
                         [&] { return !inbox->replies.empty(); });
      if (inbox->replies.empty()) continue;
      reply = std::move(inbox->replies.front());
      inbox->replies.pop_front();
    }
    --in_flight;
    auto src = std::find_if(srcs.begin(), srcs.end(), [&](const auto& s) { return s.id == reply.source; });
    if (src != srcs.end()) --src->in_flight;
    const auto& want = missing[reply.slot];

    Status stored = [&]() -> Status {
      if (!reply.result) return reply.result.error();
      const auto out = reply.result->find("output");
      if (out == reply.result->end()) return make_error(ErrorCode::bad_request, "no output");
      HN_TRY_ASSIGN(auto chunk, parse_chunk_frame(*out));
      if (chunk.cid != want.cid || static_cast<std::int64_t>(chunk.data.size()) != want.size_bytes) {
        return make_error(ErrorCode::hash_mismatch, "source answered another chunk");
      }
      return m_store.write_chunk(chunk.cid, chunk.data);
    }();
    if (stored) {
      ++done;
      ++report.chunks_fetched;
      report.bytes_fetched += want.size_bytes;
      ++report.chunks_by_source[reply.source];
      chunks_metric().inc({reply.source.str()});
      bytes_metric().inc({}, static_cast<double>(want.size_bytes));
      p.bytes_done += want.size_bytes;
      ++p.chunks_done;
      if (m_options.kill_after_chunks > 0 && report.chunks_fetched == m_options.kill_after_chunks) {
        ::kill(::getpid(), SIGKILL);  // the test hook above
      }
    } else {
      const bool bad_bytes = reply.result.has_value();  // it answered, but not the chunk
      if (bad_bytes && src != srcs.end() && src->live) {
        src->live = false;
        report.dropped_sources.push_back(src->id);
        bad_chunks_metric().inc({src->id.str()});
      }
      if (bad_bytes) ++report.bad_chunks;
      if (!reply.result && reply.result.error().code == ErrorCode::not_found && src != srcs.end()) {
        src->live = false;  // it does not hold the blob (any more)
        report.dropped_sources.push_back(src->id);
      }
      if (++attempts[reply.slot] >= MAX_CHUNK_ATTEMPTS) {
        return fail(make_error(ErrorCode::partition,
                               "chunk " + std::to_string(want.index) + " failed " +
                                   std::to_string(MAX_CHUNK_ATTEMPTS) + " times",
                               Json{{"cid", want.cid}, {"last_error", stored.error().message}}));
      }
      queue.push_front(reply.slot);
      if (live_sources() == 0) {
        return fail(make_error(ErrorCode::partition, "no live source left for " + manifest_cid,
                               Json{{"last_error", stored.error().message}}));
      }
    }
    p.sources_live = live_sources();
    const auto now = std::chrono::steady_clock::now();
    if (progress && (now - last_progress > std::chrono::milliseconds(100) || done == missing.size())) {
      last_progress = now;
      if (auto s = progress(p); !s) return fail(s.error());
    }
  }
  if (!m_store.has_blob(manifest_cid)) {
    return make_error(ErrorCode::internal_error, "fetch ended but the blob is not whole");
  }
  return report;
}

}  // namespace hn::services::files
