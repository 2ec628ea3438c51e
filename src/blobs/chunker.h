// chunker.h — M07 §3.1: split blobs into CHUNK_SIZE_BYTES chunks, name each chunk by its
// BLAKE3 CID, and describe the blob with a BlobManifest whose own CID is derived from the
// chunk list (the "merkle root" of the spec).
//
// Manifest CID (M07 §3.1 manifest_cid): BLAKE3 over the canonical JSON (CONTRACT §1.2) of
//   {"chunk_size_bytes": <int>, "chunks": ["blake3:<hex>", ...], "size_bytes": <int>}
// i.e. only chunks[].cid (in index order), size_bytes and chunk_size_bytes; mime_type and
// filename are advisory and never part of the CID. Every blob — also an empty or a
// single-chunk one — has a manifest; its CID always differs from the chunk CIDs (M07 §3.1,
// CONTRACT §4.7 tells chunk CIDs and manifest CIDs apart).
//
// JSON form (CONTRACT §4.7 "manifest" frame, plus ChunkRef.size_bytes and the optional
// advisory fields):
//   {"cid","size_bytes","chunk_size_bytes","chunks":[{"i","cid","size_bytes"}...],
//    "mime_type"?, "filename"?}
//
// Thread-safety: free functions are pure; a ManifestBuilder is single-threaded.
// Invariants: a BlobManifest returned by chunk_blob / ManifestBuilder::finish /
// parse_blob_manifest is consistent: chunk count == ceil(size/chunk_size), every chunk but
// the last is exactly chunk_size_bytes, indices are 0..n-1, cid == manifest_cid(*this).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/constants.h"
#include "core/encoding.h"
#include "core/error.h"
#include "core/json.h"

namespace hn::blobs {

// The largest chunk size a manifest may declare; bounds memory when reading a chunk.
inline constexpr std::int64_t MAX_CHUNK_SIZE_BYTES = 16 * 1024 * 1024;
// The largest blob size a manifest may declare (JSON integers fit in 53 bits, CONTRACT §1.1).
inline constexpr std::int64_t MAX_BLOB_SIZE_BYTES = (std::int64_t{1} << 53) - 1;

// One chunk of a blob — M07 §3.1 ChunkRef.
struct ChunkRef {
  std::int64_t index = 0;
  std::string cid;  // "blake3:<hex>" of this chunk's bytes
  std::int64_t size_bytes = 0;

  bool operator==(const ChunkRef&) const = default;
};

// A blob's description — M07 §3.1 BlobManifest.
struct BlobManifest {
  std::string cid;  // manifest_cid() of the fields below
  std::int64_t size_bytes = 0;
  std::int64_t chunk_size_bytes = CHUNK_SIZE_BYTES;
  std::vector<ChunkRef> chunks;
  std::optional<std::string> mime_type;
  std::optional<std::string> filename;  // advisory only, not part of the CID

  bool operator==(const BlobManifest&) const = default;
};

// A blob split in memory: its manifest and the chunk bytes in index order.
struct ChunkedBlob {
  BlobManifest manifest;
  std::vector<Bytes> chunks;
};

// BLAKE3 → "blake3:<hex>" — M07 §3.1 hash_bytes.
std::string hash_bytes(std::span<const std::uint8_t> data);

// Splits bytes into chunk_size chunks (the last may be shorter; none for empty data) and
// computes the chunk CIDs and the manifest CID — M07 §3.1 chunk_blob. chunk_size must be in
// (0, MAX_CHUNK_SIZE_BYTES].
ChunkedBlob chunk_blob(std::span<const std::uint8_t> data,
                       std::int64_t chunk_size = CHUNK_SIZE_BYTES);

// The manifest's CID over {chunks[].cid, size_bytes, chunk_size_bytes} — M07 §3.1.
std::string manifest_cid(const BlobManifest& manifest);

// Concatenates chunks in order; callers verify each chunk first — M07 §3.1 reassemble.
Bytes reassemble(const std::vector<Bytes>& chunks);

// hash_mismatch when data's BLAKE3 is not expected_cid — M07 §3.1 verify_chunk.
Status verify_chunk(std::span<const std::uint8_t> data, std::string_view expected_cid);

// A chunk whose bytes hashed to its CID: made only by check(), so whoever holds one may
// store it without hashing it again (BlobStore::write_chunk(const VerifiedChunk&)) — the
// fetching side hashes each chunk once (doc/design/files.md "Hash once, write once").
class VerifiedChunk {
 public:
  // hash_mismatch (as verify_chunk) when data's BLAKE3 is not cid.
  static Result<VerifiedChunk> check(std::string cid, Bytes data);

  const std::string& cid() const { return m_cid; }
  std::span<const std::uint8_t> bytes() const { return m_data; }
  std::size_t size() const { return m_data.size(); }
  // The bytes, handed back (e.g. to core/buffer_pool.h once written).
  Bytes take_bytes() && { return std::move(m_data); }

 private:
  VerifiedChunk(std::string cid, Bytes data) : m_cid(std::move(cid)), m_data(std::move(data)) {}
  std::string m_cid;
  Bytes m_data;
};

// The manifest's JSON form (see the file comment). Round-trips through parse_blob_manifest.
Json manifest_to_json(const BlobManifest& manifest);
// Type-checks untrusted JSON into a consistent manifest; anything wrong (types, counts,
// sizes, indices, CID forms, cid not matching the content) → ErrorCode::manifest_invalid.
// Per-chunk "size_bytes" may be omitted (the CONTRACT §4.7 frame omits it); it is derived.
Result<BlobManifest> parse_blob_manifest(const Json& json);

// Builds a manifest incrementally from chunks fed in order (streaming chunking).
class ManifestBuilder {
 public:
  explicit ManifestBuilder(std::int64_t chunk_size = CHUNK_SIZE_BYTES);
  // Hashes the next chunk and returns its ref. Every chunk but the last must be exactly
  // chunk_size bytes and none may be empty (a programming error otherwise).
  ChunkRef add_chunk(std::span<const std::uint8_t> data);
  // The finished manifest, with its CID.
  BlobManifest finish(std::optional<std::string> mime_type = std::nullopt,
                      std::optional<std::string> filename = std::nullopt) &&;

 private:
  BlobManifest m_manifest;
  bool m_saw_short_chunk = false;
};

// Receives each chunk as it is produced; an error stops the chunking.
using ChunkSink = std::function<Status(const ChunkRef&, std::span<const std::uint8_t>)>;

// Options for chunk_file.
struct ChunkFileOptions {
  std::int64_t chunk_size = CHUNK_SIZE_BYTES;
  std::optional<std::string> mime_type;
  std::optional<std::string> filename;  // defaults to nothing (the path is not recorded)
};

// Streams a file chunk by chunk (one chunk buffer in memory), handing each chunk to sink,
// and returns the manifest. not_found / io_error for the file; sink errors pass through.
Result<BlobManifest> chunk_file(const std::filesystem::path& path, const ChunkSink& sink,
                                const ChunkFileOptions& options = {});

}  // namespace hn::blobs
