// export_file.cpp — a blob written to a file outside the store at its chunks' offsets
// (export_file.h).
#include "blobs/export_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/file_util.h"

namespace hn::blobs {

namespace fs = std::filesystem;

namespace {

// O_DIRECT's alignment of offsets, lengths and buffers (the logical block size is at most this).
constexpr std::size_t DIRECT_ALIGN = 4096;

bool aligned(std::uint64_t v) { return v % DIRECT_ALIGN == 0; }

// A per-thread aligned buffer for O_DIRECT writes whose source is not aligned.
std::uint8_t* bounce_buffer(std::size_t size) {
  struct Buffer {
    std::uint8_t* data = nullptr;
    std::size_t size = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer buffer;
  if (buffer.size < size) {
    std::free(buffer.data);
    buffer.data = static_cast<std::uint8_t*>(std::aligned_alloc(DIRECT_ALIGN, size));
    buffer.size = buffer.data ? size : 0;
  }
  return buffer.data;
}

// A CID's first 16 hex characters ("blake3:" stripped), or the whole text when shorter.
std::string_view cid_tag(std::string_view cid) {
  constexpr std::string_view prefix = "blake3:";
  if (cid.starts_with(prefix)) cid.remove_prefix(prefix.size());
  return cid.substr(0, 16);
}

}  // namespace

fs::path ExportFile::temp_path_for(const fs::path& target, std::string_view manifest_cid) {
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  return dir / ("." + target.filename().string() + ".tmp-" + std::string(cid_tag(manifest_cid)));
}

Result<std::unique_ptr<ExportFile>> ExportFile::open(const fs::path& target,
                                                     std::string_view manifest_cid,
                                                     std::int64_t size_bytes,
                                                     ExportFileOptions options) {
  if (size_bytes < 0) return make_error(ErrorCode::bad_request, "negative blob size");
  const fs::path tmp = options.temp.empty() ? temp_path_for(target, manifest_cid) : options.temp;
  // Lock-file pattern: the file we locked must still be the one at the temp name (a writer
  // that just committed renamed it onto the target; never truncate that one).
  for (int attempt = 0; attempt < 8; ++attempt) {
    detail::UniqueFd fd(::open(tmp.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (fd.get() < 0) return detail::errno_error("create", tmp, errno);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return make_error(ErrorCode::bad_request,
                          "another fetch is writing " + target.string() + " (" + tmp.string() + ")");
      }
      return detail::errno_error("flock", tmp, errno);
    }
    struct stat held {}, named {};
    if (::fstat(fd.get(), &held) != 0) return detail::errno_error("stat", tmp, errno);
    if (::stat(tmp.c_str(), &named) != 0 || named.st_ino != held.st_ino ||
        named.st_dev != held.st_dev) {
      continue;  // renamed or replaced under us: open the name again
    }
    // Whatever a killed writer left is discarded (every byte is written again), unless the
    // caller re-checks it (keep_partial); a file of another length is not this blob's.
    const bool resumed = options.keep_partial && held.st_size == size_bytes && size_bytes > 0;
    if (!resumed && ::ftruncate(fd.get(), 0) != 0) return detail::errno_error("truncate", tmp, errno);
    if (size_bytes > 0 && !resumed) {
      const int rc = ::fallocate(fd.get(), 0, 0, static_cast<off_t>(size_bytes));
      if (rc != 0 && errno != EOPNOTSUPP) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return detail::errno_error("fallocate", tmp, err);
      }
      if (rc != 0 && ::ftruncate(fd.get(), static_cast<off_t>(size_bytes)) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return detail::errno_error("truncate", tmp, err);
      }
    }
    const bool direct = options.direct;
    std::unique_ptr<ExportFile> file(new ExportFile(std::move(fd), tmp, target, std::move(options), resumed));
    if (direct) {
      // Fails on a filesystem without O_DIRECT (EINVAL): then every write is buffered.
      file->m_direct_fd = detail::UniqueFd(::open(tmp.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC));
    }
    return file;
  }
  return make_error(ErrorCode::io_error, "could not take " + tmp.string() + " (keeps changing)");
}

ExportFile::~ExportFile() {
  if (!m_done && !m_options.keep_partial) ::unlink(m_tmp.c_str());  // still locked: ours alone
}

Result<bool> ExportFile::write_direct(std::int64_t offset, std::span<const std::uint8_t> data) {
  if (m_direct_fd.get() < 0 || data.empty() || !aligned(static_cast<std::uint64_t>(offset)) ||
      !aligned(data.size())) {
    return false;
  }
  const std::uint8_t* from = data.data();
  if (!aligned(reinterpret_cast<std::uintptr_t>(from))) {
    std::uint8_t* bounce = bounce_buffer(data.size());
    if (!bounce) return false;
    std::memcpy(bounce, from, data.size());
    from = bounce;
  }
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pwrite(m_direct_fd.get(), from + done, data.size() - done,
                               static_cast<off_t>(offset + static_cast<std::int64_t>(done)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EINVAL && done == 0) return false;  // alignment refused: buffered
    if (n < 0) return detail::errno_error("write", m_tmp, errno);
    if (n == 0 || !aligned(static_cast<std::uint64_t>(n))) {
      // A short direct write (disk full halfway): the rest buffered reports the error.
      HN_TRY(write_at(offset + static_cast<std::int64_t>(done + static_cast<std::size_t>(n)),
                      data.subspan(done + static_cast<std::size_t>(n))));
      return true;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

Status ExportFile::write_at(std::int64_t offset, std::span<const std::uint8_t> data) {
  HN_TRY_ASSIGN(const bool direct, write_direct(offset, data));
  if (direct) return {};
  HN_TRY(detail::pwrite_all(m_fd.get(), offset, data, m_tmp));
  if (m_options.sync) {
    detail::start_writeback(m_fd.get(), offset, static_cast<std::int64_t>(data.size()));
  }
  return {};
}

Result<std::size_t> ExportFile::read_at(std::int64_t offset, std::span<std::uint8_t> out) const {
  return detail::pread_full(m_fd.get(), offset, out, m_tmp);
}

Status ExportFile::commit() {
  if (m_done) return make_error(ErrorCode::internal_error, "export committed twice");
  if (m_options.read_only && ::fchmod(m_fd.get(), 0444) != 0) {
    return detail::errno_error("chmod", m_tmp, errno);
  }
  if (m_options.sync && ::fdatasync(m_fd.get()) != 0) return detail::errno_error("fsync", m_tmp, errno);
  if (::rename(m_tmp.c_str(), m_target.c_str()) != 0) {
    return detail::errno_error("rename", m_target, errno);
  }
  m_done = true;
  m_fd.reset();
  m_direct_fd.reset();
  if (!m_options.sync) return {};
  const fs::path dir = m_target.has_parent_path() ? m_target.parent_path() : fs::path(".");
  return fsync_directory(dir);
}

}  // namespace hn::blobs
