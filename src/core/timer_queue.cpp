// timer_queue.cpp — TimerQueue: an ordered map of deadlines and one thread that sleeps on a
// condition variable until the earliest.
#include "core/timer_queue.h"

#include <pthread.h>

namespace hn {

TimerQueue::TimerQueue() : m_thread([this] { run(); }) {}

TimerQueue::~TimerQueue() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    m_timers.clear();
    m_when.clear();
  }
  m_wake.notify_all();
  if (m_thread.joinable()) m_thread.join();
}

std::uint64_t TimerQueue::schedule(TimePoint when, std::function<void()> fn) {
  std::uint64_t id = 0;
  bool earliest = false;
  {
    std::lock_guard lock(m_mutex);
    id = m_next_id++;
    earliest = m_timers.empty() || when < m_timers.begin()->first.first;
    m_timers.emplace(std::make_pair(when, id), std::move(fn));
    m_when.emplace(id, when);
  }
  if (earliest) m_wake.notify_one();
  return id;
}

bool TimerQueue::cancel(std::uint64_t id) {
  std::lock_guard lock(m_mutex);
  auto it = m_when.find(id);
  if (it == m_when.end()) return false;
  m_timers.erase({it->second, id});
  m_when.erase(it);
  return true;
}

std::size_t TimerQueue::pending() const {
  std::lock_guard lock(m_mutex);
  return m_timers.size();
}

void TimerQueue::run() {
  ::pthread_setname_np(::pthread_self(), "timers");
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    if (m_timers.empty()) {
      m_wake.wait(lock);
      continue;
    }
    auto first = m_timers.begin();
    const TimePoint when = first->first.first;
    if (std::chrono::steady_clock::now() < when) {
      m_wake.wait_until(lock, when);
      continue;
    }
    auto fn = std::move(first->second);
    m_when.erase(first->first.second);
    m_timers.erase(first);
    lock.unlock();
    fn();
    fn = nullptr;
    lock.lock();
  }
}

}  // namespace hn
