// replay_guard.cpp — timestamp skew and request-id reuse checks (DESIGN.md).
#include "transport/replay_guard.h"

#include <cstdlib>

#include "core/time.h"

namespace hn::transport {

ReplayGuard::ReplayGuard(const Clock& clock, std::size_t max_entries)
    : m_clock(clock), m_max_entries(max_entries) {}

Status ReplayGuard::check(const RequestEnvelope& envelope) {
  auto ts = parse_rfc3339_ms(envelope.timestamp);
  if (!ts) return make_error(ErrorCode::bad_request, "malformed X-HearthNet-Timestamp");
  const std::int64_t now = m_clock.now_ms();
  if (std::llabs(now - *ts) > std::int64_t{REQUEST_MAX_SKEW_SECONDS} * 1000) {
    return make_error(ErrorCode::expired, "request timestamp outside the allowed clock skew");
  }
  std::string key = envelope.from + '\n' + envelope.request_id;
  std::lock_guard lock(m_mutex);
  prune_locked(now);
  if (m_seen.count(key) != 0) {
    return make_error(ErrorCode::bad_request, "request_id replayed");
  }
  if (m_seen.size() >= m_max_entries) {
    Error e(ErrorCode::capacity_exceeded, "replay window full");
    e.retry_after_ms = 1000;
    return e;
  }
  m_seen.insert(key);
  m_order.emplace_back(now, std::move(key));
  return {};
}

std::size_t ReplayGuard::size() const {
  std::lock_guard lock(m_mutex);
  return m_seen.size();
}

void ReplayGuard::prune_locked(std::int64_t now_ms) {
  const std::int64_t cutoff = now_ms - std::int64_t{REQUEST_ID_REPLAY_WINDOW_SECONDS} * 1000;
  while (!m_order.empty() && m_order.front().first < cutoff) {
    m_seen.erase(m_order.front().second);
    m_order.pop_front();
  }
}

}  // namespace hn::transport
