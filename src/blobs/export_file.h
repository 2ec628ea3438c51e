// export_file.h — writes one blob to a file outside the store (`hearthnet file get --out`)
// while its chunks arrive: each verified chunk is written once, at its offset, into a
// temporary file beside the target, which is flushed once and renamed over the target only
// when every byte is there (doc/design/files.md "Hash once, write once").
//
// The temporary name is ".<target name>.tmp-<16 hex of the blob's CID>" — the blob layer's
// temp-file form, and fixed for a (target, blob) pair: a fetch killed with SIGKILL leaves
// only that hidden file (never a complete-looking target), and the fetch that resumes takes
// it over instead of leaving it behind. A live writer holds an exclusive flock(2) on it, so a
// second writer of the same target and blob is refused (bad_request) rather than interleaved;
// the kernel drops the lock of a killed one.
//
// The blob store keeps a fetched blob the same way (BlobStore::begin_blob): its temporary
// file is the store's "<hex>.partial", which outlives a kill and an uncommitted writer
// (ExportFileOptions::keep_partial) so that the fetch that resumes re-reads what is there.
//
// Thread-safety: write_at and read_at may be called from several threads at once (pwrite /
// pread at distinct offsets); open, commit and destruction are single-threaded.
// Invariants: the target is either untouched or the whole blob, written by one rename; an
// ExportFile destroyed without commit removes its temporary file (unless keep_partial).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "blobs/detail/posix_io.h"
#include "core/error.h"

namespace hn::blobs {

struct ExportFileOptions {
  // Where the bytes wait until commit; empty: temp_path_for(target, manifest_cid).
  std::filesystem::path temp;
  // Keep what a killed writer left in the temporary file (resumed(): the caller re-checks
  // it) and keep the file when destroyed uncommitted. Otherwise both are discarded.
  bool keep_partial = false;
  // Start writeback on each write, fdatasync and fsync the directory on commit.
  bool sync = true;
  // The committed file's mode: 0444 (a store's data file, shared by hard links) or 0644.
  bool read_only = false;
  // Write whole aligned blocks with O_DIRECT (no page-cache copy: the bytes go from the
  // caller's buffer to the disk; doc/design/files.md "Direct writes"); the rest, and every
  // write on a filesystem without O_DIRECT, is buffered.
  bool direct = false;
};

class ExportFile {
 public:
  // Creates (or takes over from a killed writer) the temporary file of `target` for the
  // blob `manifest_cid` and sizes it to size_bytes (space reserved up front: disk_full now,
  // not halfway). The target's directory must exist.
  static Result<std::unique_ptr<ExportFile>> open(const std::filesystem::path& target,
                                                  std::string_view manifest_cid,
                                                  std::int64_t size_bytes,
                                                  ExportFileOptions options = {});
  ExportFile(const ExportFile&) = delete;
  ExportFile& operator=(const ExportFile&) = delete;
  ~ExportFile();

  // Writes data at offset and starts its writeback (the final flush then finds it on disk).
  Status write_at(std::int64_t offset, std::span<const std::uint8_t> data);
  // Reads what the file holds at offset (out.size() bytes, fewer at its end); the bytes
  // count read.
  Result<std::size_t> read_at(std::int64_t offset, std::span<std::uint8_t> out) const;
  // Whether open took over a temporary file with data in it (keep_partial only).
  bool resumed() const { return m_resumed; }
  // Flushes the data (fdatasync: nearly free when the store's syncfs of the same filesystem
  // ran just before), renames over the target and fsyncs the directory.
  Status commit();

  const std::filesystem::path& temp_path() const { return m_tmp; }
  // The temporary name open() uses for target and manifest_cid.
  static std::filesystem::path temp_path_for(const std::filesystem::path& target,
                                             std::string_view manifest_cid);

 private:
  ExportFile(detail::UniqueFd fd, std::filesystem::path tmp, std::filesystem::path target,
             ExportFileOptions options, bool resumed)
      : m_fd(std::move(fd)),
        m_tmp(std::move(tmp)),
        m_target(std::move(target)),
        m_options(std::move(options)),
        m_resumed(resumed) {}
  // Writes data at offset with O_DIRECT when it can; false when it could not (write buffered).
  Result<bool> write_direct(std::int64_t offset, std::span<const std::uint8_t> data);

  detail::UniqueFd m_fd;
  detail::UniqueFd m_direct_fd;  // the same file with O_DIRECT, when asked and supported
  std::filesystem::path m_tmp;
  std::filesystem::path m_target;
  ExportFileOptions m_options;
  bool m_resumed = false;
  bool m_done = false;
};

}  // namespace hn::blobs
