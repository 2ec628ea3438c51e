// stream_bridge_test.cpp — the worker → network hand-off of stream frames: a push made
// while the network side is busy emitting is not lost (the wait returns at once), frames
// keep their order, the result comes after the frames, a worker's push into a full queue
// waits until the consumer takes — also when the queued payload bytes reach their bound —
// and an abandoned bridge fails pushes with partition.
#include "node/detail/stream_bridge.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace hn::node::detail {
namespace {

namespace asio = boost::asio;

bus::StreamFrame frame(int i) { return bus::StreamFrame{"chunk", Json{{"i", i}}}; }

// The wait starts after the push's wake already ran (while the consumer was "emitting");
// the queued frame must end the wait at once, not after its 30 s limit.
TEST(NodeStreamBridge, PushWhileConsumerIsBusyIsNotLost) {
  asio::io_context io;
  auto bridge = std::make_shared<StreamBridge>(io.get_executor());
  bool woke = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        EXPECT_TRUE(bridge->take().frames.empty());
        std::thread worker([&] { ASSERT_TRUE(bridge->push(frame(1), false).has_value()); });
        worker.join();
        // Yield (as an emit does): the posted wake runs now, with no wait pending.
        asio::steady_timer busy(io);
        busy.expires_after(std::chrono::milliseconds(20));
        co_await busy.async_wait(asio::use_awaitable);
        co_await bridge->async_wait(std::chrono::seconds(30));
        woke = true;
        EXPECT_EQ(bridge->take().frames.size(), 1u);
      },
      asio::detached);
  io.run_for(std::chrono::seconds(5));
  EXPECT_TRUE(woke);
}

TEST(NodeStreamBridge, FramesInOrderThenTheResult) {
  asio::io_context io;
  auto bridge = std::make_shared<StreamBridge>(io.get_executor(), 8);
  std::vector<int> seen;
  std::optional<Result<Json>> result;
  std::thread worker([&] {
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(bridge->push(frame(i), false).has_value());
    bridge->finish(Json{{"ok", true}});
  });
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (;;) {
          auto batch = bridge->take();
          EXPECT_LE(batch.frames.size(), 8u);  // never more than the capacity queued
          for (auto& f : batch.frames) seen.push_back(f.data["i"].get<int>());
          if (batch.result) {
            result = std::move(batch.result);
            co_return;
          }
          co_await bridge->async_wait(std::chrono::seconds(30));
        }
      },
      asio::detached);
  io.run_for(std::chrono::seconds(10));
  worker.join();
  ASSERT_EQ(seen.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[i], i);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->has_value());
}

// Spins until the worker's push is parked in its wait (waiting_pushes) or has returned:
// one of the two always happens, so the test never waits on a clock.
bool parked_before_returning(const StreamBridge& bridge, const std::atomic<bool>& returned) {
  while (bridge.waiting_pushes() == 0 && !returned) std::this_thread::yield();
  return !returned && bridge.waiting_pushes() == 1;
}

// Backpressure: a worker's push into a full queue parks until take() makes room — it is
// still parked right before the take, returns after it, and its frame comes in the next batch.
TEST(NodeStreamBridge, WorkerPushIntoAFullQueueWaitsForTake) {
  asio::io_context io;
  auto bridge = std::make_shared<StreamBridge>(io.get_executor(), 2);
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(bridge->push(frame(i), false).has_value());
  std::atomic<bool> returned{false};
  std::thread worker([&] {
    EXPECT_TRUE(bridge->push(frame(2), false).has_value());
    returned = true;
  });
  const bool parked = parked_before_returning(*bridge, returned);
  EXPECT_FALSE(returned);  // nothing took yet: still parked
  const auto first = bridge->take();
  worker.join();
  ASSERT_TRUE(parked) << "the push did not wait for room";
  EXPECT_EQ(first.frames.size(), 2u);
  EXPECT_TRUE(returned);
  EXPECT_EQ(bridge->waiting_pushes(), 0u);
  auto next = bridge->take();
  ASSERT_EQ(next.frames.size(), 1u);
  EXPECT_EQ(next.frames[0].data["i"], 2);
}

// A file stream's frames carry 256 KiB payloads: the queue is full once their bytes reach
// payload_capacity, however few frames that is; one frame always fits an empty queue.
TEST(NodeStreamBridge, QueuedPayloadBytesAreBoundedToo) {
  asio::io_context io;
  auto bridge = std::make_shared<StreamBridge>(io.get_executor(), 64, 1000);
  auto big = [](int i, std::size_t n) {
    return bus::StreamFrame{"chunk", Json{{"i", i}}, Bytes(n, static_cast<std::uint8_t>(i))};
  };
  ASSERT_TRUE(bridge->push(big(0, 600), false).has_value());
  EXPECT_FALSE(bridge->congested());
  ASSERT_TRUE(bridge->push(big(1, 600), false).has_value());  // 1200 ≥ 1000: now full
  EXPECT_TRUE(bridge->congested());
  std::atomic<bool> returned{false};
  std::thread worker([&] {
    EXPECT_TRUE(bridge->push(big(2, 10), false).has_value());
    returned = true;
  });
  const bool parked = parked_before_returning(*bridge, returned);
  EXPECT_FALSE(returned);
  const auto first = bridge->take();
  worker.join();
  ASSERT_TRUE(parked) << "the push did not wait for the payload bytes to drain";
  EXPECT_EQ(first.frames.size(), 2u);
  EXPECT_FALSE(bridge->congested());  // the count starts again after take()
  // One frame larger than the whole bound still goes into an empty queue.
  EXPECT_EQ(bridge->take().frames.size(), 1u);
  ASSERT_TRUE(bridge->push(big(3, 5000), false).has_value());
  EXPECT_TRUE(bridge->congested());
  const auto last = bridge->take();
  ASSERT_EQ(last.frames.size(), 1u);
  EXPECT_EQ(last.frames[0].payload.size(), 5000u);
}

TEST(NodeStreamBridge, AbandonedBridgeFailsPushesWithPartition) {
  asio::io_context io;
  auto bridge = std::make_shared<StreamBridge>(io.get_executor(), 1);
  ASSERT_TRUE(bridge->push(frame(0), false).has_value());
  std::atomic<bool> returned{false};
  std::thread worker([&] {
    auto st = bridge->push(frame(1), false);  // parks: the queue is full
    returned = true;
    ASSERT_FALSE(st.has_value());
    EXPECT_EQ(st.error().code, ErrorCode::partition);
  });
  // abandon() must wake the parked push, not merely fail a later one.
  const bool parked = parked_before_returning(*bridge, returned);
  bridge->abandon();
  worker.join();
  EXPECT_TRUE(parked) << "the push did not wait for room";
  EXPECT_EQ(bridge->waiting_pushes(), 0u);
}

// As a bus::StreamFlow (relay backpressure): congested once `capacity` frames wait; a
// drained callback runs when take() empties the queue, or at once when there is room.
TEST(NodeStreamBridge, ReportsCongestionToRelays) {
  asio::io_context io;
  auto bridge = std::make_shared<StreamBridge>(io.get_executor(), 2);
  EXPECT_FALSE(bridge->congested());
  int now = 0;
  bridge->notify_when_drained([&] { ++now; });
  EXPECT_EQ(now, 1);
  // Pushes on the network thread never block; they fill the queue past capacity.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(bridge->push(frame(i), true).has_value());
  EXPECT_TRUE(bridge->congested());
  int later = 0;
  bridge->notify_when_drained([&] { ++later; });
  EXPECT_EQ(later, 0);
  EXPECT_EQ(bridge->take().frames.size(), 3u);
  EXPECT_EQ(later, 1);
  EXPECT_FALSE(bridge->congested());
  // An abandoned bridge is never congested: a waiting relay resumes and its pushes fail.
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(bridge->push(frame(i), true).has_value());
  int released = 0;
  bridge->notify_when_drained([&] { ++released; });
  bridge->abandon();
  EXPECT_EQ(released, 1);
  EXPECT_FALSE(bridge->congested());
  EXPECT_EQ(bridge->push(frame(9), true).error().code, ErrorCode::partition);
}

}  // namespace
}  // namespace hn::node::detail
