// work_queue.cpp — WorkQueue: a mutex, two condition variables, a deque and N threads.
#include "core/work_queue.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>

namespace hn {

WorkQueue::WorkQueue(WorkQueueOptions options) : m_options([&] {
  options.threads = std::max<std::size_t>(options.threads, 1);
  options.capacity = std::max<std::size_t>(options.capacity, 1);
  return options;
}()) {
  m_threads.reserve(m_options.threads);
  for (std::size_t i = 0; i < m_options.threads; ++i) {
    m_threads.emplace_back([this, i] { run_thread(i); });
  }
}

WorkQueue::~WorkQueue() { stop(); }

bool WorkQueue::try_post(std::function<void()> job) {
  {
    std::lock_guard lock(m_mutex);
    if (!m_accepting || m_jobs.size() >= m_options.capacity) {
      ++m_rejected;
      return false;
    }
    m_jobs.push_back(std::move(job));
  }
  m_wake.notify_one();
  return true;
}

void WorkQueue::drain() {
  std::unique_lock lock(m_mutex);
  m_accepting = false;
  if (running_in_this_thread()) return;  // (a job draining its own queue would wait forever)
  m_idle.wait(lock, [this] { return m_jobs.empty() && m_running == 0; });
}

void WorkQueue::stop() {
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping && m_threads.empty()) return;
    m_accepting = false;
    m_stopping = true;
    m_jobs.clear();
  }
  m_wake.notify_all();
  for (auto& t : m_threads) {
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();  // stopped from one of its own jobs: that thread ends when the job returns
    } else if (t.joinable()) {
      t.join();
    }
  }
  std::lock_guard lock(m_mutex);
  m_threads.clear();
}

bool WorkQueue::running_in_this_thread() const {
  const auto me = std::this_thread::get_id();
  return std::any_of(m_threads.begin(), m_threads.end(),
                     [me](const std::thread& t) { return t.get_id() == me; });
}

WorkQueueStats WorkQueue::stats() const {
  std::lock_guard lock(m_mutex);
  return WorkQueueStats{m_options.name, m_options.threads, m_options.capacity, m_jobs.size(),
                        m_running, m_completed, m_rejected};
}

void WorkQueue::run_thread(std::size_t index) {
  const std::string thread_name = (m_options.name + "-" + std::to_string(index)).substr(0, 15);
  ::pthread_setname_np(::pthread_self(), thread_name.c_str());
  if (m_options.nice != 0) {
    // Per-thread on Linux: setpriority on the thread id.
    const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
    errno = 0;
    const int current = ::getpriority(PRIO_PROCESS, tid);
    if (errno == 0) (void)::setpriority(PRIO_PROCESS, tid, current + m_options.nice);
  }
  std::unique_lock lock(m_mutex);
  for (;;) {
    m_wake.wait(lock, [this] { return m_stopping || !m_jobs.empty(); });
    if (m_stopping) return;
    auto job = std::move(m_jobs.front());
    m_jobs.pop_front();
    ++m_running;
    lock.unlock();
    try {
      job();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "work queue %s: a job threw: %s\n", m_options.name.c_str(), e.what());
    } catch (...) {
      std::fprintf(stderr, "work queue %s: a job threw\n", m_options.name.c_str());
    }
    job = nullptr;  // release what the job held before counting it done
    lock.lock();
    --m_running;
    ++m_completed;
    if (m_jobs.empty() && m_running == 0) m_idle.notify_all();
  }
}

}  // namespace hn
