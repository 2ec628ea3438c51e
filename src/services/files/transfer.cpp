// transfer.cpp — the TransferManager (transfer.h).
#include "services/files/transfer.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <set>

#include "blobs/blob_writer.h"
#include "core/buffer_pool.h"
#include "core/file_util.h"
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

// What storing one received chunk came to.
struct StoreOutcome {
  Status status;
  bool bad_bytes = false;  // the source's fault (wrong chunk, hash mismatch), not ours
};

// One event handed to the fetching thread: a chunk frame of a batch or the batch's end (its
// done data or error), from a stream's thread; or a chunk stored, from a store worker.
struct Reply {
  std::uint64_t batch = 0;
  bool end = false;
  Result<Json> result = Json(nullptr);
  Bytes payload;  // a binary chunk frame's bytes
  bool binary = false;
  // A store worker's answer for missing slot `slot` from source `source`.
  bool stored = false;
  std::size_t slot = 0;
  std::size_t source = 0;
  StoreOutcome outcome;
};

// Verifies a received chunk (hashed once) and writes it into the blob's file at every offset
// it has. Runs on a store worker or on the fetching thread.
StoreOutcome store_chunk(blobs::BlobWriter& blob, const blobs::ChunkRef& want, std::string cid,
                         Bytes payload) {
  if (cid != want.cid || static_cast<std::int64_t>(payload.size()) != want.size_bytes) {
    return {make_error(ErrorCode::hash_mismatch, "source answered another chunk"), true};
  }
  auto chunk = blobs::VerifiedChunk::check(std::move(cid), std::move(payload));
  if (!chunk) return {chunk.take_error(), true};
  if (auto s = blob.write(*chunk); !s) return {s, false};
  BufferPool::chunks().give(std::move(*chunk).take_bytes());  // written: its buffer goes round again
  return {};
}

// Shared between fetch_blob and the bus callbacks, which may outlive it. Its fullness is the
// streams' backpressure.
struct Inbox : bus::StreamFlow {
  explicit Inbox(std::size_t limit) : limit(limit) {}
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<Reply> replies;
  std::size_t limit;
  std::vector<std::function<void()>> on_drained;

  void push(Reply r) {
    {
      std::lock_guard lock(mutex);
      replies.push_back(std::move(r));
    }
    cv.notify_one();
  }
  // Waits up to `wait` for a reply.
  std::optional<Reply> pop(std::chrono::milliseconds wait) {
    std::vector<std::function<void()>> run;
    std::optional<Reply> out;
    {
      std::unique_lock lock(mutex);
      cv.wait_for(lock, wait, [&] { return !replies.empty(); });
      if (replies.empty()) return std::nullopt;
      out = std::move(replies.front());
      replies.pop_front();
      if (replies.size() < limit) run.swap(on_drained);
    }
    for (auto& cb : run) cb();
    return out;
  }
  bool congested() const override {
    std::lock_guard lock(const_cast<std::mutex&>(mutex));
    return replies.size() >= limit;
  }
  void notify_when_drained(std::function<void()> cb) override {
    {
      std::lock_guard lock(mutex);
      if (replies.size() >= limit) {
        on_drained.push_back(std::move(cb));
        return;
      }
    }
    cb();
  }
};

struct SourceState {
  NodeId id;
  int streams = 0;
  bool live = true;
  // A source that answered rate_limited gets no new batch before this (its retry_after_ms).
  std::chrono::steady_clock::time_point rest_until{};
};

// One file.read stream in flight: which missing slots it asked for, which arrived.
struct Batch {
  std::size_t source = 0;
  std::map<std::int64_t, std::size_t> slot_of_index;  // manifest index → missing slot
  std::set<std::size_t> pending;                      // slots not yet received
  bus::CancelToken cancel;
};

}  // namespace

TransferManager::TransferManager(blobs::BlobStore& store, bus::CapabilityBus& bus,
                                 CapacityCheck admit, TransferOptions options)
    : m_store(store), m_bus(bus), m_admit(std::move(admit)), m_options(options) {
  if (m_options.store_threads > 0) {
    // Nice +5 like the service queues (doc/design/architecture.md "Execution model").
    m_workers = std::make_shared<WorkQueue>(WorkQueueOptions{
        "file-store", static_cast<std::size_t>(m_options.store_threads),
        static_cast<std::size_t>(std::max(1, 2 * m_options.store_chunks_in_flight)), 5});
  }
}

TransferManager::~TransferManager() {
  if (m_workers) m_workers->stop();
}

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
                                                const bus::CancelToken& cancel,
                                                const std::optional<std::filesystem::path>& out,
                                                blobs::ExportMode out_mode) {
  FetchReport report;
  HN_TRY_ASSIGN(auto manifest, fetch_manifest(manifest_cid, sources));
  report.manifest = manifest;

  // Capacity first (what the store lacks as chunks; a resumed file's chunks count as
  // incoming, so a resume is admitted conservatively).
  std::int64_t bytes_incoming = 0;
  {
    std::set<std::string> seen;
    for (const auto& c : manifest.chunks) {
      if (seen.insert(c.cid).second && !m_store.has_chunk(c.cid)) bytes_incoming += c.size_bytes;
    }
  }
  if (m_admit) HN_TRY(m_admit(bytes_incoming));
  // The blob is written as one file (blobs::BlobWriter): the manifest first, then each
  // chunk once at its offsets. A fetch killed from here on resumes from what that file
  // holds (M07 §3.3 "Resumable"), and chunks the store has elsewhere are copied in.
  HN_TRY_ASSIGN(std::shared_ptr<blobs::BlobWriter> blob, m_store.begin_blob(manifest));

  // Distinct chunks, and which of them are already in the blob's file.
  std::vector<blobs::ChunkRef> missing;
  std::set<std::string> seen;
  std::int64_t bytes_missing = 0;
  for (const auto& c : manifest.chunks) {
    if (!seen.insert(c.cid).second) continue;
    ++report.chunks_total;
    if (blob->present(c.cid)) {
      ++report.chunks_present;
    } else {
      missing.push_back(c);
      bytes_missing += c.size_bytes;
    }
  }

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

  auto inbox = std::make_shared<Inbox>(static_cast<std::size_t>(m_options.inbox_frames));
  std::deque<std::size_t> queue;
  for (std::size_t i = 0; i < missing.size(); ++i) queue.push_back(i);
  std::vector<int> attempts(missing.size(), 0);
  std::size_t done = 0;
  std::map<std::uint64_t, Batch> batches;
  std::uint64_t next_batch = 1;
  auto last_progress = std::chrono::steady_clock::time_point{};
  Error last_error = make_error(ErrorCode::partition, "no source answered");

  // Chunks handed to the store workers and not answered yet. Every exit waits for them, so
  // no job outlives the fetch's blob file.
  std::size_t in_flight = 0;
  struct Drain {
    std::size_t& in_flight;
    Inbox& inbox;
    ~Drain() {
      while (in_flight > 0) {
        if (auto r = inbox.pop(std::chrono::milliseconds(200)); r && r->stored) --in_flight;
      }
    }
  } drain{in_flight, *inbox};
  // The kill hook counts chunks exactly: with it on, every chunk is stored on this thread.
  const bool use_workers = m_workers && m_options.kill_after_chunks == 0;
  const std::size_t max_in_flight =
      static_cast<std::size_t>(std::max(1, m_options.store_chunks_in_flight));

  auto live_sources = [&] {
    return static_cast<int>(std::count_if(srcs.begin(), srcs.end(), [](const auto& s) { return s.live; }));
  };
  auto fail = [&](Error e) -> Result<FetchReport> {
    for (auto& [id, b] : batches) b.cancel.cancel();
    return e;
  };
  auto drop_source = [&](std::size_t i) {
    if (!srcs[i].live) return;
    srcs[i].live = false;
    report.dropped_sources.push_back(srcs[i].id);
    for (auto& [id, b] : batches) {
      if (b.source == i) b.cancel.cancel();
    }
  };
  // A failed slot goes back to the queue; MAX_CHUNK_ATTEMPTS failures end the fetch.
  auto retry = [&](std::size_t slot, const Error& why) -> Status {
    last_error = why;
    if (++attempts[slot] >= MAX_CHUNK_ATTEMPTS) {
      return make_error(ErrorCode::partition,
                        "chunk " + std::to_string(missing[slot].index) + " failed " +
                            std::to_string(MAX_CHUNK_ATTEMPTS) + " times (last: " + why.message + ")",
                        Json{{"cid", missing[slot].cid}});
    }
    queue.push_front(slot);
    return {};
  };

  while (done < missing.size()) {
    if (cancel.is_cancelled()) {
      return fail(make_error(ErrorCode::timeout, "fetch cancelled", Json{{"cancelled", true}}));
    }
    // Hand out batches: the least-busy live source takes the next one, sized so that every
    // live source gets work.
    const auto hand_out_at = std::chrono::steady_clock::now();
    bool resting = false;
    while (!queue.empty()) {
      std::size_t best = srcs.size();
      for (std::size_t i = 0; i < srcs.size(); ++i) {
        if (srcs[i].live && srcs[i].rest_until > hand_out_at) {
          resting = true;
          continue;
        }
        if (srcs[i].live && srcs[i].streams < m_options.streams_per_source &&
            (best == srcs.size() || srcs[i].streams < srcs[best].streams)) {
          best = i;
        }
      }
      if (best == srcs.size()) break;
      const auto slots_per_stream =
          static_cast<std::size_t>(std::max(1, live_sources() * m_options.streams_per_source));
      // No tail of tiny batches (each is a call that X01's per-capability rate limit counts),
      // but never so large that a live source is left without work.
      const auto live = static_cast<std::size_t>(std::max(1, live_sources()));
      const std::size_t floor = std::min(static_cast<std::size_t>(std::max(1, m_options.min_batch)),
                                         (queue.size() + live - 1) / live);
      const std::size_t n = std::clamp<std::size_t>(
          std::max((queue.size() + slots_per_stream - 1) / slots_per_stream, floor), 1,
          static_cast<std::size_t>(m_options.max_batch));
      const std::uint64_t id = next_batch++;
      Batch& b = batches[id];
      b.source = best;
      Json indices = Json::array();
      for (std::size_t k = 0; k < n && !queue.empty(); ++k) {
        const std::size_t slot = queue.front();
        queue.pop_front();
        b.slot_of_index[missing[slot].index] = slot;
        b.pending.insert(slot);
        indices.push_back(missing[slot].index);
      }
      ++srcs[best].streams;
      bus::CallOptions o;
      o.target_node = srcs[best].id;
      o.remote_only = true;
      o.timeout_seconds = m_options.chunk_timeout_seconds;
      o.cancel = b.cancel;
      o.flow = inbox;
      o.binary_frames = m_options.binary_chunks;
      m_bus.async_stream(
          "file.read", READ_VERSION,
          Json{{"input", {{"cid", manifest_cid}, {"chunks", indices}, {"stream", true}}}},
          [inbox, id](bus::StreamFrame f) -> Status {
            if (f.event == "chunk") {
              // A binary frame's data has no "data_b64" (its bytes are the payload, maybe
              // none for an empty chunk); a JSON frame always has it.
              const bool binary = f.data.is_object() && !f.data.contains("data_b64");
              inbox->push(Reply{id, false, std::move(f.data), std::move(f.payload), binary});
            }
            return {};
          },
          o, [inbox, id](Result<Json> r) { inbox->push(Reply{id, true, std::move(r)}); });
    }
    if (batches.empty() && !resting && in_flight == 0) {
      return fail(make_error(ErrorCode::partition, "no live source left for " + manifest_cid,
                             Json{{"last_error", last_error.message}}));
    }
    auto reply = inbox->pop(std::chrono::milliseconds(200));
    if (!reply) continue;

    // A stored chunk counts; a bad one costs its source and an attempt (M07 §5.6); a failure
    // of our own (disk full) ends the fetch.
    auto on_stored = [&](std::size_t slot, std::size_t source, StoreOutcome o) -> Status {
      SourceState& from = srcs[source];
      const auto& want = missing[slot];
      if (o.status) {
        ++done;
        ++report.chunks_fetched;
        report.bytes_fetched += want.size_bytes;
        ++report.chunks_by_source[from.id];
        chunks_metric().inc({from.id.str()});
        bytes_metric().inc({}, static_cast<double>(want.size_bytes));
        p.bytes_done += want.size_bytes;
        ++p.chunks_done;
        if (m_options.kill_after_chunks > 0 && report.chunks_fetched == m_options.kill_after_chunks) {
          ::kill(::getpid(), SIGKILL);  // the test hook (transfer.h)
        }
        return {};
      }
      if (!o.bad_bytes) return o.status.error();
      ++report.bad_chunks;
      bad_chunks_metric().inc({from.id.str()});
      last_error = o.status.error();
      if (from.live) {
        if (++attempts[slot] >= MAX_CHUNK_ATTEMPTS) {
          return make_error(ErrorCode::partition,
                            "chunk " + std::to_string(want.index) + " failed " +
                                std::to_string(MAX_CHUNK_ATTEMPTS) + " times",
                            Json{{"last_error", last_error.message}});
        }
        drop_source(source);  // its batches' chunks go elsewhere
      }
      queue.push_front(slot);
      return {};
    };

    if (reply->stored) {
      --in_flight;
      if (auto s = on_stored(reply->slot, reply->source, std::move(reply->outcome)); !s) {
        return fail(s.error());
      }
    } else if (auto it = batches.find(reply->batch); it == batches.end()) {
      continue;  // a batch already given up
    } else if (reply->end) {
      Batch& b = it->second;
      SourceState& src = srcs[b.source];
      // The stream ended: what it did not deliver goes back to the queue.
      --src.streams;
      Error why = reply->result ? make_error(ErrorCode::partition, "stream ended early")
                                : reply->result.error();
      // A source that lacks the blob, or refuses us (it has not heard yet that we joined,
      // or revoked us), is dropped for this fetch without costing the chunks an attempt.
      if (!reply->result && (why.code == ErrorCode::not_found || why.code == ErrorCode::unauthorized ||
                             why.code == ErrorCode::revoked)) {
        drop_source(b.source);
      }
      // A source that rate-limits us rests for its retry_after_ms; the chunks cost nothing.
      const bool limited = !reply->result && why.code == ErrorCode::rate_limited;
      if (limited) {
        src.rest_until = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(std::max(100, why.retry_after_ms.value_or(1000)));
      }
      const auto pending = b.pending;
      const bool counts = src.live && !limited;  // a cancelled stream (source dropped) costs nothing
      batches.erase(it);
      for (auto slot : pending) {
        if (!counts) {
          queue.push_front(slot);
          continue;
        }
        if (auto s = retry(slot, why); !s) return fail(s.error());
      }
    } else {
      // A chunk frame: matched to the slot it answers here, verified and stored by a store
      // worker (or here, when they are all busy).
      Batch& b = it->second;
      const std::size_t source = b.source;
      const Json& data = *reply->result;
      auto header = parse_chunk_frame_header(data);
      std::optional<std::size_t> slot;
      if (header) {
        if (auto at = b.slot_of_index.find(header->index);
            at != b.slot_of_index.end() && b.pending.count(at->second)) {
          slot = at->second;
        }
      }
      StoreOutcome bad;
      if (!header) {
        bad = {header.error(), true};
      } else if (!slot) {
        bad = {make_error(ErrorCode::hash_mismatch, "source sent a chunk it was not asked for"), true};
      }
      if (!bad.status) {
        // Not a chunk it was asked for: the source is dropped, its chunks go elsewhere.
        ++report.bad_chunks;
        bad_chunks_metric().inc({srcs[source].id.str()});
        last_error = bad.status.error();
        drop_source(source);
      } else {
        b.pending.erase(*slot);  // from here on_stored decides its fate
        const auto& want = missing[*slot];
        if (!reply->binary) {
          // The contract's JSON frame (an older source): parsed and verified inline.
          auto chunk = parse_chunk_frame(data);
          Bytes bytes = chunk ? Bytes(chunk->data().begin(), chunk->data().end()) : Bytes{};
          StoreOutcome o = chunk ? store_chunk(*blob, want, chunk->cid(), std::move(bytes))
                                 : StoreOutcome{chunk.error(), true};
          if (auto s = on_stored(*slot, source, std::move(o)); !s) return fail(s.error());
        } else {
          auto payload = std::make_shared<Bytes>(std::move(reply->payload));
          auto cid = std::make_shared<std::string>(std::move(header->cid));
          const std::size_t at = *slot;
          bool posted = false;
          if (use_workers && in_flight < max_in_flight) {
            posted = m_workers->try_post([blob, inbox, want, cid, payload, at, source] {
              Reply r;
              r.stored = true;
              r.slot = at;
              r.source = source;
              r.outcome = store_chunk(*blob, want, std::move(*cid), std::move(*payload));
              inbox->push(std::move(r));
            });
          }
          if (posted) {
            ++in_flight;
          } else {
            StoreOutcome o = store_chunk(*blob, want, std::move(*cid), std::move(*payload));
            if (auto s = on_stored(at, source, std::move(o)); !s) return fail(s.error());
          }
        }
      }
    }
    p.sources_live = live_sources();
    const auto now = std::chrono::steady_clock::now();
    if (progress && (now - last_progress > std::chrono::milliseconds(100) || done == missing.size())) {
      last_progress = now;
      if (auto s = progress(p); !s) return fail(s.error());
    }
  }
  for (auto& [id, b] : batches) b.cancel.cancel();
  // One flush of one file before the blob is acknowledged, then its rename to .data.
  HN_TRY(blob->commit());
  if (!m_store.has_blob(manifest_cid)) {
    return make_error(ErrorCode::internal_error, "fetch ended but the blob is not whole");
  }
  // --out: the store's file under a second name when the filesystem allows (one write in
  // all), else a copy (blobs::BlobStore::export_blob).
  if (out) {
    HN_TRY(ensure_directory(out->has_parent_path() ? out->parent_path() : std::filesystem::path(".")));
    HN_TRY_ASSIGN(report.out_kind, m_store.export_blob(manifest_cid, *out, out_mode));
  }
  return report;
}

}  // namespace hn::services::files
