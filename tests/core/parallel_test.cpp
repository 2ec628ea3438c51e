// parallel_test.cpp — run_on_all_cores: every chunk done exactly once, on more than one
// thread where there are cores, with concurrent callers, and in a forked child (no helpers).
#include "core/parallel.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace hn {
namespace {

// Splits n items into chunks off a shared cursor; counts how often each item was done and
// which threads did some.
struct Job {
  explicit Job(std::size_t n) : done(n) {}
  std::vector<std::atomic<int>> done;
  std::atomic<std::size_t> cursor{0};
  std::mutex mutex;
  std::set<std::thread::id> threads;

  void run() {
    run_on_all_cores([this] {
      bool any = false;
      for (std::size_t lo = cursor.fetch_add(8); lo < done.size(); lo = cursor.fetch_add(8)) {
        for (std::size_t i = lo; i < std::min(done.size(), lo + 8); ++i) {
          volatile double x = 1;
          for (int k = 0; k < 2000; ++k) x = x * 1.0000001;  // some work per item
          done[i].fetch_add(1);
        }
        any = true;
      }
      if (any) {
        std::lock_guard lk(mutex);
        threads.insert(std::this_thread::get_id());
      }
    });
  }
  bool each_once() const {
    for (const auto& d : done) {
      if (d.load() != 1) return false;
    }
    return true;
  }
};

TEST(Parallel, EveryChunkOnceAcrossTheCores) {
  EXPECT_EQ(parallel_runners(), std::max(1u, std::thread::hardware_concurrency()));
  Job job(20000);
  job.run();
  EXPECT_TRUE(job.each_once());
  if (parallel_runners() > 1) {
    // Helpers took part at least once in a few tries (a helper may wake after the caller
    // has taken every chunk of a run).
    bool shared = job.threads.size() > 1;
    for (int attempt = 0; attempt < 20 && !shared; ++attempt) {
      Job again(20000);
      again.run();
      EXPECT_TRUE(again.each_once());
      shared = again.threads.size() > 1;
    }
    EXPECT_TRUE(shared);
  }
}

TEST(Parallel, ConcurrentCallersEachFinishTheirOwnWork) {
  std::vector<std::unique_ptr<Job>> jobs;
  for (int i = 0; i < 4; ++i) jobs.push_back(std::make_unique<Job>(5000));
  std::vector<std::thread> callers;
  for (auto& j : jobs) callers.emplace_back([&j] {
    for (int r = 0; r < 3; ++r) {
      Job local(3000);
      local.run();
      EXPECT_TRUE(local.each_once());
    }
    j->run();
  });
  for (auto& t : callers) t.join();
  for (const auto& j : jobs) EXPECT_TRUE(j->each_once());
}

TEST(Parallel, ForkedChildDoesTheWorkAlone) {
  Job warm(100);
  warm.run();  // the helpers exist in the parent
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    Job job(2000);
    job.run();
    ::_exit(job.each_once() && job.threads.size() == 1 ? 0 : 1);
  }
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  EXPECT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

}  // namespace
}  // namespace hn
