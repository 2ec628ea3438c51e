// file_util.h — durable file I/O shared by every layer that persists bytes: atomic
// replace (temp file in the same directory + fsync + rename + fsync of the directory),
// whole-file reads and permission checks.
//
// Thread-safety: functions are reentrant; concurrent writers to one path race by design
// (last rename wins, never a torn file).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/encoding.h"
#include "core/error.h"

namespace hn {

namespace fs = std::filesystem;

// Writes data to path atomically with the given permission bits; creates parent dirs.
Status atomic_write_file(const fs::path& path, std::string_view data, fs::perms mode = fs::perms(0644));
// Reads a whole file; not_found when absent, io_error otherwise. Refuses files > max_bytes.
Result<std::string> read_file(const fs::path& path, std::uintmax_t max_bytes = 1ull << 30);
// fsyncs a directory so a rename inside it is durable.
Status fsync_directory(const fs::path& dir);
// Creates a directory tree with the given mode (existing directories are left as they are).
Status ensure_directory(const fs::path& dir, fs::perms mode = fs::perms(0755));

}  // namespace hn
