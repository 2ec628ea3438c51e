// frames.h — the file service's parsers of peer bytes and its frame builders
// (CONTRACT §4.7 `chunk` frames and single-chunk answers, §4.10 file.put requests). Every
// parser type-checks untrusted JSON and verifies a chunk's BLAKE3 against its CID before
// handing bytes on: a bad frame is a typed error (bad_request, hash_mismatch,
// manifest_invalid), never a crash and never stored. Fuzzed by fuzz/file_frames_fuzz.cpp.
//
// Binary content is base64url without padding (CONTRACT §1: "Binary content"). The binary
// chunk path (doc/design/files.md "The binary chunk path") carries a chunk's bytes as the
// frame's raw payload instead, its data the same fields without "data_b64".
//
// Thread-safety: free functions, pure.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "blobs/chunker.h"
#include "core/encoding.h"
#include "core/error.h"
#include "core/json.h"

namespace hn::services::files {

// At most this many chunks travel in one file.put call (2 MiB of chunk bytes, ~2.7 MiB of
// base64: well inside the transport's 8 MiB request body).
inline constexpr std::size_t PUT_MAX_CHUNKS_PER_CALL = 8;

// One verified chunk: its index in the blob (−1 when the frame names none), CID and bytes.
// The chunk was hashed once, here; the store takes it as it is (blobs::VerifiedChunk).
struct ChunkFrame {
  std::int64_t index = -1;
  blobs::VerifiedChunk chunk;

  const std::string& cid() const { return chunk.cid(); }
  std::span<const std::uint8_t> data() const { return chunk.bytes(); }
};

// A chunk frame's fields before its bytes are hashed: index (−1 when absent), CID and the
// declared size (−1 when absent). bad_request for shapes (the same checks as below).
struct ChunkFrameHeader {
  std::int64_t index = -1;
  std::string cid;
  std::int64_t size_bytes = -1;
};
Result<ChunkFrameHeader> parse_chunk_frame_header(const Json& frame);

// {"i"?, "cid", "size_bytes"?, "data_b64"} → a chunk whose bytes hash to cid. `i` must be a
// non-negative integer when present; `size_bytes` must match the data; bytes larger than
// blobs::MAX_CHUNK_SIZE_BYTES are refused before decoding. bad_request for shapes,
// hash_mismatch for bytes that do not hash to the CID.
Result<ChunkFrame> parse_chunk_frame(const Json& frame);
// A binary chunk frame: data {"i"?, "cid", "size_bytes"} (no "data_b64") and the chunk's
// bytes as the frame's payload, whose length must equal size_bytes and whose BLAKE3 must
// match the CID. The same errors as above.
Result<ChunkFrame> parse_chunk_frame(const Json& frame, Bytes payload);

// The CONTRACT §4.7 chunk frame / single-chunk output: {"i"?, "cid", "size_bytes", "data_b64"}.
Json chunk_frame(std::optional<std::int64_t> index, const std::string& cid,
                 std::span<const std::uint8_t> data);
// The data of a binary chunk frame (its bytes travel as the payload): {"i"?, "cid", "size_bytes"}.
Json chunk_frame_header(std::optional<std::int64_t> index, const std::string& cid,
                        std::size_t size_bytes);

// A file.put request's input: {"manifest": <manifest>, "chunks"?: [<chunk frame with i>],
// "pin"?: bool}. Each chunk's index must name a chunk of the manifest whose CID and size it
// matches; at most PUT_MAX_CHUNKS_PER_CALL chunks.
struct PutRequest {
  blobs::BlobManifest manifest;
  std::vector<ChunkFrame> chunks;
  bool pin = false;
};
Result<PutRequest> parse_put_request(const Json& input);

}  // namespace hn::services::files
