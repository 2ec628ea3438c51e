// store_scan.h — the blob store's directory layout (store.h) as names and a scan: which
// file of a shard is what, and the list of them with sizes and LRU stamps.
//
// Thread-safety: pure functions over the filesystem; the store serialises them with its lock.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "blobs/chunker.h"
#include "core/error.h"

namespace hn::blobs::detail {

inline constexpr std::string_view CID_PREFIX = "blake3:";
inline constexpr std::string_view CHUNK_SUFFIX = ".bin";
inline constexpr std::string_view MANIFEST_SUFFIX = ".manifest.json";
inline constexpr std::string_view DATA_SUFFIX = ".data";        // a whole blob, one file
inline constexpr std::string_view PARTIAL_SUFFIX = ".partial";  // a blob being fetched

// What a stored file is.
enum class FileKind { chunk, manifest, data, partial };

// One stored file found by a scan.
struct Entry {
  std::string cid;
  FileKind kind = FileKind::chunk;
  std::filesystem::path path;
  std::uint64_t size = 0;
  std::int64_t mtime_ms = 0;
};

bool is_lower_hex(std::string_view s);

// bad_request unless cid is "blake3:<64 hex>" (an argument of the store's API).
Status check_cid_arg(std::string_view cid);

// <root>/<aa>/<62 hex><suffix> for a valid CID.
std::filesystem::path cid_path(const std::filesystem::path& root, std::string_view cid,
                               std::string_view suffix);

// Distinct chunk CIDs of a manifest, in first-use order.
std::vector<std::string> distinct_chunks(const BlobManifest& m);

// Every stored file; only shard `only_shard` (two hex characters) when it is non-empty.
// Temporary files are skipped.
std::vector<Entry> scan_store(const std::filesystem::path& root, std::string_view only_shard);

}  // namespace hn::blobs::detail
