// logging.h — structured JSON-lines logging (X03 §3). Every module logs through a Logger
// obtained from get_logger(component); one line per event:
//   {"ts":"2026-05-26T08:14:22.281Z","level":"info","logger":"bus.router","msg":"routed",
//    "node_id":"…","trace_id":"01HX…","capability":"llm.chat","ms":12}
// Files rotate daily at UTC midnight, and by size within a day, keeping retention_days
// days (X03 §3.3; observability/log_files.h): the current file is <dir>/<file_name>,
// rotated ones <stem>.<YYYY-MM-DD>.<N><ext>.
//
// Thread-safety: init_logging/shutdown_logging may race with logging threads safely (the
// backend is swapped under a mutex; a line goes to the old or the new backend, never torn).
// Logger is a cheap value type, usable from any thread, and follows later init_logging
// calls (a Logger obtained before init logs to the backend installed at the time of the
// call).
// Invariants: every emitted line is one JSON object (parse_json succeeds on it); the
// reserved keys ts/level/logger/msg/node_id always come first and are never overridden
// by caller fields (a colliding caller field is renamed with a leading underscore).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/constants.h"
#include "core/error.h"
#include "core/json.h"

namespace hn::observability {

// X03 §3.2 levels.
enum class LogLevel { debug, info, warning, error };

// "debug" / "info" / "warning" / "error".
std::string_view to_string(LogLevel level);
// Parses a level name ("warn" and "err" are accepted as aliases); nullopt when unknown.
std::optional<LogLevel> parse_log_level(std::string_view name);

// Plain options (the node maps ObservabilityConfig onto them; X04 §3).
struct LogOptions {
  // Directory for log files; empty = no file output.
  std::filesystem::path dir;
  std::string file_name = "hearthnet.log";
  LogLevel level = LogLevel::info;
  // Rotation (log_files.h): at UTC midnight, and before a file would exceed
  // max_file_bytes; rotated files older than retention_days are deleted, and at most
  // max_files are kept besides the current one.
  std::size_t max_file_bytes = 10 * 1024 * 1024;
  int retention_days = LOG_RETENTION_DAYS;
  std::size_t max_files = 100;
  // Also write each line to stderr.
  bool console = false;
  // Added as "node_id" to every line when non-empty.
  std::string node_id;
  // Receives every emitted line (without newline), e.g. for tests or a live log view.
  // Called on the logging thread; must not log.
  std::function<void(std::string_view line)> line_callback;
  // Source of "ts" and of the day files rotate on; null = SystemClock. Must outlive the
  // logging backend.
  const Clock* clock = nullptr;
};

// Installs sinks per options, replacing any earlier configuration (idempotent; X03 §3.1).
// Before the first call, warnings and errors go to stderr. Errors: io_error when the log
// directory or file cannot be created (the previous backend stays installed).
Status init_logging(const LogOptions& options);
// Flushes every sink.
void flush_logging();
// Flushes and returns to the pre-init default (stderr, warning and above).
void shutdown_logging();
// The level of the installed backend.
LogLevel current_log_level();
// Changes the installed backend's level at run time (the sinks stay; the Settings tab and
// POST /node/v1/log-level). Lasts until the next init_logging, e.g. the next start.
void set_log_level(LogLevel level);

// Renders one log line (no trailing newline). Exposed for tests and for tools that write
// compatible lines. fields: a JSON object of structured fields (null = none; a non-object
// value is stored under "fields").
std::string format_log_line(std::int64_t ts_ms, LogLevel level, std::string_view logger,
                            std::string_view msg, const Json& fields,
                            std::string_view node_id = {});

// A named handle onto the process-wide logging backend.
class Logger {
 public:
  explicit Logger(std::string component) : m_component(std::move(component)) {}

  void debug(std::string_view msg, const Json& fields = nullptr) const {
    log(LogLevel::debug, msg, fields);
  }
  void info(std::string_view msg, const Json& fields = nullptr) const {
    log(LogLevel::info, msg, fields);
  }
  void warning(std::string_view msg, const Json& fields = nullptr) const {
    log(LogLevel::warning, msg, fields);
  }
  void error(std::string_view msg, const Json& fields = nullptr) const {
    log(LogLevel::error, msg, fields);
  }
  // Logs an hn::Error at error level with its code/message/detail as fields.
  void error(std::string_view msg, const Error& err, const Json& fields = nullptr) const;

  void log(LogLevel level, std::string_view msg, const Json& fields = nullptr) const;
  // Whether a line at this level would be emitted (to skip building costly fields).
  bool should_log(LogLevel level) const;
  const std::string& component() const { return m_component; }

 private:
  std::string m_component;
};

// A Logger for a component name such as "bus.router" (X03 §3.1 get_logger).
Logger get_logger(std::string_view component);

}  // namespace hn::observability
