// parallel.cpp — the process-wide helper threads behind run_on_all_cores.
#include "core/parallel.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace hn {
namespace {

class Helpers {
 public:
  static Helpers& instance() {
    static Helpers helpers;
    return helpers;
  }

  std::size_t runners() const { return m_threads.size() + 1; }

  // false: not run (no helpers here, or another caller has them).
  bool run(const std::function<void()>& work) {
    if (m_threads.empty() || ::getpid() != m_pid) return false;
    std::unique_lock busy(m_busy, std::try_to_lock);
    if (!busy.owns_lock()) return false;
    {
      std::lock_guard lk(m_mutex);
      m_work = &work;
      m_pending = m_threads.size();
      ++m_generation;
    }
    m_wake.notify_all();
    work();
    std::unique_lock lk(m_mutex);
    m_done.wait(lk, [&] { return m_pending == 0; });
    m_work = nullptr;
    return true;
  }

  ~Helpers() {
    {
      std::lock_guard lk(m_mutex);
      m_stop = true;
    }
    m_wake.notify_all();
    for (auto& t : m_threads) t.join();
  }

 private:
  Helpers() : m_pid(::getpid()) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 1; i < cores; ++i) m_threads.emplace_back([this] { loop(); });
  }

  void loop() {
    std::uint64_t seen = 0;
    std::unique_lock lk(m_mutex);
    for (;;) {
      m_wake.wait(lk, [&] { return m_stop || m_generation != seen; });
      if (m_stop) return;
      seen = m_generation;
      const std::function<void()>* work = m_work;
      lk.unlock();
      (*work)();
      lk.lock();
      if (--m_pending == 0) m_done.notify_one();
    }
  }

  const pid_t m_pid;
  std::mutex m_busy;  // held by the caller whose work the helpers run
  std::mutex m_mutex;
  std::condition_variable m_wake, m_done;
  const std::function<void()>* m_work = nullptr;
  std::size_t m_pending = 0;
  std::uint64_t m_generation = 0;
  bool m_stop = false;
  std::vector<std::thread> m_threads;
};

}  // namespace

void run_on_all_cores(const std::function<void()>& work) {
  if (!Helpers::instance().run(work)) work();
}

std::size_t parallel_runners() { return Helpers::instance().runners(); }

}  // namespace hn
