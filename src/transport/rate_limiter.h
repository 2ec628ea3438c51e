// rate_limiter.h — token buckets per (peer, capability) and per peer (X01 §7).
//
// Each key has a soft and a hard bucket, refilled continuously at the limit's rate with a
// one-second burst (capacity = rate). A request takes a token from both hard buckets first:
// if either is empty the request is hard-limited (the server drops it without a response).
// Then from both soft buckets: if either is empty it is soft-limited (429 rate_limited with
// retry_after_ms = time until the empty bucket holds a token). Soft-limited requests still
// spend hard tokens, so a client that ignores 429s reaches the hard limit.
//
// Thread-safety: internally locked. Time comes from the injected Clock.
// Invariant: idle keys whose buckets are full again are pruned, so memory tracks active peers.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "core/constants.h"

namespace hn::transport {

struct RateLimits {
  double soft_rps_per_cap = RATE_LIMIT_SOFT_RPS_PER_CAP;
  double hard_rps_per_cap = RATE_LIMIT_HARD_RPS_PER_CAP;
  double soft_rps_total = RATE_LIMIT_SOFT_RPS_TOTAL;
  double hard_rps_total = RATE_LIMIT_HARD_RPS_TOTAL;
};

// X01 §7 RateCheck, plus hard_exceeded to tell "drop" from "429".
struct RateCheck {
  bool allowed = true;
  bool soft_exceeded = false;
  bool hard_exceeded = false;
  int retry_after_ms = 0;
};

class RateLimiter {
 public:
  explicit RateLimiter(const Clock& clock, RateLimits limits = {});
  RateCheck check(const std::string& peer_node_id, const std::string& capability);
  // Number of tracked keys (tests).
  std::size_t tracked_keys() const;

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t last_ms = 0;
  };
  struct Buckets {
    Bucket soft;
    Bucket hard;
  };
  using BucketMap = std::unordered_map<std::string, Buckets>;
  Buckets& buckets_locked(BucketMap& map, const std::string& key, double soft_rate,
                          double hard_rate, std::int64_t now);
  void prune_locked(std::int64_t now);

  const Clock& m_clock;
  RateLimits m_limits;
  mutable std::mutex m_mutex;
  BucketMap m_per_cap;  // peer + '\n' + capability
  BucketMap m_total;    // peer
  std::int64_t m_last_prune_ms = 0;
};

}  // namespace hn::transport
