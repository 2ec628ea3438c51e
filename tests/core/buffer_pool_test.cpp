// buffer_pool_test.cpp — core::BufferPool: buffers handed out at the size asked, taken back
// only when they suit the pool, never more than its bound; a recycled buffer keeps its
// memory (the point: no fresh pages per chunk).
#include "core/buffer_pool.h"

#include <gtest/gtest.h>

#include <thread>

namespace hn {
namespace {

TEST(BufferPool, RecyclesBuffersOfItsSizeAndKeepsTheirMemory) {
  BufferPool pool(1024, 2);
  Bytes a = pool.take(1000);
  EXPECT_EQ(a.size(), 1000u);
  EXPECT_GE(a.capacity(), 1024u);
  const auto* memory = a.data();
  pool.give(std::move(a));
  EXPECT_EQ(pool.pooled(), 1u);
  Bytes b = pool.take(1024);
  EXPECT_EQ(b.size(), 1024u);
  EXPECT_EQ(b.data(), memory);  // the same memory, not a new allocation
  EXPECT_EQ(pool.pooled(), 0u);
}

TEST(BufferPool, RefusesBuffersThatDoNotSuitItAndStaysBounded) {
  BufferPool pool(1024, 2);
  pool.give(Bytes(10));       // too small to serve a request
  pool.give(Bytes(1 << 20));  // too large to hoard
  EXPECT_EQ(pool.pooled(), 0u);
  for (int i = 0; i < 5; ++i) pool.give(pool.take(1024));  // one at a time: one kept
  EXPECT_EQ(pool.pooled(), 1u);
  std::vector<Bytes> out;
  for (int i = 0; i < 5; ++i) out.push_back(pool.take(512));
  for (auto& b : out) pool.give(std::move(b));
  EXPECT_EQ(pool.pooled(), 2u);  // the bound
  // Larger than its buffers: served, never pooled.
  Bytes big = pool.take(4096);
  EXPECT_EQ(big.size(), 4096u);
}

TEST(BufferPool, ManyThreadsTakeAndGiveAtOnce) {
  BufferPool pool(256, 8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool, t] {
      for (int i = 0; i < 2000; ++i) {
        Bytes b = pool.take(200);
        b[0] = static_cast<std::uint8_t>(t);
        b[199] = static_cast<std::uint8_t>(i);
        pool.give(std::move(b));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(pool.pooled(), 8u);
}

}  // namespace
}  // namespace hn
