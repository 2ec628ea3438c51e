// timer_queue.h — callbacks at points in (steady) time, run on one thread of the queue's
// own. The bus uses one to end a remote call at its deadline whatever the network does,
// without a thread waiting per call.
//
// Thread-safety: every member is safe from any thread. Callbacks run on the timer thread,
// one at a time, outside the queue's lock: they must be short (post real work elsewhere)
// and must not throw.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace hn {

class TimerQueue {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  TimerQueue();
  ~TimerQueue();  // pending callbacks are dropped
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Runs `fn` at `when` (at once when it has passed). Returns an id for cancel().
  std::uint64_t schedule(TimePoint when, std::function<void()> fn);
  // Drops a callback that has not started; false when it ran, runs now or is unknown.
  bool cancel(std::uint64_t id);
  std::size_t pending() const;

 private:
  void run();

  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  std::map<std::pair<TimePoint, std::uint64_t>, std::function<void()>> m_timers;
  std::map<std::uint64_t, TimePoint> m_when;
  std::uint64_t m_next_id = 1;
  bool m_stopping = false;
  std::thread m_thread;
};

}  // namespace hn
