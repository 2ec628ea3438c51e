// replay_guard.h — refuses stale and replayed signed requests (DESIGN.md "Request replay").
//
//  - X-HearthNet-Timestamp more than REQUEST_MAX_SKEW_SECONDS (60 s) from local time,
//    either way → `expired` (410).
//  - A (from, request_id) pair seen in the last REQUEST_ID_REPLAY_WINDOW_SECONDS (120 s)
//    → `bad_request` (400). Our reading: the request itself is well signed and fresh, it is
//    the reuse of an id that is wrong ("fix and resend" with a fresh id, CONTRACT §9), and
//    invalid_signature would hide a client bug behind a crypto error. Ids are keyed by the
//    caller, so two nodes may share a trace id.
// Only call check() after the signature verified, so an attacker cannot burn ids.
//
// Thread-safety: internally locked; safe from any thread.
// Invariant: memory is bounded by the entries of the last 120 s, capped at max_entries
// (beyond the cap a new request is refused with capacity_exceeded rather than forgetting).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_set>

#include "core/clock.h"
#include "core/constants.h"
#include "core/error.h"
#include "transport/envelope.h"

namespace hn::transport {

class ReplayGuard {
 public:
  explicit ReplayGuard(const Clock& clock, std::size_t max_entries = 200'000);

  // expired / bad_request / capacity_exceeded, or ok (and the id is remembered).
  Status check(const RequestEnvelope& envelope);
  // Entries currently remembered (tests).
  std::size_t size() const;

 private:
  void prune_locked(std::int64_t now_ms);

  const Clock& m_clock;
  std::size_t m_max_entries;
  mutable std::mutex m_mutex;
  std::unordered_set<std::string> m_seen;                  // from + '\n' + request_id
  std::deque<std::pair<std::int64_t, std::string>> m_order;  // (seen_at_ms, key), ascending
};

}  // namespace hn::transport
