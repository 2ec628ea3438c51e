// file_util.cpp — POSIX implementation of durable writes.
#include "core/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/ulid.h"

namespace hn {
namespace {

Error errno_error(const std::string& what, const fs::path& path) {
  const int e = errno;
  ErrorCode code = (e == ENOSPC || e == EDQUOT) ? ErrorCode::disk_full : ErrorCode::io_error;
  return make_error(code, what + " " + path.string() + ": " + std::strerror(e));
}

}  // namespace

Status fsync_directory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_error("open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return errno_error("fsync directory", dir);
  return {};
}

Status ensure_directory(const fs::path& dir, fs::perms mode) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return {};
  fs::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::io_error, "create directory " + dir.string() + ": " + ec.message());
  fs::permissions(dir, mode, ec);
  return {};
}

Status atomic_write_file(const fs::path& path, std::string_view data, fs::perms mode) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  HN_TRY(ensure_directory(dir));
  const fs::path tmp = dir / ("." + path.filename().string() + ".tmp-" + new_ulid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                  static_cast<mode_t>(mode));
  if (fd < 0) return errno_error("create", tmp);
  ::fchmod(fd, static_cast<mode_t>(mode));  // umask must not widen or narrow what we asked for
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error err = errno_error("write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return err;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Error err = errno_error("fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return err;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error err = errno_error("rename", path);
    ::unlink(tmp.c_str());
    return err;
  }
  return fsync_directory(dir);
}

Result<std::string> read_file(const fs::path& path, std::uintmax_t max_bytes) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) {
      return make_error(ErrorCode::not_found, "no such file: " + path.string());
    }
    return make_error(ErrorCode::io_error, "stat " + path.string() + ": " + ec.message());
  }
  if (size > max_bytes) {
    return make_error(ErrorCode::bad_request, "file too large: " + path.string());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::io_error, "cannot open " + path.string());
  std::string data(size, '\0');
  in.read(data.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uintmax_t>(in.gcount()) != size) {
    return make_error(ErrorCode::io_error, "short read: " + path.string());
  }
  return data;
}

}  // namespace hn
