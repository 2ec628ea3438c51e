// rate_limited_logger.h — RateLimitedLogger (X03 §3.2): at most max_per_interval lines
// per key per interval (default: one per second per key). Suppressed lines are counted;
// the first line emitted for that key after its window reopens carries " (suppressed K)"
// in msg and a "suppressed":K field.
//
// Thread-safety: safe for concurrent use (internal mutex). Time comes from the Clock given
// at construction, so tests move time with a ManualClock.
// Invariants: per key, emitted lines in any window ≤ max_per_interval; every suppressed
// line is reported once, on the next emitted line of its key.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "observability/logging.h"

namespace hn::observability {

class RateLimitedLogger {
 public:
  RateLimitedLogger(Logger logger, const Clock& clock, int max_per_interval = 1,
                    std::int64_t interval_ms = 1000);

  // Each returns true when the line was emitted, false when it was suppressed.
  // (X03 §3.2 / IMPLEMENTATION_REFERENCE §2: info(msg, key, **extras).)
  bool debug(std::string_view msg, std::string_view key, const Json& fields = nullptr) {
    return log(LogLevel::debug, msg, key, fields);
  }
  bool info(std::string_view msg, std::string_view key, const Json& fields = nullptr) {
    return log(LogLevel::info, msg, key, fields);
  }
  bool warning(std::string_view msg, std::string_view key, const Json& fields = nullptr) {
    return log(LogLevel::warning, msg, key, fields);
  }
  bool error(std::string_view msg, std::string_view key, const Json& fields = nullptr) {
    return log(LogLevel::error, msg, key, fields);
  }
  bool log(LogLevel level, std::string_view msg, std::string_view key,
           const Json& fields = nullptr);

  // Lines suppressed for key and not yet reported.
  std::uint64_t pending_suppressed(std::string_view key) const;
  const Logger& logger() const { return m_logger; }

 private:
  struct Window {
    std::int64_t start_ms = 0;
    int emitted = 0;
    std::uint64_t suppressed = 0;
  };
  // Drops idle windows with nothing pending once the map grows large. Caller holds m_mutex.
  void prune_locked(std::int64_t now_ms);

  Logger m_logger;
  const Clock& m_clock;
  int m_max_per_interval;
  std::int64_t m_interval_ms;
  mutable std::mutex m_mutex;
  std::unordered_map<std::string, Window> m_windows;
};

}  // namespace hn::observability
