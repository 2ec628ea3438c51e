// store_packed.cpp — blobs kept as one file (store.h "Layout"): BlobWriter, the index of
// chunks inside .data files, one chunk of a blob, and export_blob.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <unordered_set>

#include "blobs/blob_writer.h"
#include "blobs/detail/posix_io.h"
#include "blobs/detail/store_scan.h"
#include "blobs/store.h"
#include "core/buffer_pool.h"
#include "core/file_util.h"
#include "core/hash.h"

namespace hn::blobs {

namespace {

std::optional<std::int64_t> size_of(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return static_cast<std::int64_t>(st.st_size);
}

// Renames tmp over target and makes it durable (the directory entry included).
Status publish(const fs::path& tmp, const fs::path& target, bool sync) {
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return detail::errno_error("rename", target, err);
  }
  if (!sync) return {};
  return fsync_directory(target.has_parent_path() ? target.parent_path() : fs::path("."));
}

}  // namespace

std::string_view export_kind_name(ExportKind kind) {
  switch (kind) {
    case ExportKind::reflink: return "reflink";
    case ExportKind::hard_link: return "hard_link";
    case ExportKind::copy: return "copy";
  }
  return "copy";
}

fs::path BlobStore::data_path(std::string_view cid) const {
  return detail::cid_path(m_dir, cid, detail::DATA_SUFFIX);
}

fs::path BlobStore::partial_path(std::string_view cid) const {
  return detail::cid_path(m_dir, cid, detail::PARTIAL_SUFFIX);
}

// --- BlobWriter ------------------------------------------------------------------------------

BlobWriter::BlobWriter(BlobStore& store, BlobManifest manifest, std::unique_ptr<ExportFile> file)
    : m_store(store), m_manifest(std::move(manifest)), m_file(std::move(file)) {
  for (const auto& c : m_manifest.chunks) {
    m_offsets[c.cid].push_back(c.index * m_manifest.chunk_size_bytes);
  }
}

Status BlobWriter::write(const VerifiedChunk& chunk) {
  if (m_committed) return make_error(ErrorCode::internal_error, "blob writer already committed");
  const auto it = m_offsets.find(chunk.cid());
  if (it == m_offsets.end()) {
    return make_error(ErrorCode::bad_request, "chunk " + chunk.cid() + " is not part of " + m_manifest.cid);
  }
  for (const auto offset : it->second) HN_TRY(m_file->write_at(offset, chunk.bytes()));
  return {};
}

Status BlobWriter::commit() {
  if (m_committed) return make_error(ErrorCode::internal_error, "blob writer committed twice");
  std::shared_lock lock(m_store.m_lock);  // a GC pass sees the blob partial or whole
  HN_TRY(m_file->commit());
  m_committed = true;
  m_store.add_packed(m_manifest);
  m_store.touch(m_store.manifest_path(m_manifest.cid));
  return {};
}

Result<std::unique_ptr<BlobWriter>> BlobStore::begin_blob(const BlobManifest& manifest) {
  HN_TRY(write_manifest(manifest));  // checked, and there before any byte (a kill resumes)
  std::shared_lock lock(m_lock);
  ExportFileOptions o;
  o.temp = partial_path(manifest.cid);
  o.keep_partial = true;
  o.sync = m_options.fsync_writes;
  o.read_only = true;
  o.direct = true;  // a fetched blob is written once, from the chunk buffers to the disk
  HN_TRY_ASSIGN(auto file, ExportFile::open(data_path(manifest.cid), manifest.cid, manifest.size_bytes, o));
  const bool resumed = file->resumed();
  std::unique_ptr<BlobWriter> w(new BlobWriter(*this, manifest, std::move(file)));
  Bytes buffer;
  std::unordered_set<std::string> seen;
  for (const auto& c : manifest.chunks) {
    if (!seen.insert(c.cid).second) continue;
    const auto& offsets = w->m_offsets.at(c.cid);
    if (resumed) {
      // Kept only when every offset of the chunk holds it (a kill may fall between them).
      bool whole = true;
      buffer.resize(static_cast<std::size_t>(c.size_bytes));
      for (const auto offset : offsets) {
        auto got = w->m_file->read_at(offset, buffer);
        if (!got || *got != buffer.size() || !verify_chunk(buffer, c.cid)) {
          whole = false;
          break;
        }
      }
      if (whole) {
        w->m_present.insert(c.cid);
        ++w->m_resumed;
        continue;
      }
    }
    if (has_chunk_locked(c.cid)) {
      auto data = read_chunk_locked(c.cid);
      if (!data) continue;  // corrupted here: fetched like a missing one
      for (const auto offset : offsets) HN_TRY(w->m_file->write_at(offset, *data));
      w->m_present.insert(c.cid);
    }
  }
  return w;
}

// --- the index of chunks inside .data files ----------------------------------------------------

std::optional<BlobStore::PackedLoc> BlobStore::find_packed_locked(std::string_view chunk_cid) const {
  std::lock_guard guard(m_packed_mutex);
  if (!m_packed_loaded) {
    m_packed.clear();
    for (const auto& e : detail::scan_store(m_dir, {})) {
      if (e.kind != detail::FileKind::data) continue;
      auto m = load_manifest_locked(e.cid);
      if (!m || static_cast<std::int64_t>(e.size) != m->size_bytes) continue;
      for (const auto& c : m->chunks) {
        m_packed.try_emplace(c.cid, PackedLoc{m->cid, c.index * m->chunk_size_bytes, c.size_bytes});
      }
    }
    m_packed_loaded = true;
  }
  const auto it = m_packed.find(std::string(chunk_cid));
  if (it == m_packed.end()) return std::nullopt;
  return it->second;
}

void BlobStore::add_packed(const BlobManifest& m) {
  std::lock_guard guard(m_packed_mutex);
  if (!m_packed_loaded) return;  // the first lookup reads it from disk
  for (const auto& c : m.chunks) {
    m_packed.try_emplace(c.cid, PackedLoc{m.cid, c.index * m.chunk_size_bytes, c.size_bytes});
  }
}

void BlobStore::forget_packed() {
  std::lock_guard guard(m_packed_mutex);
  m_packed_loaded = false;
  m_packed.clear();
}

Result<Bytes> BlobStore::read_data_locked(const fs::path& data, std::int64_t offset,
                                          std::int64_t size, std::string_view chunk_cid) const {
  HN_TRY_ASSIGN(auto fd, detail::open_for_read(data));
  Bytes out = BufferPool::chunks().take(static_cast<std::size_t>(size));  // warm pages
  HN_TRY_ASSIGN(const std::size_t done, detail::pread_full(fd.get(), offset, out, data));
  if (done != out.size() || !verify_chunk(out, chunk_cid)) {
    return make_error(ErrorCode::hash_mismatch, "stored blob corrupted at offset " +
                                                    std::to_string(offset) + ": " + data.string());
  }
  return out;
}

Result<Bytes> BlobStore::read_blob_chunk(const BlobManifest& manifest, const ChunkRef& ref) {
  if (!is_valid_cid(manifest.cid) || !is_valid_cid(ref.cid)) {
    return make_error(ErrorCode::bad_request, "not a blob's chunk");
  }
  std::shared_lock lock(m_lock);
  const fs::path data = data_path(manifest.cid);
  if (size_of(data) == manifest.size_bytes) {
    return read_data_locked(data, ref.index * manifest.chunk_size_bytes, ref.size_bytes, ref.cid);
  }
  return read_chunk_locked(ref.cid);
}

// --- export ----------------------------------------------------------------------------------

Result<ExportKind> BlobStore::export_blob(std::string_view manifest_cid, const fs::path& out,
                                          ExportMode mode) {
  HN_TRY(detail::check_cid_arg(manifest_cid));
  if (mode == ExportMode::share) {
    std::shared_lock lock(m_lock);
    HN_TRY_ASSIGN(auto m, load_manifest_locked(manifest_cid));
    const fs::path data = data_path(manifest_cid);
    if (size_of(data) == m.size_bytes) {
      HN_TRY(ensure_directory(out.has_parent_path() ? out.parent_path() : fs::path(".")));
      const fs::path tmp = ExportFile::temp_path_for(out, manifest_cid).string() + "-share";
      ::unlink(tmp.c_str());  // a killed export's
      // A reflink shares the blocks until either side writes (btrfs, XFS): independent and free.
      detail::UniqueFd src(::open(data.c_str(), O_RDONLY | O_CLOEXEC));
      detail::UniqueFd dst(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
      if (src.get() >= 0 && dst.get() >= 0 && ::ioctl(dst.get(), FICLONE, src.get()) == 0) {
        if (m_options.fsync_writes && ::fsync(dst.get()) != 0) {
          const int err = errno;
          ::unlink(tmp.c_str());
          return detail::errno_error("fsync", tmp, err);
        }
        HN_TRY(publish(tmp, out, m_options.fsync_writes));
        return ExportKind::reflink;
      }
      if (dst.get() >= 0) ::unlink(tmp.c_str());
      // Else the store's read-only file itself, under a second name (ext4: one write in all).
      if (::link(data.c_str(), tmp.c_str()) == 0) {
        HN_TRY(publish(tmp, out, m_options.fsync_writes));
        return ExportKind::hard_link;
      }
      // Another filesystem (EXDEV), or links refused: a copy.
    }
  }
  HN_TRY(read_blob_to(manifest_cid, out));
  return ExportKind::copy;
}

}  // namespace hn::blobs
