// blob_manifest_fuzz.cpp — libFuzzer target for the M07 manifest parser: outside bytes
// (a peer's file.read manifest frame, a file.put initial frame, a manifest file on disk)
// go through parse_json → parse_blob_manifest. Whatever the input, parsing must return a
// value or a typed error, never crash; an accepted manifest must re-serialise and re-parse
// to itself and carry the CID of its chunk list.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "blobs/chunker.h"
#include "core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto json = hn::parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!json.has_value()) return 0;
  auto manifest = hn::blobs::parse_blob_manifest(*json);
  if (!manifest.has_value()) {
    if (manifest.error().code != hn::ErrorCode::manifest_invalid) std::abort();
    return 0;
  }
  if (manifest->cid != hn::blobs::manifest_cid(*manifest)) std::abort();
  auto again = hn::blobs::parse_blob_manifest(
      *hn::parse_json(hn::canonical_json(hn::blobs::manifest_to_json(*manifest))));
  if (!again.has_value() || !(*again == *manifest)) std::abort();
  return 0;
}
