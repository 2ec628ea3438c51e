// log_reader.h — reads the JSON-lines log files back (for `hearthnet log`, M12 §3.6):
// the current file and its rotated predecessors in chronological order, filtered by
// minimum level and logger name (the CLI's --component, M12 §3.6).
//
// Thread-safety: pure functions over the filesystem; safe to call while a node writes
// (a line being written may be skipped as unparsable).
// Invariants: lines that do not parse as a JSON object with string ts/level/logger/msg
// are skipped, never fatal (log files are outside bytes).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "observability/logging.h"

namespace hn::observability {

struct LogEntry {
  std::string ts;
  LogLevel level = LogLevel::info;
  std::string component;  // the line's `logger` (X03 §3.3)
  std::string msg;
  Json fields = Json::object();  // every other key of the line (node_id, trace_id, …)
  std::string raw;               // the line as read
};

struct LogFilter {
  std::optional<LogLevel> min_level;
  // Matches the component itself and its children ("bus" matches "bus.router").
  std::optional<std::string> component;
};

// Parses one log line; bad_request when it is not a well-formed entry.
Result<LogEntry> parse_log_line(std::string_view line);
// Whether an entry passes a filter.
bool matches(const LogEntry& entry, const LogFilter& filter);

// The last `max_entries` matching entries from <dir>/<file_name> and its rotated files,
// oldest first. not_found when the directory holds no log file at all.
Result<std::vector<LogEntry>> read_log_lines(const std::filesystem::path& dir,
                                             const LogFilter& filter,
                                             std::size_t max_entries = 1000,
                                             const std::string& file_name = "hearthnet.log");

// The log files for <dir>/<file_name>, oldest first (rotated by day and order within it,
// then the current).
std::vector<std::filesystem::path> list_log_files(const std::filesystem::path& dir,
                                                  const std::string& file_name = "hearthnet.log");

}  // namespace hn::observability
