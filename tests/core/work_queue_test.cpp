// work_queue_test.cpp — WorkQueue (bounded executor) and TimerQueue: what the execution
// model relies on — a full queue refuses at once, drain waits for running and queued jobs,
// stop drops queued ones, timers fire in order and can be cancelled. No timing assertions:
// latches and flags decide.
#include "core/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>

#include "core/timer_queue.h"

namespace hn {
namespace {

TEST(WorkQueue, RunsJobsOffTheCallersThread) {
  WorkQueue q({"t", 2, 8, 0});
  std::promise<std::thread::id> ran;
  ASSERT_TRUE(q.try_post([&] { ran.set_value(std::this_thread::get_id()); }));
  EXPECT_NE(ran.get_future().get(), std::this_thread::get_id());
  EXPECT_FALSE(q.running_in_this_thread());
}

TEST(WorkQueue, FullQueueRefusesAtOnceAndCountsIt) {
  WorkQueue q({"t", 1, 2, 0});
  std::promise<void> release;
  auto released = release.get_future().share();
  std::latch started(1);
  ASSERT_TRUE(q.try_post([&] {
    started.count_down();
    released.wait();
  }));
  started.wait();  // the one thread is busy
  EXPECT_TRUE(q.try_post([] {}));
  EXPECT_TRUE(q.try_post([] {}));
  EXPECT_FALSE(q.try_post([] {}));  // 2 waiting = capacity
  auto st = q.stats();
  EXPECT_EQ(st.running, 1u);
  EXPECT_EQ(st.queued, 2u);
  EXPECT_EQ(st.rejected, 1u);
  release.set_value();
  q.drain();
  st = q.stats();
  EXPECT_EQ(st.completed, 3u);
  EXPECT_EQ(st.queued + st.running, 0u);
}

TEST(WorkQueue, DrainWaitsForQueuedAndRunningJobsThenRefuses) {
  WorkQueue q({"t", 1, 8, 0});
  std::atomic<int> done{0};
  std::promise<void> release;
  auto released = release.get_future().share();
  ASSERT_TRUE(q.try_post([&] { released.wait(); ++done; }));
  ASSERT_TRUE(q.try_post([&] { ++done; }));
  auto drained = std::async(std::launch::async, [&] { q.drain(); });
  // drain() cannot return while a job is held back.
  EXPECT_EQ(drained.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  release.set_value();
  drained.get();
  EXPECT_EQ(done.load(), 2);
  EXPECT_FALSE(q.try_post([] {}));
}

TEST(WorkQueue, StopDropsQueuedJobs) {
  std::atomic<int> ran{0};
  {
    WorkQueue q({"t", 1, 8, 0});
    std::promise<void> release;
    auto released = release.get_future().share();
    std::latch started(1);
    ASSERT_TRUE(q.try_post([&] { started.count_down(); released.wait(); ++ran; }));
    started.wait();
    ASSERT_TRUE(q.try_post([&] { ++ran; }));
    auto stopper = std::async(std::launch::async, [&] { q.stop(); });
    // stop() refuses and clears the queue first (a full queue refuses too, but is not
    // empty while the running job holds the thread); the running job then ends.
    for (;;) {
      if (!q.try_post([] {}) && q.stats().queued == 0) break;
      std::this_thread::yield();
    }
    release.set_value();
    stopper.get();
  }
  EXPECT_EQ(ran.load(), 1);
}

TEST(WorkQueue, AJobPostingToItsOwnQueueSeesItsThread) {
  WorkQueue q({"t", 1, 8, 0});
  std::promise<bool> inside;
  ASSERT_TRUE(q.try_post([&] { inside.set_value(q.running_in_this_thread()); }));
  EXPECT_TRUE(inside.get_future().get());
}

TEST(TimerQueue, FiresInDeadlineOrderAndCancels) {
  TimerQueue t;
  std::mutex m;
  std::vector<int> order;
  std::latch fired(2);
  const auto now = std::chrono::steady_clock::now();
  t.schedule(now + std::chrono::milliseconds(30), [&] { std::lock_guard l(m); order.push_back(2); fired.count_down(); });
  const auto dropped = t.schedule(now + std::chrono::milliseconds(10), [&] { std::lock_guard l(m); order.push_back(99); });
  t.schedule(now + std::chrono::milliseconds(20), [&] { std::lock_guard l(m); order.push_back(1); fired.count_down(); });
  EXPECT_TRUE(t.cancel(dropped));
  EXPECT_FALSE(t.cancel(dropped));
  fired.wait();
  std::lock_guard l(m);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(t.pending(), 0u);
}

TEST(TimerQueue, APastDeadlineFiresAtOnce) {
  TimerQueue t;
  std::promise<void> fired;
  t.schedule(std::chrono::steady_clock::now() - std::chrono::seconds(1), [&] { fired.set_value(); });
  fired.get_future().get();
}

}  // namespace
}  // namespace hn
