// store_gc.cpp — M07 §3.2 gc / §5.4: disk usage and LRU eviction of unpinned blobs (store.h).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "blobs/detail/posix_io.h"
#include "blobs/detail/store_scan.h"
#include "blobs/store.h"

namespace hn::blobs {

using detail::Entry;
using detail::FileKind;
using detail::scan_store;

std::uint64_t BlobStore::remove_idle_partial(const fs::path& path) const {
  detail::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return 0;
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return 0;  // a fetch is writing it
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || ::unlink(path.c_str()) != 0) return 0;
  return static_cast<std::uint64_t>(st.st_size);
}

Result<DiskUsage> BlobStore::disk_usage() const {
  if (m_options.disk_usage) return m_options.disk_usage();
  if (m_options.capacity_bytes > 0) {
    DiskUsage u;
    u.capacity_bytes = m_options.capacity_bytes;
    for (const auto& e : scan_store(m_dir, {})) u.used_bytes += e.size;
    return u;
  }
  return filesystem_disk_usage(m_dir);
}

Result<GcReport> BlobStore::gc(double target_fraction) {
  if (!(target_fraction >= 0.0 && target_fraction <= 1.0)) {
    return make_error(ErrorCode::bad_request, "gc target_fraction must lie in [0, 1]");
  }
  std::unique_lock lock(m_lock);
  HN_TRY_ASSIGN(DiskUsage usage, disk_usage());
  return gc_locked(target_fraction, usage);
}

Result<GcReport> BlobStore::maybe_gc() {
  std::unique_lock lock(m_lock);
  HN_TRY_ASSIGN(DiskUsage usage, disk_usage());
  const auto threshold = static_cast<std::uint64_t>(m_options.gc_threshold *
                                                    static_cast<double>(usage.capacity_bytes));
  if (usage.capacity_bytes > 0 && usage.used_bytes <= threshold) {
    GcReport report;
    report.usage_before = usage;
    report.used_after_bytes = usage.used_bytes;
    report.target_bytes = static_cast<std::uint64_t>(m_options.gc_target_fraction *
                                                     static_cast<double>(usage.capacity_bytes));
    report.target_reached = usage.used_bytes <= report.target_bytes;
    return report;
  }
  return gc_locked(m_options.gc_target_fraction, usage);
}

Result<GcReport> BlobStore::gc_locked(double target_fraction, const DiskUsage& usage) {
  if (usage.capacity_bytes == 0) {
    return make_error(ErrorCode::io_error, "disk usage probe reported zero capacity");
  }
  GcReport report;
  report.ran = true;
  report.usage_before = usage;
  report.target_bytes =
      static_cast<std::uint64_t>(target_fraction * static_cast<double>(usage.capacity_bytes));
  std::uint64_t used = usage.used_bytes;
  if (used <= report.target_bytes) {
    report.used_after_bytes = used;
    report.target_reached = true;
    return report;
  }

  std::set<std::string, std::less<>> pins;
  {
    std::lock_guard guard(m_pins_mutex);
    pins = m_pins;
  }

  // Inventory: every manifest with its distinct chunks (and its whole-blob file), every
  // chunk file with its refcount, the .data files without a manifest and the .partial files.
  struct ManifestInfo {
    Entry entry;
    std::vector<std::string> chunks;
    std::optional<Entry> data;
  };
  std::map<std::string, ManifestInfo> manifests;
  std::unordered_map<std::string, Entry> chunks;
  std::map<std::string, Entry> datas;
  std::vector<Entry> partials;
  for (auto& e : scan_store(m_dir, {})) {
    std::string cid = e.cid;
    switch (e.kind) {
      case FileKind::manifest: manifests.emplace(std::move(cid), ManifestInfo{std::move(e), {}, {}}); break;
      case FileKind::chunk: chunks.emplace(std::move(cid), std::move(e)); break;
      case FileKind::data: datas.emplace(std::move(cid), std::move(e)); break;
      case FileKind::partial: partials.push_back(std::move(e)); break;
    }
  }
  std::unordered_map<std::string, int> refcount;
  std::unordered_set<std::string> protected_chunks(pins.begin(), pins.end());
  for (auto& [cid, info] : manifests) {
    if (auto d = datas.find(cid); d != datas.end()) {
      info.data = std::move(d->second);
      datas.erase(d);
    }
    auto m = load_manifest_locked(cid);
    if (!m.has_value()) continue;  // corrupted: evictable, references nothing we can trust
    info.chunks = detail::distinct_chunks(*m);
    const bool pinned = pins.contains(cid);
    for (const auto& c : info.chunks) {
      ++refcount[c];
      if (pinned) protected_chunks.insert(c);
    }
  }

  // Candidates, least recently used first: unpinned manifests, unpinned orphan chunks,
  // .data files without a manifest and .partial files no fetch is writing.
  struct Candidate {
    std::int64_t mtime_ms;
    std::string cid;
    FileKind kind;
    const Entry* entry = nullptr;  // orphan .data / .partial
  };
  std::vector<Candidate> candidates;
  for (const auto& [cid, info] : manifests) {
    if (!pins.contains(cid)) candidates.push_back({info.entry.mtime_ms, cid, FileKind::manifest});
  }
  for (const auto& [cid, e] : chunks) {
    if (!refcount.contains(cid) && !protected_chunks.contains(cid)) {
      candidates.push_back({e.mtime_ms, cid, FileKind::chunk});
    }
  }
  for (const auto& [cid, e] : datas) candidates.push_back({e.mtime_ms, cid, FileKind::data, &e});
  for (const auto& e : partials) {
    if (!pins.contains(e.cid)) candidates.push_back({e.mtime_ms, e.cid, FileKind::partial, &e});
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return std::tie(a.mtime_ms, a.cid, a.kind) < std::tie(b.mtime_ms, b.cid, b.kind);
  });

  auto remove_chunk = [&](const std::string& cid) -> std::uint64_t {
    auto it = chunks.find(cid);
    if (it == chunks.end()) return 0;
    if (::unlink(it->second.path.c_str()) != 0) return 0;
    ++report.chunks_deleted;
    return it->second.size;
  };

  bool packed_changed = false;
  for (const auto& c : candidates) {
    if (used <= report.target_bytes) break;
    std::uint64_t freed = 0;
    if (c.kind == FileKind::manifest) {
      const ManifestInfo& info = manifests.at(c.cid);
      if (::unlink(info.entry.path.c_str()) != 0) continue;
      freed += info.entry.size;
      if (info.data && ::unlink(info.data->path.c_str()) == 0) {
        freed += info.data->size;
        packed_changed = true;
      }
      for (const auto& chunk : info.chunks) {
        if (--refcount[chunk] == 0 && !protected_chunks.contains(chunk))
          freed += remove_chunk(chunk);
      }
    } else if (c.kind == FileKind::chunk) {
      freed += remove_chunk(c.cid);
      if (freed == 0) continue;
    } else if (c.kind == FileKind::data) {
      if (::unlink(c.entry->path.c_str()) != 0) continue;
      freed += c.entry->size;
      packed_changed = true;
    } else {
      freed += remove_idle_partial(c.entry->path);
      if (freed == 0) continue;
    }
    report.evicted.push_back(c.cid);
    report.bytes_freed += freed;
    used = used > freed ? used - freed : 0;
  }
  if (packed_changed) forget_packed();
  report.used_after_bytes = used;
  report.target_reached = used <= report.target_bytes;
  return report;
}

}  // namespace hn::blobs
