// store_scan.cpp — the blob store's layout as names, and its scan (store_scan.h).
#include "blobs/detail/store_scan.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <unordered_set>
#include <utility>

#include "blobs/detail/posix_io.h"
#include "core/hash.h"

namespace hn::blobs::detail {

namespace fs = std::filesystem;

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Status check_cid_arg(std::string_view cid) {
  if (!is_valid_cid(cid)) {
    return make_error(ErrorCode::bad_request, "not a \"blake3:<64 hex>\" CID: " + std::string(cid));
  }
  return {};
}

fs::path cid_path(const fs::path& root, std::string_view cid, std::string_view suffix) {
  const std::string_view hex = cid.substr(CID_PREFIX.size());
  return root / std::string(hex.substr(0, 2)) / (std::string(hex.substr(2)) + std::string(suffix));
}

std::vector<std::string> distinct_chunks(const BlobManifest& m) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const auto& c : m.chunks) {
    if (seen.insert(c.cid).second) out.push_back(c.cid);
  }
  return out;
}

std::vector<Entry> scan_store(const fs::path& root, std::string_view only_shard) {
  static const std::array<std::pair<std::string_view, FileKind>, 4> KINDS{{
      {MANIFEST_SUFFIX, FileKind::manifest},
      {CHUNK_SUFFIX, FileKind::chunk},
      {DATA_SUFFIX, FileKind::data},
      {PARTIAL_SUFFIX, FileKind::partial},
  }};
  std::vector<Entry> out;
  std::error_code ec;
  std::vector<std::string> shards;
  if (!only_shard.empty()) {
    shards.emplace_back(only_shard);
  } else {
    for (const auto& d : fs::directory_iterator(root, ec)) {
      std::string name = d.path().filename().string();
      if (name.size() == 2 && is_lower_hex(name) && d.is_directory(ec)) shards.push_back(name);
    }
  }
  for (const auto& shard : shards) {
    std::error_code shard_ec;
    for (const auto& f : fs::directory_iterator(root / shard, shard_ec)) {
      const std::string name = f.path().filename().string();
      if (is_temp_name(name)) continue;
      Entry e;
      std::string_view stem;
      bool known = false;
      for (const auto& [suffix, kind] : KINDS) {
        if (name.ends_with(suffix)) {
          e.kind = kind;
          stem = std::string_view(name).substr(0, name.size() - suffix.size());
          known = true;
          break;
        }
      }
      if (!known || stem.size() != 62 || !is_lower_hex(stem)) continue;
      struct stat st {};
      if (::stat(f.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      e.cid = std::string(CID_PREFIX) + shard + std::string(stem);
      e.path = f.path();
      e.size = static_cast<std::uint64_t>(st.st_size);
      e.mtime_ms =
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace hn::blobs::detail
