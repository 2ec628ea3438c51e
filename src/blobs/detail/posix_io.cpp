// posix_io.cpp — POSIX implementation of the blob layer's file I/O.
#include "blobs/detail/posix_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/ulid.h"

namespace hn::blobs::detail {

namespace {
constexpr std::string_view TEMP_MARKER = ".tmp-";
}  // namespace

Error errno_error(std::string_view what, const fs::path& path, int err) {
  ErrorCode code = ErrorCode::io_error;
  if (err == ENOSPC || err == EDQUOT) code = ErrorCode::disk_full;
  if (err == ENOENT) code = ErrorCode::not_found;
  return make_error(code, std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    reset();
    m_fd = other.release();
  }
  return *this;
}

void UniqueFd::reset() {
  if (m_fd >= 0) ::close(m_fd);
  m_fd = -1;
}

Result<UniqueFd> open_for_read(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error("open", path, errno);
  return UniqueFd(fd);
}

namespace {

// One retry loop for every whole-buffer read and write: `step(done)` moves the bytes from
// `done` on (read/write at the file position, pread/pwrite at an offset) and returns what
// the syscall did. EINTR is retried; a read stops at end of file; a write that moves
// nothing is an error (written_all).
template <class Step>
Result<std::size_t> loop_full(std::size_t size, const char* what, const fs::path& path, Step step) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = step(done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(what, path, errno);
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

Status written_all(Result<std::size_t> done, std::size_t size, const fs::path& path) {
  HN_TRY_ASSIGN(const std::size_t n, std::move(done));
  if (n != size) return errno_error("write", path, EIO);
  return {};
}

off_t at(std::int64_t offset, std::size_t done) {
  return static_cast<off_t>(offset + static_cast<std::int64_t>(done));
}

}  // namespace

Result<std::size_t> read_full(int fd, std::span<std::uint8_t> out, const fs::path& path) {
  return loop_full(out.size(), "read", path,
                   [&](std::size_t done) { return ::read(fd, out.data() + done, out.size() - done); });
}

Status write_all(int fd, std::span<const std::uint8_t> data, const fs::path& path) {
  return written_all(loop_full(data.size(), "write", path, [&](std::size_t done) {
                       return ::write(fd, data.data() + done, data.size() - done);
                     }),
                     data.size(), path);
}

Result<std::size_t> pread_full(int fd, std::int64_t offset, std::span<std::uint8_t> out,
                               const fs::path& path) {
  return loop_full(out.size(), "read", path, [&](std::size_t done) {
    return ::pread(fd, out.data() + done, out.size() - done, at(offset, done));
  });
}

Status pwrite_all(int fd, std::int64_t offset, std::span<const std::uint8_t> data, const fs::path& path) {
  return written_all(loop_full(data.size(), "write", path, [&](std::size_t done) {
                       return ::pwrite(fd, data.data() + done, data.size() - done, at(offset, done));
                     }),
                     data.size(), path);
}

Result<AtomicFileWriter> AtomicFileWriter::create(const fs::path& target) {
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  fs::path tmp = dir / ("." + target.filename().string() + std::string(TEMP_MARKER) + new_ulid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return errno_error("create", tmp, errno);
  return AtomicFileWriter(UniqueFd(fd), std::move(tmp), target);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!m_done && !m_tmp.empty()) {
    m_fd.reset();
    ::unlink(m_tmp.c_str());
  }
}

Status AtomicFileWriter::append(std::span<const std::uint8_t> data) {
  assert(!m_done);
  return write_all(m_fd.get(), data, m_tmp);
}

void start_writeback(int fd, std::int64_t offset, std::int64_t length) {
  // Errors are ignored: the later fsync/syncfs reports what matters.
  (void)::sync_file_range(fd, static_cast<off_t>(offset), static_cast<off_t>(length),
                          SYNC_FILE_RANGE_WRITE);
}

Status AtomicFileWriter::commit(FileSync sync) {
  assert(!m_done);
  if (sync == FileSync::full && ::fsync(m_fd.get()) != 0) return errno_error("fsync", m_tmp, errno);
  if (sync == FileSync::start_writeback) start_writeback(m_fd.get(), 0, 0);
  if (::close(m_fd.release()) != 0) return errno_error("close", m_tmp, errno);
  if (::rename(m_tmp.c_str(), m_target.c_str()) != 0) {
    return errno_error("rename", m_target, errno);
  }
  m_done = true;
  return {};
}

Status write_file_atomically(const fs::path& target, std::span<const std::uint8_t> data,
                             bool sync) {
  return write_file_atomically(target, data, sync ? FileSync::full : FileSync::none);
}

Status write_file_atomically(const fs::path& target, std::span<const std::uint8_t> data,
                             FileSync sync) {
  HN_TRY_ASSIGN(auto writer, AtomicFileWriter::create(target));
  HN_TRY(writer.append(data));
  return writer.commit(sync);
}

Status set_mtime_ms(const fs::path& path, std::int64_t ms) {
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;  // leave atime alone
  times[1].tv_sec = static_cast<time_t>(ms / 1000);
  times[1].tv_nsec = static_cast<long>((ms % 1000) * 1'000'000);
  if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) {
    return errno_error("utimensat", path, errno);
  }
  return {};
}

Result<std::int64_t> mtime_ms(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno_error("stat", path, errno);
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

bool is_temp_name(std::string_view name) {
  return !name.empty() && name.front() == '.' && name.find(TEMP_MARKER) != std::string_view::npos;
}

}  // namespace hn::blobs::detail
