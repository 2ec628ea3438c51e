// work_queue.h — a bounded executor: a few threads of their own and a queue of at most
// `capacity` waiting jobs. The execution model (doc/design/architecture.md) gives each
// class of work — a service's calls, event sync, the node's admin routes — its own
// WorkQueue, so one kind of long work can fill only its own queue and threads: when a
// queue is full, try_post refuses at once (the bus answers capacity_exceeded with
// retry_after_ms) instead of waiting behind someone else's work.
//
// Thread-safety: every member is safe from any thread. Jobs must not throw (a job that
// does is caught and logged to stderr, and the thread lives on).
// Lifetime: the destructor stops the queue (queued jobs that never started are dropped)
// and joins the threads; call drain() first to let queued and running jobs finish.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hn {

// Where a job may be handed to run later. try_post never blocks: false means "full" (or
// stopped), and the job was not taken.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual bool try_post(std::function<void()> job) = 0;
  // True on one of the executor's own threads (a job calling into its own queue runs
  // inline rather than wait for a thread it holds itself).
  virtual bool running_in_this_thread() const { return false; }
};

struct WorkQueueOptions {
  std::string name;          // "diag", "sync", "admin", … (thread names, stats)
  std::size_t threads = 1;   // at least 1
  std::size_t capacity = 64; // jobs waiting (not counting running ones); at least 1
  int nice = 0;              // added to the threads' nice value (Linux; 0 = unchanged)
};

struct WorkQueueStats {
  std::string name;
  std::size_t threads = 0;
  std::size_t capacity = 0;
  std::size_t queued = 0;    // waiting now
  std::size_t running = 0;   // running now
  std::uint64_t completed = 0;
  std::uint64_t rejected = 0;  // try_post refused (full or stopped)
};

class WorkQueue final : public Executor {
 public:
  explicit WorkQueue(WorkQueueOptions options);
  ~WorkQueue() override;
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  bool try_post(std::function<void()> job) override;
  // Refuses new jobs from now on and waits until every queued and running job finished.
  // Jobs may still post follow-up jobs to other queues meanwhile; a job posted to this
  // queue by a running job is refused.
  void drain();
  // Refuses new jobs, drops the queued ones, joins the threads (after the running jobs
  // returned). Idempotent.
  void stop();
  // True when called from one of this queue's threads.
  bool running_in_this_thread() const override;

  WorkQueueStats stats() const;
  const std::string& name() const { return m_options.name; }

 private:
  void run_thread(std::size_t index);

  const WorkQueueOptions m_options;
  mutable std::mutex m_mutex;
  std::condition_variable m_wake;     // a job arrived, or stopping
  std::condition_variable m_idle;     // a job finished (drain waits on it)
  std::deque<std::function<void()>> m_jobs;
  std::size_t m_running = 0;
  std::uint64_t m_completed = 0;
  std::uint64_t m_rejected = 0;
  bool m_accepting = true;
  bool m_stopping = false;
  std::vector<std::thread> m_threads;
};

}  // namespace hn
