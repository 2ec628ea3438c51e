// blob_writer.h — a blob written into the store as one file while its chunks arrive
// (BlobStore::begin_blob; doc/design/files.md "One file per fetched blob").
//
// The bytes go to "<hex>.partial" in the blob's shard, each verified chunk written once at
// every offset it has in the blob; commit flushes the file once and renames it to
// "<hex>.data" (read-only), after which the store answers the blob and each of its chunks
// from it. A writer destroyed without commit — or a process killed — leaves the .partial
// file: the next begin_blob of the same blob takes it over and keeps each chunk that still
// hashes right (a resumed fetch moves only the rest). A live writer holds an exclusive
// flock on it, so a second writer of the same blob is refused (bad_request).
//
// Thread-safety: write() may be called from several threads at once (distinct chunks);
// commit and destruction are single-threaded, after every write returned.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "blobs/chunker.h"
#include "blobs/export_file.h"
#include "core/error.h"

namespace hn::blobs {

class BlobStore;

class BlobWriter {
 public:
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  const BlobManifest& manifest() const { return m_manifest; }
  // Whether a distinct chunk was in the file when begin_blob returned (resumed, or copied
  // from the store's other files).
  bool present(std::string_view chunk_cid) const { return m_present.contains(std::string(chunk_cid)); }
  std::int64_t chunks_present() const { return static_cast<std::int64_t>(m_present.size()); }
  // How many of those the killed writer's file held.
  std::int64_t chunks_resumed() const { return m_resumed; }

  // Writes a verified chunk of this blob at every offset it has (bad_request for a chunk
  // the blob does not hold).
  Status write(const VerifiedChunk& chunk);
  // Flushes, renames the file to the blob's .data and indexes its chunks.
  Status commit();

 private:
  friend class BlobStore;
  BlobWriter(BlobStore& store, BlobManifest manifest, std::unique_ptr<ExportFile> file);

  BlobStore& m_store;
  BlobManifest m_manifest;
  std::unique_ptr<ExportFile> m_file;
  std::unordered_map<std::string, std::vector<std::int64_t>> m_offsets;  // chunk CID → offsets
  std::unordered_set<std::string> m_present;
  std::int64_t m_resumed = 0;
  bool m_committed = false;
};

}  // namespace hn::blobs
