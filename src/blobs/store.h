// store.h — M07 §3.2 BlobStore: a content-addressed, hash-verified blob store on the local
// filesystem, with pins and LRU garbage collection.
//
// Layout (M07 §5.1), sharded by the first two hex characters of the CID:
//   <dir>/<aa>/<remaining 62 hex>.bin            a chunk (its bytes)
//   <dir>/<aa>/<remaining 62 hex>.manifest.json  a blob manifest (canonical JSON)
//   <dir>/<aa>/<remaining 62 hex>.data           a whole blob as one file (a fetched one)
//   <dir>/<aa>/<remaining 62 hex>.partial        a blob being fetched (kept for resume)
//   <dir>/pinned.txt                             newline-separated pinned CIDs
// A blob's chunks live either as chunk files (put, file.put) or inside its .data file (a
// fetch writes each chunk once, at its offsets: doc/design/files.md "One file per fetched
// blob"); a chunk CID inside a .data file is found through an index of those blobs'
// manifests, built on first use. Both layouts answer every call below.
// Every file is written atomically (temp file in the same directory + fsync + rename +
// directory fsync); a crash leaves at most a ".<name>.tmp-<ulid>" file, swept on open.
//
// Verification (M07 §5.2) is always on: chunks are hashed before they are written and again
// when read; a manifest is re-derived from its chunk list when read. A corrupted file reads
// as hash_mismatch, never as wrong bytes. Writes order chunks before their manifest.
//
// LRU (M07 §5.4): a file's mtime is its last-use stamp, set from the injected Clock when it
// is written and when it is read through the public API. GC evicts the least recently used
// unpinned blobs (a manifest with the chunks no remaining manifest references) and orphan
// chunks, oldest first, until disk usage is at or below the target; it never removes a
// pinned CID, nor a chunk referenced by any manifest that stays (pinned ones included).
// Disk usage comes from an injectable probe (default: statvfs of the store's filesystem).
//
// A .data file is made read-only (0444): `file get --out` may hand it out as a hard link.
//
// Errors: not_found, hash_mismatch, io_error, disk_full (ENOSPC), manifest_invalid; plus
// bad_request for a malformed CID argument or an operation refused (deleting a pinned CID).
//
// Thread-safety: all methods are safe to call concurrently. Reads and writes share a
// reader-writer lock; gc() and deletions take it exclusively, so GC never races a write
// that is about to rely on an existing chunk. One process per store directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "blobs/chunker.h"
#include "core/clock.h"
#include "core/constants.h"
#include "core/encoding.h"
#include "core/error.h"

namespace hn::blobs {

namespace fs = std::filesystem;

// GC evicts down to this fraction of capacity — M07 §3.2 gc(target_fraction=0.7), §5.4.
inline constexpr double BLOB_GC_TARGET_FRACTION = 0.7;
// read_blob_bytes refuses larger blobs — M07 §3.2 "for small blobs only (< 100 MB)".
inline constexpr std::int64_t READ_BLOB_BYTES_MAX = 100 * 1000 * 1000;
// The pins file inside the store directory — M07 §5.1.
inline constexpr const char* PINNED_FILE = "pinned.txt";

// Bytes used and total on the store's filesystem (or a configured capacity).
struct DiskUsage {
  std::uint64_t used_bytes = 0;
  std::uint64_t capacity_bytes = 0;
  double fraction() const {
    return capacity_bytes == 0
               ? 1.0
               : static_cast<double>(used_bytes) / static_cast<double>(capacity_bytes);
  }
};

// Where GC learns disk usage; tests inject one to simulate a full disk. Called with the
// store's lock held: it must not call back into the BlobStore.
using DiskUsageProbe = std::function<Result<DiskUsage>()>;

// statvfs of the filesystem holding `dir` (used = total − available to unprivileged users).
Result<DiskUsage> filesystem_disk_usage(const fs::path& dir);

struct BlobStoreOptions {
  double gc_threshold = BLOB_GC_DISK_THRESHOLD;         // maybe_gc runs above this (M07 §5.4)
  double gc_target_fraction = BLOB_GC_TARGET_FRACTION;  // maybe_gc evicts down to this
  DiskUsageProbe disk_usage;                            // empty → see capacity_bytes
  // > 0: usage is the store's own bytes against this capacity (X04 file.max_store_bytes);
  // 0: the filesystem's (filesystem_disk_usage). A probe, when set, wins over both.
  std::uint64_t capacity_bytes = 0;
  const Clock* clock = nullptr;                         // nullptr → SystemClock::instance()
  bool fsync_writes = true;                             // fsync files and directories
};

// What a CID names in the store.
enum class CidKind { chunk, manifest };

// Which CIDs list_cids returns.
enum class ListFilter { all, chunks, manifests };

// stat() of one CID. For a manifest, sizes describe the blob.
struct BlobStat {
  std::string cid;
  CidKind kind = CidKind::chunk;
  std::int64_t size_bytes = 0;    // chunk length, or the blob's logical size
  std::int64_t stored_bytes = 0;  // bytes on disk (manifest file + present distinct chunks)
  std::int64_t chunk_count = 0;   // 1 for a chunk
  std::int64_t chunks_present = 0;
  bool complete = false;  // has_blob() for a manifest; true for a chunk
  bool pinned = false;
  std::int64_t last_used_ms = 0;  // LRU stamp (file mtime)
  std::optional<std::string> mime_type;
  std::optional<std::string> filename;
};

// What a GC pass did.
struct GcReport {
  bool ran = false;  // false when maybe_gc found usage at or below the threshold
  DiskUsage usage_before;
  std::uint64_t used_after_bytes = 0;  // estimate: used before − bytes freed
  std::uint64_t target_bytes = 0;
  std::uint64_t bytes_freed = 0;
  std::vector<std::string> evicted;  // evicted manifest CIDs and orphan chunk CIDs, in order
  std::size_t chunks_deleted = 0;
  bool target_reached = false;  // false when only pinned / referenced data was left
};

// Options for put_bytes / put_file.
struct PutOptions {
  std::optional<std::string> mime_type;
  std::optional<std::string> filename;  // advisory, not part of the CID
};

class BlobWriter;

// How export_blob put a blob at its target.
enum class ExportKind { reflink, hard_link, copy };
std::string_view export_kind_name(ExportKind kind);
// share: a reflink, else a read-only hard link of the blob's .data file (same filesystem),
// else a copy; copy: always an independent, writable copy (the blob written again).
enum class ExportMode { share, copy };

class BlobStore {
 public:
  // Opens (creating if needed) a store at dir, loads the pins and sweeps stale temp files.
  static Result<std::unique_ptr<BlobStore>> open(const fs::path& dir,
                                                 BlobStoreOptions options = {});

  BlobStore(const BlobStore&) = delete;
  BlobStore& operator=(const BlobStore&) = delete;

  const fs::path& dir() const { return m_dir; }

  // --- single-chunk ops (M07 §3.2) ---

  // Whether cid is stored, as a chunk or as a manifest (file.read accepts either, §4.7).
  bool has(std::string_view cid) const;
  bool has_chunk(std::string_view cid) const;
  // The chunk's bytes, verified; not_found if absent, hash_mismatch if corrupted on disk.
  Result<Bytes> read_chunk(std::string_view cid);
  // Verifies data against cid (hash_mismatch, nothing written), then stores it; idempotent.
  // Durability::deferred skips the per-chunk fsync (a transfer's chunks: one sync_all()
  // before the blob is acknowledged costs what one fsync per 256 KiB chunk would cost
  // thousands of times over) and only starts the chunk's writeback; a process kill loses
  // nothing either way.
  enum class Durability { now, deferred };
  Status write_chunk(std::string_view cid, std::span<const std::uint8_t> data,
                     Durability durability = Durability::now);
  // The same for a chunk already checked against its CID: not hashed again.
  Status write_chunk(const VerifiedChunk& chunk, Durability durability = Durability::now);
  // Flushes everything written to the store's filesystem (syncfs), e.g. after deferred
  // chunk writes and before the blob they make is acknowledged.
  Status sync_all() const;
  // Removes a chunk; false when absent. Refuses (bad_request) a pinned chunk or one that a
  // pinned manifest references.
  Result<bool> delete_chunk(std::string_view cid);

  // --- blob (manifest + chunks) ops (M07 §3.2) ---

  // True iff the manifest exists and every chunk it references exists.
  bool has_blob(std::string_view manifest_cid) const;
  bool has_manifest(std::string_view manifest_cid) const;
  // The manifest, re-derived and checked against its CID (hash_mismatch when it differs).
  Result<BlobManifest> read_manifest(std::string_view manifest_cid);
  // Stores a manifest alone (its chunks may arrive later, e.g. a fetch); manifest_invalid
  // unless consistent. Idempotent: an existing manifest is kept.
  Status write_manifest(const BlobManifest& manifest);
  // Verifies every chunk against the manifest before writing anything, then writes the
  // chunks and finally the manifest.
  Status write_blob(const BlobManifest& manifest, const std::vector<Bytes>& chunks);
  // Chunks and stores bytes; returns the manifest (its cid names the blob).
  Result<BlobManifest> put_bytes(std::span<const std::uint8_t> data,
                                 const PutOptions& options = {});
  // Streams a file into the store chunk by chunk (never the whole file in memory); the
  // manifest's filename defaults to the file's name. On failure, chunks already written
  // stay as verified orphans that GC reclaims.
  Result<BlobManifest> put_file(const fs::path& path, const PutOptions& options = {});
  // The whole blob in memory, every chunk verified; bad_request above READ_BLOB_BYTES_MAX.
  Result<Bytes> read_blob_bytes(std::string_view manifest_cid);
  // Hands each verified chunk to sink in index order (M07 §3.2 read_blob_stream). The sink
  // runs under the store's shared lock and must not call back into the store.
  Status read_blob_stream(std::string_view manifest_cid, const ChunkSink& sink);
  // Writes the blob to out atomically (blobs::ExportFile: temp + fsync + rename); nothing at
  // out on failure. Always a copy (export_blob's ExportMode::copy).
  Status read_blob_to(std::string_view manifest_cid, const fs::path& out);
  // A blob written as one file (a fetch; blob_writer.h): stores the manifest, then opens the
  // blob's .partial file — or takes over the one a killed fetch left, keeping the chunks in
  // it that still verify — and copies in the chunks the store holds elsewhere.
  Result<std::unique_ptr<BlobWriter>> begin_blob(const BlobManifest& manifest);
  // One chunk of a blob, verified: from the blob's .data file when it has one, else from
  // wherever the store holds that chunk (a server's batch: no manifest load per chunk).
  Result<Bytes> read_blob_chunk(const BlobManifest& manifest, const ChunkRef& ref);
  // Puts the whole blob at `out` atomically (nothing there on failure; replaces a file).
  Result<ExportKind> export_blob(std::string_view manifest_cid, const fs::path& out,
                                 ExportMode mode = ExportMode::share);

  // Removes a blob's manifest and the chunks no other manifest references; returns bytes
  // freed. not_found if absent; bad_request if the blob is pinned.
  Result<std::uint64_t> delete_blob(std::string_view manifest_cid);

  // --- introspection / GC ---

  // Sorted, distinct CIDs starting with prefix ("blake3:ab…"), filtered by kind.
  Result<std::vector<std::string>> list_cids(std::string_view prefix = {},
                                             ListFilter filter = ListFilter::all) const;
  // Bytes of every chunk and manifest file.
  Result<std::uint64_t> total_bytes() const;
  Result<BlobStat> stat(std::string_view cid) const;

  // Pins persist in pinned.txt (M07 §5.3). A CID may be pinned before it is stored.
  Status pin(std::string_view cid);
  Status unpin(std::string_view cid);
  bool is_pinned(std::string_view cid) const;
  std::vector<std::string> pinned() const;

  // The usage the probe reports now.
  Result<DiskUsage> disk_usage() const;
  // LRU-evicts unpinned blobs until usage ≤ target_fraction × capacity (M07 §3.2 gc).
  Result<GcReport> gc(double target_fraction = BLOB_GC_TARGET_FRACTION);
  // Runs gc(options.gc_target_fraction) only when usage exceeds options.gc_threshold (§5.4).
  Result<GcReport> maybe_gc();

 private:
  friend class BlobWriter;
  BlobStore(fs::path dir, BlobStoreOptions options);

  fs::path chunk_path(std::string_view cid) const;
  fs::path manifest_path(std::string_view cid) const;
  fs::path data_path(std::string_view cid) const;
  fs::path partial_path(std::string_view cid) const;
  std::int64_t now_ms() const;
  void touch(const fs::path& path) const;

  Status load_pins();
  Status save_pins_locked() const;
  bool is_pinned_locked(std::string_view cid) const;
  void sweep_temp_files() const;

  // The following expect m_lock held (shared or exclusive).
  Result<Bytes> read_chunk_locked(std::string_view cid) const;
  bool has_chunk_locked(std::string_view cid) const;
  // `size` bytes at `offset` of a blob's .data file, checked against chunk_cid.
  Result<Bytes> read_data_locked(const fs::path& data, std::int64_t offset, std::int64_t size,
                                 std::string_view chunk_cid) const;
  // Where a chunk lives inside a .data file (the index of whole blobs' manifests).
  struct PackedLoc {
    std::string manifest_cid;
    std::int64_t offset = 0;
    std::int64_t size = 0;
  };
  std::optional<PackedLoc> find_packed_locked(std::string_view chunk_cid) const;
  void add_packed(const BlobManifest& manifest);  // a committed .data file
  void forget_packed();                           // rebuilt on next use (after deletions)
  // Removes a .partial file no writer holds (flock); the bytes freed.
  std::uint64_t remove_idle_partial(const fs::path& path) const;
  Status store_verified_chunk_locked(std::string_view cid, std::span<const std::uint8_t> data,
                                     std::set<fs::path>* dirs_to_sync, bool sync = true);
  Result<BlobManifest> load_manifest_locked(std::string_view cid) const;
  Status store_manifest_locked(const BlobManifest& manifest);
  Status sync_dirs(const std::set<fs::path>& dirs) const;
  Result<GcReport> gc_locked(double target_fraction, const DiskUsage& usage);

  const fs::path m_dir;
  const BlobStoreOptions m_options;
  const Clock& m_clock;

  mutable std::shared_mutex m_lock;  // shared: reads/writes; exclusive: gc, deletions
  mutable std::mutex m_pins_mutex;   // guards m_pins; taken after m_lock
  std::set<std::string, std::less<>> m_pins;
  mutable std::mutex m_packed_mutex;  // guards the index below; taken after m_lock
  mutable bool m_packed_loaded = false;
  mutable std::unordered_map<std::string, PackedLoc> m_packed;  // chunk CID → where
};

}  // namespace hn::blobs
