// store.cpp — M07 §3.2 / §5 BlobStore: layout, verified reads and writes, pins, LRU GC.
#include "blobs/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "blobs/detail/posix_io.h"
#include "blobs/detail/store_scan.h"
#include "blobs/export_file.h"
#include "core/buffer_pool.h"
#include "core/file_util.h"
#include "core/hash.h"

namespace hn::blobs {

using detail::check_cid_arg;
using detail::CID_PREFIX;
using detail::Entry;
using detail::FileKind;
using detail::is_lower_hex;
using detail::scan_store;

namespace {

// A manifest file larger than this is not read (≈ 2.5M chunks, a > 600 GiB blob).
constexpr std::uintmax_t MAX_MANIFEST_FILE_BYTES = 256ull << 20;

bool file_exists(const fs::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Size of a regular file, or nullopt.
std::optional<std::uint64_t> file_size_of(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_size);
}

// Checks a manifest built in code (or received) the same way parsed ones are checked.
Status check_manifest(const BlobManifest& manifest) {
  auto reparsed = parse_blob_manifest(manifest_to_json(manifest));
  if (!reparsed.has_value()) return reparsed.take_error();
  if (*reparsed != manifest) {
    return make_error(ErrorCode::manifest_invalid,
                      "invalid blob manifest: inconsistent chunk refs");
  }
  return {};
}

}  // namespace

Result<DiskUsage> filesystem_disk_usage(const fs::path& dir) {
  struct statvfs sv {};
  if (::statvfs(dir.c_str(), &sv) != 0) return detail::errno_error("statvfs", dir, errno);
  DiskUsage u;
  u.capacity_bytes = static_cast<std::uint64_t>(sv.f_blocks) * sv.f_frsize;
  const std::uint64_t avail = static_cast<std::uint64_t>(sv.f_bavail) * sv.f_frsize;
  u.used_bytes = u.capacity_bytes > avail ? u.capacity_bytes - avail : 0;
  return u;
}

BlobStore::BlobStore(fs::path dir, BlobStoreOptions options)
    : m_dir(std::move(dir)),
      m_options(std::move(options)),
      m_clock(m_options.clock ? *m_options.clock : SystemClock::instance()) {}

Result<std::unique_ptr<BlobStore>> BlobStore::open(const fs::path& dir, BlobStoreOptions options) {
  if (!(options.gc_target_fraction >= 0.0 && options.gc_target_fraction <= 1.0) ||
      !(options.gc_threshold >= 0.0 && options.gc_threshold <= 1.0)) {
    return make_error(ErrorCode::bad_request, "gc fractions must lie in [0, 1]");
  }
  HN_TRY(ensure_directory(dir));
  std::unique_ptr<BlobStore> store(new BlobStore(dir, std::move(options)));
  HN_TRY(store->load_pins());
  store->sweep_temp_files();
  return store;
}

// --- paths, time -----------------------------------------------------------------------

fs::path BlobStore::chunk_path(std::string_view cid) const {
  return detail::cid_path(m_dir, cid, detail::CHUNK_SUFFIX);
}

fs::path BlobStore::manifest_path(std::string_view cid) const {
  return detail::cid_path(m_dir, cid, detail::MANIFEST_SUFFIX);
}

std::int64_t BlobStore::now_ms() const { return m_clock.now_ms(); }

void BlobStore::touch(const fs::path& path) const {
  (void)detail::set_mtime_ms(path, now_ms());  // best effort: a lost stamp only skews LRU
}

void BlobStore::sweep_temp_files() const {
  std::error_code ec;
  for (const auto& d : fs::directory_iterator(m_dir, ec)) {
    const std::string name = d.path().filename().string();
    if (detail::is_temp_name(name)) {
      fs::remove(d.path(), ec);
    } else if (name.size() == 2 && is_lower_hex(name) && d.is_directory(ec)) {
      std::error_code inner;
      for (const auto& f : fs::directory_iterator(d.path(), inner)) {
        if (detail::is_temp_name(f.path().filename().string())) fs::remove(f.path(), inner);
      }
    }
  }
}

// --- chunks ------------------------------------------------------------------------------

Result<Bytes> BlobStore::read_chunk_locked(std::string_view cid) const {
  const fs::path path = chunk_path(cid);
  auto opened = detail::open_for_read(path);
  if (!opened && opened.error().code == ErrorCode::not_found) {
    if (auto at = find_packed_locked(cid)) {  // inside a whole blob's .data file
      return read_data_locked(data_path(at->manifest_cid), at->offset, at->size, cid);
    }
  }
  HN_TRY_ASSIGN(auto fd, std::move(opened));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return detail::errno_error("stat", path, errno);
  if (st.st_size > MAX_CHUNK_SIZE_BYTES) {
    return make_error(ErrorCode::hash_mismatch,
                      "chunk file oversized (corrupted): " + path.string());
  }
  // One spare byte detects a file that is longer than stat said.
  Bytes data = BufferPool::chunks().take(static_cast<std::size_t>(st.st_size) + 1);
  HN_TRY_ASSIGN(std::size_t got, detail::read_full(fd.get(), data, path));
  data.resize(got);
  Status ok = verify_chunk(data, cid);
  if (!ok.has_value()) {
    return make_error(ErrorCode::hash_mismatch,
                      "stored chunk corrupted: " + path.string() + " (" + ok.error().message + ")");
  }
  return data;
}

Status BlobStore::store_verified_chunk_locked(std::string_view cid,
                                              std::span<const std::uint8_t> data,
                                              std::set<fs::path>* dirs_to_sync, bool sync) {
  const fs::path path = chunk_path(cid);
  if (file_exists(path)) {  // idempotent (M07 §3.2 write_chunk)
    touch(path);
    return {};
  }
  const fs::path shard = path.parent_path();
  HN_TRY(ensure_directory(shard));
  if (!m_options.fsync_writes) {
    HN_TRY(detail::write_file_atomically(path, data, detail::FileSync::none));
    touch(path);
    return {};
  }
  // A deferred write starts the kernel's writeback now, so the sync_all() that acknowledges
  // the blob finds the chunks mostly on disk already instead of writing them all then.
  HN_TRY(detail::write_file_atomically(
      path, data, sync ? detail::FileSync::full : detail::FileSync::start_writeback));
  touch(path);
  if (!sync) return {};
  if (dirs_to_sync) {
    dirs_to_sync->insert(shard);
    return {};
  }
  return fsync_directory(shard);
}

Status BlobStore::sync_dirs(const std::set<fs::path>& dirs) const {
  if (!m_options.fsync_writes) return {};
  for (const auto& d : dirs) HN_TRY(fsync_directory(d));
  return {};
}

bool BlobStore::has_chunk_locked(std::string_view cid) const {
  return file_exists(chunk_path(cid)) || find_packed_locked(cid).has_value();
}

bool BlobStore::has(std::string_view cid) const {
  if (!is_valid_cid(cid)) return false;
  std::shared_lock lock(m_lock);
  return file_exists(manifest_path(cid)) || has_chunk_locked(cid);
}

bool BlobStore::has_chunk(std::string_view cid) const {
  if (!is_valid_cid(cid)) return false;
  std::shared_lock lock(m_lock);
  return has_chunk_locked(cid);
}

Result<Bytes> BlobStore::read_chunk(std::string_view cid) {
  HN_TRY(check_cid_arg(cid));
  std::shared_lock lock(m_lock);
  HN_TRY_ASSIGN(Bytes data, read_chunk_locked(cid));
  touch(chunk_path(cid));
  return data;
}

Status BlobStore::sync_all() const {
  if (!m_options.fsync_writes) return {};
  const int fd = ::open(m_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return detail::errno_error("open", m_dir, errno);
  const int rc = ::syncfs(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return detail::errno_error("syncfs", m_dir, err);
  return {};
}

Status BlobStore::write_chunk(std::string_view cid, std::span<const std::uint8_t> data,
                              Durability durability) {
  HN_TRY(check_cid_arg(cid));
  if (static_cast<std::int64_t>(data.size()) > MAX_CHUNK_SIZE_BYTES) {
    return make_error(ErrorCode::bad_request, "chunk larger than MAX_CHUNK_SIZE_BYTES");
  }
  HN_TRY(verify_chunk(data, cid));  // M07 §5.2: nothing is written on mismatch
  std::shared_lock lock(m_lock);
  return store_verified_chunk_locked(cid, data, nullptr, durability == Durability::now);
}

Status BlobStore::write_chunk(const VerifiedChunk& chunk, Durability durability) {
  if (static_cast<std::int64_t>(chunk.size()) > MAX_CHUNK_SIZE_BYTES) {
    return make_error(ErrorCode::bad_request, "chunk larger than MAX_CHUNK_SIZE_BYTES");
  }
  std::shared_lock lock(m_lock);  // hashed once already, by VerifiedChunk::check
  return store_verified_chunk_locked(chunk.cid(), chunk.bytes(), nullptr,
                                     durability == Durability::now);
}

Result<bool> BlobStore::delete_chunk(std::string_view cid) {
  HN_TRY(check_cid_arg(cid));
  std::unique_lock lock(m_lock);
  std::vector<std::string> pins;
  {
    std::lock_guard guard(m_pins_mutex);
    if (is_pinned_locked(cid)) {
      return make_error(ErrorCode::bad_request, "chunk is pinned: " + std::string(cid));
    }
    pins.assign(m_pins.begin(), m_pins.end());
  }
  for (const auto& p : pins) {
    auto m = load_manifest_locked(p);
    if (!m.has_value()) continue;
    for (const auto& c : m->chunks) {
      if (c.cid == cid) {
        return make_error(ErrorCode::bad_request,
                          "chunk is referenced by pinned blob " + p + ": " + std::string(cid));
      }
    }
  }
  const fs::path path = chunk_path(cid);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return false;
    return detail::errno_error("unlink", path, errno);
  }
  return true;
}

// --- manifests and blobs -------------------------------------------------------------------

Result<BlobManifest> BlobStore::load_manifest_locked(std::string_view cid) const {
  const fs::path path = manifest_path(cid);
  auto text = read_file(path, MAX_MANIFEST_FILE_BYTES);
  if (!text.has_value()) {
    if (text.error().code == ErrorCode::not_found) {
      return make_error(ErrorCode::not_found, "no such blob: " + std::string(cid));
    }
    return make_error(ErrorCode::io_error, text.error().message);
  }
  // The file was valid when written; any failure now is on-disk corruption (M07 §5.2).
  auto json = parse_json(*text);
  if (!json.has_value()) {
    return make_error(ErrorCode::hash_mismatch, "stored manifest corrupted: " + path.string());
  }
  auto manifest = parse_blob_manifest(*json);
  if (!manifest.has_value() || manifest->cid != cid) {
    return make_error(ErrorCode::hash_mismatch, "stored manifest corrupted: " + path.string());
  }
  return std::move(manifest).value();
}

Status BlobStore::store_manifest_locked(const BlobManifest& manifest) {
  const fs::path path = manifest_path(manifest.cid);
  if (file_exists(path)) {  // idempotent: the CID already names this content
    touch(path);
    return {};
  }
  const fs::path shard = path.parent_path();
  HN_TRY(ensure_directory(shard));
  const std::string text = canonical_json(manifest_to_json(manifest));
  HN_TRY(detail::write_file_atomically(path, as_bytes(text), m_options.fsync_writes));
  touch(path);
  if (m_options.fsync_writes) HN_TRY(fsync_directory(shard));
  return {};
}

bool BlobStore::has_manifest(std::string_view manifest_cid) const {
  if (!is_valid_cid(manifest_cid)) return false;
  std::shared_lock lock(m_lock);
  return file_exists(manifest_path(manifest_cid));
}

bool BlobStore::has_blob(std::string_view manifest_cid) const {
  if (!is_valid_cid(manifest_cid)) return false;
  std::shared_lock lock(m_lock);
  auto m = load_manifest_locked(manifest_cid);
  if (!m.has_value()) return false;
  if (file_size_of(data_path(manifest_cid)) == static_cast<std::uint64_t>(m->size_bytes)) return true;
  return std::all_of(m->chunks.begin(), m->chunks.end(),
                     [&](const ChunkRef& c) { return has_chunk_locked(c.cid); });
}

Result<BlobManifest> BlobStore::read_manifest(std::string_view manifest_cid) {
  HN_TRY(check_cid_arg(manifest_cid));
  std::shared_lock lock(m_lock);
  HN_TRY_ASSIGN(BlobManifest m, load_manifest_locked(manifest_cid));
  touch(manifest_path(manifest_cid));
  return m;
}

Status BlobStore::write_manifest(const BlobManifest& manifest) {
  HN_TRY(check_manifest(manifest));
  std::shared_lock lock(m_lock);
  return store_manifest_locked(manifest);
}

Status BlobStore::write_blob(const BlobManifest& manifest, const std::vector<Bytes>& chunks) {
  HN_TRY(check_manifest(manifest));
  if (chunks.size() != manifest.chunks.size()) {
    return make_error(ErrorCode::manifest_invalid,
                      "manifest lists " + std::to_string(manifest.chunks.size()) + " chunks, got " +
                          std::to_string(chunks.size()));
  }
  // Verify everything before writing anything (M07 §3.2 write_blob, §5.2).
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    HN_TRY(verify_chunk(chunks[i], manifest.chunks[i].cid));
  }
  std::shared_lock lock(m_lock);
  std::set<fs::path> dirs;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    HN_TRY(store_verified_chunk_locked(manifest.chunks[i].cid, chunks[i], &dirs));
  }
  HN_TRY(sync_dirs(dirs));
  return store_manifest_locked(manifest);
}

Result<BlobManifest> BlobStore::put_bytes(std::span<const std::uint8_t> data,
                                          const PutOptions& options) {
  std::shared_lock lock(m_lock);
  ManifestBuilder builder(CHUNK_SIZE_BYTES);
  std::set<fs::path> dirs;
  const auto step = static_cast<std::size_t>(CHUNK_SIZE_BYTES);
  for (std::size_t off = 0; off < data.size(); off += step) {
    auto piece = data.subspan(off, std::min(step, data.size() - off));
    ChunkRef ref = builder.add_chunk(piece);
    HN_TRY(store_verified_chunk_locked(ref.cid, piece, &dirs));
  }
  HN_TRY(sync_dirs(dirs));
  BlobManifest manifest = std::move(builder).finish(options.mime_type, options.filename);
  HN_TRY(store_manifest_locked(manifest));
  return manifest;
}

Result<BlobManifest> BlobStore::put_file(const fs::path& path, const PutOptions& options) {
  ChunkFileOptions chunking;
  chunking.mime_type = options.mime_type;
  chunking.filename =
      options.filename ? options.filename : std::optional<std::string>(path.filename().string());
  std::shared_lock lock(m_lock);
  std::set<fs::path> dirs;
  HN_TRY_ASSIGN(BlobManifest manifest,
                chunk_file(
                    path,
                    [&](const ChunkRef& ref, std::span<const std::uint8_t> piece) {
                      return store_verified_chunk_locked(ref.cid, piece, &dirs);
                    },
                    chunking));
  HN_TRY(sync_dirs(dirs));
  HN_TRY(store_manifest_locked(manifest));
  return manifest;
}

Status BlobStore::read_blob_stream(std::string_view manifest_cid, const ChunkSink& sink) {
  HN_TRY(check_cid_arg(manifest_cid));
  std::shared_lock lock(m_lock);
  HN_TRY_ASSIGN(BlobManifest m, load_manifest_locked(manifest_cid));
  touch(manifest_path(manifest_cid));
  const fs::path packed = data_path(manifest_cid);
  const bool whole_file = file_size_of(packed) == static_cast<std::uint64_t>(m.size_bytes);
  for (const auto& ref : m.chunks) {
    HN_TRY_ASSIGN(Bytes data, whole_file ? read_data_locked(packed, ref.index * m.chunk_size_bytes,
                                                            ref.size_bytes, ref.cid)
                                         : read_chunk_locked(ref.cid));
    if (static_cast<std::int64_t>(data.size()) != ref.size_bytes) {  // cannot happen if hashes hold
      return make_error(ErrorCode::hash_mismatch, "chunk size differs from manifest: " + ref.cid);
    }
    HN_TRY(sink(ref, data));
  }
  return {};
}

Result<Bytes> BlobStore::read_blob_bytes(std::string_view manifest_cid) {
  HN_TRY(check_cid_arg(manifest_cid));
  std::int64_t size = 0;
  {
    std::shared_lock lock(m_lock);
    HN_TRY_ASSIGN(BlobManifest m, load_manifest_locked(manifest_cid));
    size = m.size_bytes;
  }
  if (size > READ_BLOB_BYTES_MAX) {
    return make_error(ErrorCode::bad_request,
                      "blob too large to read into memory; use read_blob_to or read_blob_stream");
  }
  Bytes out;
  out.reserve(static_cast<std::size_t>(size));
  HN_TRY(read_blob_stream(manifest_cid, [&](const ChunkRef&, std::span<const std::uint8_t> d) {
    out.insert(out.end(), d.begin(), d.end());
    return Status{};
  }));
  return out;
}

Status BlobStore::read_blob_to(std::string_view manifest_cid, const fs::path& out) {
  HN_TRY(check_cid_arg(manifest_cid));
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  HN_TRY(ensure_directory(dir));
  BlobManifest m;
  {
    std::shared_lock lock(m_lock);
    HN_TRY_ASSIGN(m, load_manifest_locked(manifest_cid));
  }
  HN_TRY_ASSIGN(auto file, ExportFile::open(out, manifest_cid, m.size_bytes));
  HN_TRY(read_blob_stream(manifest_cid, [&](const ChunkRef& ref, std::span<const std::uint8_t> d) {
    return file->write_at(ref.index * m.chunk_size_bytes, d);
  }));
  return file->commit();
}

Result<std::uint64_t> BlobStore::delete_blob(std::string_view manifest_cid) {
  HN_TRY(check_cid_arg(manifest_cid));
  std::unique_lock lock(m_lock);
  const fs::path mpath = manifest_path(manifest_cid);
  auto msize = file_size_of(mpath);
  if (!msize) return make_error(ErrorCode::not_found, "no such blob: " + std::string(manifest_cid));
  std::set<std::string, std::less<>> pins;
  {
    std::lock_guard guard(m_pins_mutex);
    if (is_pinned_locked(manifest_cid)) {
      return make_error(ErrorCode::bad_request, "blob is pinned: " + std::string(manifest_cid));
    }
    pins = m_pins;
  }
  // Chunks that stay: referenced by any other manifest, or pinned themselves.
  std::unordered_set<std::string> keep(pins.begin(), pins.end());
  for (const auto& e : scan_store(m_dir, {})) {
    if (e.kind != FileKind::manifest || e.cid == manifest_cid) continue;
    auto other = load_manifest_locked(e.cid);
    if (!other.has_value()) continue;
    for (const auto& c : other->chunks) keep.insert(c.cid);
  }
  auto m = load_manifest_locked(manifest_cid);  // a corrupted manifest is still removable
  if (::unlink(mpath.c_str()) != 0) return detail::errno_error("unlink", mpath, errno);
  std::uint64_t freed = *msize;
  // Its whole-blob file, and what a fetch of it left unless one is running (flock).
  const fs::path dpath = data_path(manifest_cid);
  if (auto dsize = file_size_of(dpath); dsize && ::unlink(dpath.c_str()) == 0) freed += *dsize;
  freed += remove_idle_partial(partial_path(manifest_cid));
  forget_packed();
  if (m.has_value()) {
    for (const auto& cid : detail::distinct_chunks(*m)) {
      if (keep.contains(cid)) continue;
      const fs::path cpath = chunk_path(cid);
      auto csize = file_size_of(cpath);
      if (csize && ::unlink(cpath.c_str()) == 0) freed += *csize;
    }
  }
  return freed;
}

// --- introspection ---------------------------------------------------------------------------

Result<std::vector<std::string>> BlobStore::list_cids(std::string_view prefix,
                                                      ListFilter filter) const {
  std::string_view shard;
  if (prefix.size() >= CID_PREFIX.size() + 2 && prefix.starts_with(CID_PREFIX)) {
    shard = prefix.substr(CID_PREFIX.size(), 2);
    if (!is_lower_hex(shard)) return std::vector<std::string>{};
  }
  std::shared_lock lock(m_lock);
  std::set<std::string> found;
  for (auto& e : scan_store(m_dir, shard)) {
    if (e.kind != FileKind::chunk && e.kind != FileKind::manifest) continue;
    if (filter == ListFilter::chunks && e.kind != FileKind::chunk) continue;
    if (filter == ListFilter::manifests && e.kind != FileKind::manifest) continue;
    if (!std::string_view(e.cid).starts_with(prefix)) continue;
    found.insert(std::move(e.cid));
  }
  return std::vector<std::string>(found.begin(), found.end());
}

Result<std::uint64_t> BlobStore::total_bytes() const {
  std::shared_lock lock(m_lock);
  std::uint64_t total = 0;
  for (const auto& e : scan_store(m_dir, {})) total += e.size;
  return total;
}

Result<BlobStat> BlobStore::stat(std::string_view cid) const {
  HN_TRY(check_cid_arg(cid));
  std::shared_lock lock(m_lock);
  BlobStat s;
  s.cid = std::string(cid);
  s.pinned = is_pinned(cid);
  const fs::path mpath = manifest_path(cid);
  if (auto msize = file_size_of(mpath)) {
    HN_TRY_ASSIGN(BlobManifest m, load_manifest_locked(cid));
    s.kind = CidKind::manifest;
    s.size_bytes = m.size_bytes;
    s.stored_bytes = static_cast<std::int64_t>(*msize);
    s.chunk_count = static_cast<std::int64_t>(m.chunks.size());
    s.last_used_ms = detail::mtime_ms(mpath).value_or(0);
    s.mime_type = m.mime_type;
    s.filename = m.filename;
    if (auto dsize = file_size_of(data_path(cid)); dsize == static_cast<std::uint64_t>(m.size_bytes)) {
      s.stored_bytes += static_cast<std::int64_t>(*dsize);  // one file holds every chunk
      s.chunks_present = s.chunk_count;
      s.complete = true;
      return s;
    }
    std::unordered_map<std::string, std::optional<std::uint64_t>> sizes;
    for (const auto& c : m.chunks) {
      auto [it, fresh] = sizes.try_emplace(c.cid);
      if (fresh) {
        it->second = file_size_of(chunk_path(c.cid));
        if (it->second) s.stored_bytes += static_cast<std::int64_t>(*it->second);
      }
      if (it->second) ++s.chunks_present;
    }
    s.complete = s.chunks_present == s.chunk_count;
    return s;
  }
  const fs::path cpath = chunk_path(cid);
  if (auto csize = file_size_of(cpath)) {
    s.kind = CidKind::chunk;
    s.size_bytes = static_cast<std::int64_t>(*csize);
    s.stored_bytes = s.size_bytes;
    s.chunk_count = 1;
    s.chunks_present = 1;
    s.complete = true;
    s.last_used_ms = detail::mtime_ms(cpath).value_or(0);
    return s;
  }
  if (auto at = find_packed_locked(cid)) {  // inside a whole blob's file
    s.kind = CidKind::chunk;
    s.size_bytes = at->size;
    s.stored_bytes = 0;  // counted with its blob
    s.chunk_count = 1;
    s.chunks_present = 1;
    s.complete = true;
    s.last_used_ms = detail::mtime_ms(manifest_path(at->manifest_cid)).value_or(0);
    return s;
  }
  return make_error(ErrorCode::not_found, "no such CID: " + std::string(cid));
}

}  // namespace hn::blobs
