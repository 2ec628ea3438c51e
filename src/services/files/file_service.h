// file_service.h — M07 §4 FileService: the mesh's content-addressed files over the bus.
//
// Capabilities (CONTRACT §4.7–4.10; all @1.0):
//   file.read      member  chunk CID: plain {"output": <chunk>} or a stream of one `chunk`
//                          frame. Manifest CID of a whole blob: a stream of `manifest`, `chunk`…,
//                          `done` {"chunks","ms"}; a plain call answers {"output": {"manifest"}}
//                          alone (how a fetcher learns the chunk list without the chunks);
//                          extension "chunks": [indices] streams only those `chunk` frames.
//                          A stream whose consumer asked for binary frames (transport Accept,
//                          CallContext request.binary_frames) carries each chunk's bytes as the
//                          frame's raw payload, its data {"i","cid","size_bytes"}; every other
//                          consumer gets the contract's JSON frames with "data_b64".
//   file.list      member  {"prefix"?} → {"cids"} of whole blobs here; extensions "detail"
//                          (entries: name, media type, size, pinned, holders) and "remote"
//                          (also what peers hold, asked with file.list fan-out).
//   file.advertise member  {"cids"} → {"recorded"}: the caller holds them (source index).
//   file.put       trusted {"manifest", "chunks"?: [≤ 8 chunk frames], "pin"?} → stream
//                          `ready` {"needed"} then `done`, or plain {"output": {"needed",
//                          "received", "complete"}}. The upstream of chunks travels as further
//                          calls carrying chunks (DESIGN.md "side channel"); the manifest is
//                          stored only when every chunk is: a partial put leaves no blob.
//   file.fetch     self    (extension) fetch a blob with the TransferManager, `progress`
//                          frames, optionally write it to "out" on this machine.
//   file.pin       self    (extension) {"cid","pinned"} pin / unpin.
// Events: `file.cid.advertised` {"cid","sizes_bytes"} when a blob becomes whole here (put or
// fetch), `file.cid.unpinned` {"cid"} on unpin (CONTRACT §7.2).
// Capacity (M07 §5.4, §5.7): with [file] max_store_bytes, a put or fetch that would take the
// store past file.gc_threshold first runs LRU GC; if pinned data keeps it above, it is
// refused with capacity_exceeded. Always: refused when the filesystem would keep less than
// FREE_SPACE_FLOOR_BYTES free.
//
// Test hook: HEARTHNET_FILE_CORRUPT_READS=1 makes this node serve every chunk with its first
// byte flipped (the CID unchanged) — a source that serves corrupted chunks;
// HEARTHNET_FILE_KILL_AFTER_CHUNKS=N makes a fetch SIGKILL its own node after N chunks;
// HEARTHNET_FILE_BINARY_CHUNKS=0 makes this node's fetches ask for the contract's JSON chunk
// frames instead of binary ones (doc/design/files.md "The binary chunk path");
// HEARTHNET_FILE_STORE_THREADS=N (0–8, default 2) sets TransferOptions::store_threads (bench).
//
// Thread-safety: handlers run on the service's queue threads concurrently; the store, the
// index and the event log are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "blobs/store.h"
#include "bus/capability.h"
#include "bus/service.h"
#include "core/work_queue.h"
#include "events/event_log.h"
#include "service/context.h"
#include "services/files/put_progress.h"
#include "services/files/source_index.h"
#include "services/files/transfer.h"

namespace hn::services::files {

inline constexpr const char* FILE_READ = "file.read";
inline constexpr const char* FILE_LIST = "file.list";
inline constexpr const char* FILE_ADVERTISE = "file.advertise";
inline constexpr const char* FILE_PUT = "file.put";
inline constexpr const char* FILE_FETCH = "file.fetch";
inline constexpr const char* FILE_PIN = "file.pin";
// M07 §5.7: refuse a put that would leave less than 1 GB free on the filesystem.
inline constexpr std::uint64_t FREE_SPACE_FLOOR_BYTES = 1000ULL * 1000 * 1000;

bus::CapabilityDescriptor file_read_descriptor();
bus::CapabilityDescriptor file_list_descriptor();
bus::CapabilityDescriptor file_advertise_descriptor();
bus::CapabilityDescriptor file_put_descriptor();
bus::CapabilityDescriptor file_fetch_descriptor();
bus::CapabilityDescriptor file_pin_descriptor();

struct FileServiceOptions {
  bool corrupt_reads = false;  // the test hook above
  std::uint64_t free_space_floor = FREE_SPACE_FLOOR_BYTES;
  TransferOptions transfer;
};

class FileService final : public bus::Service {
 public:
  FileService(const service::ServiceContext& ctx, FileServiceOptions options = {});
  ~FileService() override;
  std::string name() const override { return "files"; }
  std::string version() const override { return "1.0.0"; }
  std::vector<std::string> namespace_prefixes() const override { return {"file"}; }
  std::vector<bus::LocalCapability> capabilities() override;
  // Reads and lists are short; puts hold a thread per batch. Fetches run on their own queue.
  bus::ExecutionSpec execution() const override { return {4, 128}; }
  Status start() override;
  void stop() override;
  Json health() const override;

  SourceIndex& sources() { return m_index; }

 private:
  Result<Json> read(const bus::CallContext& ctx, const Json& body);
  Result<Json> read_stream(const bus::CallContext& ctx, const Json& body, const bus::FrameSink& emit);
  Result<Json> list(const bus::CallContext& ctx, const Json& body);
  Result<Json> advertise(const bus::CallContext& ctx, const Json& body);
  Result<Json> put(const bus::CallContext& ctx, const Json& body);
  Result<Json> fetch(const bus::CallContext& ctx, const Json& body, const bus::FrameSink& emit);
  Result<Json> pin(const bus::CallContext& ctx, const Json& body);

  // Bytes of a chunk as served (the corruption hook applies here).
  Result<Bytes> serve_chunk(const std::string& cid);
  Result<Bytes> serve_chunk(const blobs::BlobManifest& m, const blobs::ChunkRef& ref);
  // capacity_exceeded unless `incoming` more bytes fit; with make_room, LRU GC first when
  // the store (max_store_bytes) would pass the threshold.
  enum class GcChoice { make_room, check_only };
  Status admit(std::int64_t incoming, GcChoice gc);
  // Nodes that hold cid: the index, plus a file.list fan-out to every peer offering it.
  std::vector<NodeId> find_sources(const std::string& cid);
  // {"cid": {holders, size_bytes}} from every peer's file.list detail.
  Json list_remote(const std::string& prefix);
  void advertise_whole(const blobs::BlobManifest& m);

  const service::ServiceContext m_ctx;
  const FileServiceOptions m_options;
  SourceIndex m_index;
  PutProgress m_puts;  // what each put under way still lacks
  events::Subscription m_subscription;
  bus::CancelToken m_stop;  // cancelled by stop()
  std::shared_ptr<WorkQueue> m_fetch_queue;
  TransferManager m_transfer;
};

// The service host's factory (src/node/service_list.cpp).
std::unique_ptr<bus::Service> make_service(const service::ServiceContext& ctx);

}  // namespace hn::services::files
