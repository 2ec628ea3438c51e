// log_files.h — the node's log files on disk (X03 §3.3): the current file
// <dir>/<stem><ext> (hearthnet.log) rotates at UTC midnight into
// <stem>.<YYYY-MM-DD>.<N><ext> (the day it covers; N = 1, 2, … in order within that day),
// and also when it would exceed max_file_bytes (a runaway debug log must not fill the disk
// within one day: doc/design/observability.md). Rotated files older than retention_days
// days are deleted, and at most max_files are kept (oldest first out).
//
// Thread-safety: DailyFileSink is an spdlog sink (internally locked); the name helpers are
// pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/details/file_helper.h>
#include <spdlog/sinks/base_sink.h>

#include "core/clock.h"
#include "core/constants.h"

namespace hn::observability {

struct LogFileOptions {
  std::filesystem::path dir;
  std::string file_name = "hearthnet.log";
  std::size_t max_file_bytes = 64 * 1024 * 1024;
  int retention_days = LOG_RETENTION_DAYS;
  std::size_t max_files = 100;
  const Clock* clock = nullptr;  // null = SystemClock; decides the day
};

// A rotated file's place in time: its UTC day and its order within the day.
struct RotatedLogName {
  std::string day;  // "YYYY-MM-DD"
  unsigned n = 0;
  auto operator<=>(const RotatedLogName&) const = default;
};

// Parses "<stem>.<YYYY-MM-DD>.<N><ext>"; nullopt for any other name.
std::optional<RotatedLogName> parse_rotated_log_name(std::string_view name, std::string_view stem,
                                                     std::string_view ext);
// The UTC day ("YYYY-MM-DD") of a Unix time in ms.
std::string utc_day(std::int64_t unix_ms);

class DailyFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Opens (appends to) the current file, first rotating one left from an earlier day.
  // Throws spdlog::spdlog_ex when the file cannot be opened.
  explicit DailyFileSink(LogFileOptions options);

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  std::int64_t now_ms() const;
  void rotate();  // current → <stem>.<m_day>.<N><ext>; reopen empty; prune
  void prune();

  LogFileOptions m_options;
  std::filesystem::path m_path;
  std::string m_day;  // the UTC day the current file covers
  spdlog::details::file_helper m_file;
};

}  // namespace hn::observability
