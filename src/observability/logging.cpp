// logging.cpp — JSON-lines logging on spdlog (X03 §3). We render the whole JSON line
// ourselves and hand it to spdlog with the "%v" pattern, so spdlog only does sinks and
// flushing; the file sink and its rotation are ours (log_files.h).
#include "observability/logging.h"

#include <memory>
#include <mutex>
#include <vector>

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "core/file_util.h"
#include "core/time.h"
#include "observability/log_files.h"

namespace hn::observability {

namespace {

// Forwards each formatted line (the payload is the whole JSON line) to a callback.
class CallbackSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit CallbackSink(std::function<void(std::string_view)> fn) : m_fn(std::move(fn)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    m_fn(std::string_view(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override {}

 private:
  std::function<void(std::string_view)> m_fn;
};

struct Backend {
  std::shared_ptr<spdlog::logger> logger;
  LogLevel level = LogLevel::warning;
  std::string node_id;
  const Clock* clock = nullptr;
};

std::shared_ptr<const Backend> make_default_backend() {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("%v"));
  auto backend = std::make_shared<Backend>();
  backend->logger = std::make_shared<spdlog::logger>("hearthnet", std::move(sink));
  backend->logger->set_level(spdlog::level::trace);
  backend->level = LogLevel::warning;
  return backend;
}

std::mutex g_mutex;
std::shared_ptr<const Backend> g_backend;  // guarded by g_mutex; lazily defaulted

std::shared_ptr<const Backend> current_backend() {
  std::lock_guard lock(g_mutex);
  if (!g_backend) g_backend = make_default_backend();
  return g_backend;
}

void install_backend(std::shared_ptr<const Backend> backend) {
  std::shared_ptr<const Backend> old;
  {
    std::lock_guard lock(g_mutex);
    old = std::move(g_backend);
    g_backend = std::move(backend);
  }
  if (old) {
    try {
      old->logger->flush();
    } catch (...) {  // a failing flush of the old backend must not stop reconfiguration
    }
  }
}

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return spdlog::level::debug;
    case LogLevel::info: return spdlog::level::info;
    case LogLevel::warning: return spdlog::level::warn;
    case LogLevel::error: return spdlog::level::err;
  }
  return spdlog::level::err;
}

constexpr Json::error_handler_t kReplace = Json::error_handler_t::replace;

void append_field(std::string& out, std::string_view key, const Json& value) {
  out += ',';
  out += Json(std::string(key)).dump(-1, ' ', false, kReplace);
  out += ':';
  out += value.dump(-1, ' ', false, kReplace);
}

bool is_reserved_key(std::string_view key) {
  return key == "ts" || key == "level" || key == "logger" || key == "msg" ||
         key == "node_id";
}

}  // namespace

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warning: return "warning";
    case LogLevel::error: return "error";
  }
  return "error";
}

std::optional<LogLevel> parse_log_level(std::string_view name) {
  if (name == "debug") return LogLevel::debug;
  if (name == "info") return LogLevel::info;
  if (name == "warning" || name == "warn") return LogLevel::warning;
  if (name == "error" || name == "err") return LogLevel::error;
  return std::nullopt;
}

std::string format_log_line(std::int64_t ts_ms, LogLevel level, std::string_view logger,
                            std::string_view msg, const Json& fields,
                            std::string_view node_id) {
  // X03 §3.3: reserved keys first (ts, level, logger, msg), then the structured fields.
  std::string out = "{\"ts\":";
  out += Json(format_rfc3339_ms(ts_ms)).dump();
  append_field(out, "level", Json(std::string(to_string(level))));
  append_field(out, "logger", Json(std::string(logger)));
  append_field(out, "msg", Json(std::string(msg)));
  if (!node_id.empty()) append_field(out, "node_id", Json(std::string(node_id)));
  if (fields.is_object()) {
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      if (is_reserved_key(it.key())) {
        append_field(out, "_" + it.key(), it.value());
      } else {
        append_field(out, it.key(), it.value());
      }
    }
  } else if (!fields.is_null()) {
    append_field(out, "fields", fields);
  }
  out += '}';
  return out;
}

Status init_logging(const LogOptions& options) {
  auto backend = std::make_shared<Backend>();
  backend->level = options.level;
  backend->node_id = options.node_id;
  backend->clock = options.clock;
  std::vector<spdlog::sink_ptr> sinks;
  try {
    if (!options.dir.empty()) {
      HN_TRY(ensure_directory(options.dir, std::filesystem::perms(0750)));
      if (options.max_file_bytes == 0) {
        return make_error(ErrorCode::config_error, "log max_file_bytes must be > 0");
      }
      LogFileOptions fo;
      fo.dir = options.dir;
      fo.file_name = options.file_name;
      fo.max_file_bytes = options.max_file_bytes;
      fo.retention_days = options.retention_days;
      fo.max_files = options.max_files;
      fo.clock = options.clock;
      sinks.push_back(std::make_shared<DailyFileSink>(std::move(fo)));
    }
    if (options.console) sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
    if (options.line_callback) sinks.push_back(std::make_shared<CallbackSink>(options.line_callback));
    for (auto& sink : sinks) sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("%v"));
    backend->logger = std::make_shared<spdlog::logger>("hearthnet", sinks.begin(), sinks.end());
    backend->logger->set_level(spdlog::level::trace);
    // Logs are read live by `hearthnet log --follow` (M12 §3.6): flush every line.
    backend->logger->flush_on(spdlog::level::trace);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::io_error, std::string("cannot open log file: ") + e.what());
  }
  install_backend(std::move(backend));
  return {};
}

void flush_logging() {
  auto backend = current_backend();
  try {
    backend->logger->flush();
  } catch (...) {  // flushing is best effort
  }
}

void shutdown_logging() { install_backend(make_default_backend()); }

LogLevel current_log_level() { return current_backend()->level; }

void set_log_level(LogLevel level) {
  std::lock_guard lock(g_mutex);
  auto changed = std::make_shared<Backend>(g_backend ? *g_backend : *make_default_backend());
  changed->level = level;
  g_backend = std::move(changed);
}

bool Logger::should_log(LogLevel level) const {
  return static_cast<int>(level) >= static_cast<int>(current_backend()->level);
}

void Logger::log(LogLevel level, std::string_view msg, const Json& fields) const {
  auto backend = current_backend();
  if (static_cast<int>(level) < static_cast<int>(backend->level)) return;
  const Clock& clock = backend->clock ? *backend->clock : SystemClock::instance();
  try {
    std::string line = format_log_line(clock.now_ms(), level, m_component, msg, fields,
                                       backend->node_id);
    backend->logger->log(to_spdlog(level), spdlog::string_view_t(line.data(), line.size()));
  } catch (...) {  // logging never throws into the caller
  }
}

void Logger::error(std::string_view msg, const Error& err, const Json& fields) const {
  Json all = fields.is_object() ? fields : Json::object();
  if (!fields.is_null() && !fields.is_object()) all["fields"] = fields;
  all["error"] = std::string(hn::to_string(err.code));
  all["error_message"] = err.message;
  if (!err.detail.is_null()) all["error_detail"] = err.detail;
  log(LogLevel::error, msg, all);
}

Logger get_logger(std::string_view component) { return Logger(std::string(component)); }

}  // namespace hn::observability
