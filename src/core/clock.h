// clock.h — an injectable clock, so tests can move time (expiry, pruning, quarantine,
// replay windows) without sleeping. Production code takes a `Clock&`; tests pass a
// ManualClock.
//
// Thread-safety: SystemClock is stateless; ManualClock is safe for concurrent use.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace hn {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch (wall clock).
  virtual std::int64_t now_ms() const = 0;
  std::int64_t now_seconds() const { return now_ms() / 1000; }
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override;
  // The process-wide instance.
  static SystemClock& instance();
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_ms = 1'780'000'000'000) : m_now(start_ms) {}
  std::int64_t now_ms() const override { return m_now.load(); }
  void set_ms(std::int64_t ms) { m_now.store(ms); }
  void advance_ms(std::int64_t ms) { m_now.fetch_add(ms); }
  void advance_seconds(std::int64_t s) { m_now.fetch_add(s * 1000); }

 private:
  std::atomic<std::int64_t> m_now;
};

// Monotonic milliseconds, for measuring durations (never for timestamps).
std::int64_t monotonic_ms();

}  // namespace hn
