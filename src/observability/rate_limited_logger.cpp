// rate_limited_logger.cpp — fixed-window per-key rate limiting of log lines (X03 §3.2).
#include "observability/rate_limited_logger.h"

#include <algorithm>

namespace hn::observability {

namespace {
constexpr std::size_t kPruneThreshold = 4096;
}  // namespace

RateLimitedLogger::RateLimitedLogger(Logger logger, const Clock& clock, int max_per_interval,
                                     std::int64_t interval_ms)
    : m_logger(std::move(logger)),
      m_clock(clock),
      m_max_per_interval(std::max(1, max_per_interval)),
      m_interval_ms(std::max<std::int64_t>(1, interval_ms)) {}

bool RateLimitedLogger::log(LogLevel level, std::string_view msg, std::string_view key,
                            const Json& fields) {
  std::uint64_t report = 0;
  {
    std::lock_guard lock(m_mutex);
    const std::int64_t now = m_clock.now_ms();
    if (m_windows.size() >= kPruneThreshold) prune_locked(now);
    auto [it, inserted] = m_windows.try_emplace(std::string(key));
    Window& w = it->second;
    if (inserted || now - w.start_ms >= m_interval_ms || now < w.start_ms) {
      // The window reopens: report what the last one swallowed.
      report = w.suppressed;
      w = Window{now, 0, 0};
    }
    if (w.emitted >= m_max_per_interval) {
      ++w.suppressed;
      return false;
    }
    ++w.emitted;
  }
  if (report == 0) {
    m_logger.log(level, msg, fields);
  } else {
    Json all = fields.is_object() ? fields : Json::object();
    if (!fields.is_null() && !fields.is_object()) all["fields"] = fields;
    all["suppressed"] = report;
    m_logger.log(level, std::string(msg) + " (suppressed " + std::to_string(report) + ")", all);
  }
  return true;
}

std::uint64_t RateLimitedLogger::pending_suppressed(std::string_view key) const {
  std::lock_guard lock(m_mutex);
  auto it = m_windows.find(std::string(key));
  return it == m_windows.end() ? 0 : it->second.suppressed;
}

void RateLimitedLogger::prune_locked(std::int64_t now_ms) {
  for (auto it = m_windows.begin(); it != m_windows.end();) {
    const bool idle = now_ms - it->second.start_ms >= m_interval_ms;
    if (idle && it->second.suppressed == 0) {
      it = m_windows.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace hn::observability
