// rate_limiter.cpp — soft/hard token buckets (X01 §7).
#include "transport/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace hn::transport {
namespace {

void refill(double& tokens, std::int64_t& last_ms, double rate, std::int64_t now) {
  if (now > last_ms) {
    tokens = std::min(rate, tokens + rate * static_cast<double>(now - last_ms) / 1000.0);
    last_ms = now;
  }
}

int ms_until_token(double tokens, double rate) {
  if (tokens >= 1.0 || rate <= 0) return 0;
  return static_cast<int>(std::ceil((1.0 - tokens) * 1000.0 / rate));
}

}  // namespace

RateLimiter::RateLimiter(const Clock& clock, RateLimits limits)
    : m_clock(clock), m_limits(limits) {}

RateLimiter::Buckets& RateLimiter::buckets_locked(BucketMap& map, const std::string& key,
                                                  double soft_rate, double hard_rate,
                                                  std::int64_t now) {
  auto [it, inserted] = map.try_emplace(key);
  if (inserted) {
    it->second.soft = {soft_rate, now};
    it->second.hard = {hard_rate, now};
  }
  refill(it->second.soft.tokens, it->second.soft.last_ms, soft_rate, now);
  refill(it->second.hard.tokens, it->second.hard.last_ms, hard_rate, now);
  return it->second;
}

RateCheck RateLimiter::check(const std::string& peer, const std::string& capability) {
  std::lock_guard lock(m_mutex);
  const std::int64_t now = m_clock.now_ms();
  prune_locked(now);
  Buckets& cap = buckets_locked(m_per_cap, peer + '\n' + capability, m_limits.soft_rps_per_cap,
                                m_limits.hard_rps_per_cap, now);
  Buckets& total =
      buckets_locked(m_total, peer, m_limits.soft_rps_total, m_limits.hard_rps_total, now);
  RateCheck r;
  if (cap.hard.tokens < 1.0 || total.hard.tokens < 1.0) {
    r.allowed = false;
    r.hard_exceeded = true;
    r.soft_exceeded = true;
    r.retry_after_ms = std::max(ms_until_token(cap.hard.tokens, m_limits.hard_rps_per_cap),
                                ms_until_token(total.hard.tokens, m_limits.hard_rps_total));
    return r;
  }
  cap.hard.tokens -= 1.0;
  total.hard.tokens -= 1.0;
  if (cap.soft.tokens < 1.0 || total.soft.tokens < 1.0) {
    r.allowed = false;
    r.soft_exceeded = true;
    r.retry_after_ms =
        std::max(1, std::max(ms_until_token(cap.soft.tokens, m_limits.soft_rps_per_cap),
                             ms_until_token(total.soft.tokens, m_limits.soft_rps_total)));
    return r;
  }
  cap.soft.tokens -= 1.0;
  total.soft.tokens -= 1.0;
  return r;
}

std::size_t RateLimiter::tracked_keys() const {
  std::lock_guard lock(m_mutex);
  return m_per_cap.size() + m_total.size();
}

void RateLimiter::prune_locked(std::int64_t now) {
  if (now - m_last_prune_ms < 10'000) return;
  m_last_prune_ms = now;
  auto prune = [now](auto& map, double soft_rate, double hard_rate) {
    for (auto it = map.begin(); it != map.end();) {
      Buckets b = it->second;
      refill(b.soft.tokens, b.soft.last_ms, soft_rate, now);
      refill(b.hard.tokens, b.hard.last_ms, hard_rate, now);
      if (b.soft.tokens >= soft_rate && b.hard.tokens >= hard_rate) {
        it = map.erase(it);
      } else {
        ++it;
      }
    }
  };
  prune(m_per_cap, m_limits.soft_rps_per_cap, m_limits.hard_rps_per_cap);
  prune(m_total, m_limits.soft_rps_total, m_limits.hard_rps_total);
}

}  // namespace hn::transport
