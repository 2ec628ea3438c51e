// file_frames_fuzz.cpp — libFuzzer target for the file service's parsers of peer bytes
// (services/files/frames.h): a peer's file.read chunk frame / single-chunk answer and a
// file.put request (manifest + chunk frames). Whatever the input, parsing returns a value or
// a typed error, never crashes; an accepted chunk always hashes to its CID, and an accepted
// put request's chunks match its manifest.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "blobs/chunker.h"
#include "core/json.h"
#include "services/files/frames.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto json = hn::parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!json.has_value()) return 0;
  if (auto chunk = hn::services::files::parse_chunk_frame(*json); chunk.has_value()) {
    if (hn::blobs::hash_bytes(chunk->data()) != chunk->cid()) std::abort();
  }
  if (auto put = hn::services::files::parse_put_request(*json); put.has_value()) {
    for (const auto& c : put->chunks) {
      const auto& ref = put->manifest.chunks.at(static_cast<std::size_t>(c.index));
      if (ref.cid != c.cid() || hn::blobs::hash_bytes(c.data()) != c.cid()) std::abort();
    }
  }
  return 0;
}
