// transfer.h — M07 §3.3 TransferManager: fetches a blob's missing chunks from several
// sources in parallel and stores each one only after its BLAKE3 matched (§5.2, CONTRACT
// §4.7 "Clients verify each chunk's BLAKE3 before storing").
//
// How a fetch runs (M07 §5.6):
//   1. The manifest: from the store when a previous (interrupted) fetch stored it, else a
//      plain file.read of the manifest CID at the sources (answered with the manifest
//      alone, services/files/file_service.h). The blob is then written as one file in the
//      store (blobs::BlobWriter: manifest first, each chunk once at its offsets), so a
//      fetch killed with SIGKILL resumes from the chunks that file holds and moves only
//      the missing ones.
//   2. Missing chunks are asked for in batches: a file.read stream of the manifest CID with
//      the extension input "chunks": [indices], pinned to one source (bus target_node). A
//      batch is at most max_batch chunks and small enough that every live source gets
//      work; at most streams_per_source streams run at one source, and the least-busy live
//      source takes the next batch. A source that answers rate_limited rests for its
//      retry_after_ms, its batch's chunks requeued at no cost. (One plain call per chunk would meet X01's per-peer
//      rate limit of 10 calls/s per capability long before the network's speed.)
//   3. A reply is verified, then stored. A bad chunk (wrong hash, wrong size, malformed)
//      drops its source for the rest of the fetch (metric
//      hearthnet_file_bad_chunks_total{source}) and the chunk goes back to the queue; any
//      failure counts an attempt on the chunk, and a chunk that failed MAX_CHUNK_ATTEMPTS
//      times — or running out of live sources — fails the fetch with `partition`.
// Verification (one BLAKE3 per chunk: blobs::VerifiedChunk) and the write into the blob's
// file run on store_threads helper threads, at most store_chunks_in_flight chunks in flight
// per fetch; past that the fetching thread does the work itself. Every exit of a fetch waits
// for its chunks in flight. The blob's file is flushed once, when whole; --out is then that
// file under a second name when the filesystem allows (blobs::BlobStore::export_blob).
// Memory: received frames wait in an inbox of inbox_frames; while it is full the streams are
// congested (bus::StreamFlow), so the transport stops reading and the providers' windows
// hold them back. Never the blob: a 1 GiB fetch holds a few tens of MiB.
//
// Thread-safety: fetch() blocks its caller (a service queue thread, never the network
// thread); replies arrive on whatever thread completes the bus call and are only queued
// there. Several fetches may run at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "blobs/store.h"
#include "bus/bus.h"
#include "core/error.h"
#include "core/types.h"
#include "core/work_queue.h"

namespace hn::services::files {

// M07 §5.6: after this many failed attempts on one chunk the fetch fails with partition.
inline constexpr int MAX_CHUNK_ATTEMPTS = 3;

struct TransferOptions {
  // Chunks asked for in one file.read stream: at most 256 (64 MiB — X01's soft limit of 10
  // calls/s per capability would cap 16 MiB batches at 160 MiB/s per source), at least 16
  // unless fewer are left or every live source would not get its share. Memory does not grow
  // with it: the stream's window bounds that.
  int max_batch = 256;
  int min_batch = 16;
  int streams_per_source = 2;  // file.read streams in flight at one source
  int inbox_frames = 16;       // received chunk frames waiting to be verified (backpressure)
  // Threads that verify, store and write --out received chunks (shared by every fetch of the
  // service). 0: all on the fetching thread.
  int store_threads = 2;
  // Chunks of one fetch handed to them and not stored yet (4 MiB); past it the fetching
  // thread stores the next chunk itself, which holds back the streams (backpressure).
  int store_chunks_in_flight = 16;
  int chunk_timeout_seconds = 300;  // one batch's deadline
  // Ask sources for binary chunk frames (doc/design/files.md): raw bytes instead of base64
  // in JSON. A source that does not know them answers JSON frames, read as before.
  bool binary_chunks = true;
  // Test hook (HEARTHNET_FILE_KILL_AFTER_CHUNKS): the process SIGKILLs itself right after
  // storing this many chunks of a fetch — a crash halfway, for the resume test. 0 = off.
  std::int64_t kill_after_chunks = 0;
};

// What a fetch did (the done frame of file.fetch).
struct FetchReport {
  blobs::BlobManifest manifest;
  std::int64_t chunks_total = 0;       // distinct chunks of the blob
  std::int64_t chunks_present = 0;     // already on disk when the fetch began
  std::int64_t chunks_fetched = 0;     // moved over the network by this fetch
  std::int64_t bytes_fetched = 0;      // chunk bytes moved by this fetch
  std::int64_t bad_chunks = 0;         // replies that failed verification
  std::map<NodeId, std::int64_t> chunks_by_source;
  std::vector<NodeId> dropped_sources;
  std::optional<blobs::ExportKind> out_kind;  // how --out was made, when asked for
};

// Progress while chunks arrive (for the CLI's bar): bytes of the blob on disk now.
struct FetchProgress {
  std::int64_t bytes_done = 0;
  std::int64_t bytes_total = 0;
  std::int64_t chunks_done = 0;
  std::int64_t chunks_total = 0;
  int sources_live = 0;
};
using ProgressFn = std::function<Status(const FetchProgress&)>;
// Admits `incoming_bytes` more in the store, or capacity_exceeded (file_service's check).
using CapacityCheck = std::function<Status(std::int64_t incoming_bytes)>;

class TransferManager {
 public:
  TransferManager(blobs::BlobStore& store, bus::CapabilityBus& bus, CapacityCheck admit,
                  TransferOptions options = {});
  ~TransferManager();

  // The store workers' queue (health reports its threads), or null.
  const WorkQueue* workers() const { return m_workers.get(); }

  // Fetches manifest_cid from `sources` (other nodes) until the blob is whole in the store.
  // `progress` runs on the caller's thread; an error from it (a consumer that went away)
  // stops the fetch with that error. `cancel` stops it too.
  // With `out`, the whole blob is then put there (BlobStore::export_blob with out_mode:
  // nothing at out before the blob is whole and verified).
  Result<FetchReport> fetch_blob(const std::string& manifest_cid, const std::vector<NodeId>& sources,
                                 const ProgressFn& progress, const bus::CancelToken& cancel,
                                 const std::optional<std::filesystem::path>& out = std::nullopt,
                                 blobs::ExportMode out_mode = blobs::ExportMode::share);

 private:
  Result<blobs::BlobManifest> fetch_manifest(const std::string& cid,
                                             const std::vector<NodeId>& sources);

  blobs::BlobStore& m_store;
  bus::CapabilityBus& m_bus;
  CapacityCheck m_admit;
  TransferOptions m_options;
  std::shared_ptr<WorkQueue> m_workers;  // "file-store"; null when store_threads is 0
};

}  // namespace hn::services::files
