// posix_io.h — the blob layer's low-level file I/O: an RAII descriptor, full reads and
// writes that survive EINTR and short counts, errno → ErrorCode mapping (ENOSPC →
// disk_full), a streaming atomic writer (temp file in the target directory + optional
// fsync + rename) and mtime stamping for LRU tracking (M07 §5.4).
//
// Thread-safety: every object is single-threaded; distinct objects are independent.
// Invariants: an AtomicFileWriter that is not committed leaves nothing behind (its temp
// file is unlinked on destruction); a committed one has replaced the target in one rename.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"

namespace hn::blobs::detail {

namespace fs = std::filesystem;

// An error for the current errno value `err`: disk_full for ENOSPC/EDQUOT, not_found for
// ENOENT, io_error otherwise.
Error errno_error(std::string_view what, const fs::path& path, int err);

// Owns one file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : m_fd(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : m_fd(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return m_fd; }
  int release() {
    int fd = m_fd;
    m_fd = -1;
    return fd;
  }
  void reset();

 private:
  int m_fd = -1;
};

// Opens a file for reading.
Result<UniqueFd> open_for_read(const fs::path& path);
// Reads until `out` is full or EOF; returns the byte count read.
Result<std::size_t> read_full(int fd, std::span<std::uint8_t> out, const fs::path& path);
// Writes all of data.
Status write_all(int fd, std::span<const std::uint8_t> data, const fs::path& path);
// The same at a position (pread / pwrite: safe from several threads on one descriptor).
Result<std::size_t> pread_full(int fd, std::int64_t offset, std::span<std::uint8_t> out,
                               const fs::path& path);
Status pwrite_all(int fd, std::int64_t offset, std::span<const std::uint8_t> data, const fs::path& path);

// How a writer flushes what it wrote before it renames or closes: not at all, by starting the
// kernel's writeback without waiting (sync_file_range WRITE: a later fsync/syncfs then finds
// most of the data on disk already), or by fsync.
enum class FileSync { none, start_writeback, full };

// Starts writeback of [offset, offset + length) of fd without waiting (best effort).
void start_writeback(int fd, std::int64_t offset, std::int64_t length);

// Builds a file under a temporary name in the target's directory and renames it into place
// on commit. The directory must exist.
class AtomicFileWriter {
 public:
  static Result<AtomicFileWriter> create(const fs::path& target);
  AtomicFileWriter(AtomicFileWriter&&) noexcept = default;
  AtomicFileWriter& operator=(AtomicFileWriter&&) noexcept = default;
  ~AtomicFileWriter();

  Status append(std::span<const std::uint8_t> data);
  // fsyncs the data when `sync`, then renames over the target. The caller fsyncs the
  // directory (possibly once for many files).
  Status commit(bool sync) { return commit(sync ? FileSync::full : FileSync::none); }
  Status commit(FileSync sync);

 private:
  AtomicFileWriter(UniqueFd fd, fs::path tmp, fs::path target)
      : m_fd(std::move(fd)), m_tmp(std::move(tmp)), m_target(std::move(target)) {}
  UniqueFd m_fd;
  fs::path m_tmp;
  fs::path m_target;
  bool m_done = false;
};

// Writes data to target atomically (temp + optional fsync + rename).
Status write_file_atomically(const fs::path& target, std::span<const std::uint8_t> data, bool sync);
Status write_file_atomically(const fs::path& target, std::span<const std::uint8_t> data,
                             FileSync sync);

// Sets a file's modification time to `ms` since the epoch (LRU stamp, M07 §5.4).
Status set_mtime_ms(const fs::path& path, std::int64_t ms);
// A file's modification time in ms since the epoch; not_found when absent.
Result<std::int64_t> mtime_ms(const fs::path& path);

// Whether a directory entry name is one of our temporary files.
bool is_temp_name(std::string_view name);

}  // namespace hn::blobs::detail
