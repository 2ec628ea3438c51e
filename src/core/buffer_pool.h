// buffer_pool.h — recycles chunk-sized byte buffers along the file transfer path (a chunk
// read on the serving node → its stream frame → the socket; a frame payload received on
// the fetching node → its verified write), so that each 256 KiB chunk does not fault fresh
// pages in: the allocator purges idle large buffers between chunks, and on this path page
// faults on new buffers cost more CPU than the copies (bench/RESULTS.md "Files").
//
// take(n) hands out a buffer of n bytes whose contents are unspecified (the caller
// overwrites them all); give() takes one back when its capacity suits the pool and the pool
// has room, and frees it otherwise. Bounded: at most max_buffers are kept.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include "core/encoding.h"

namespace hn {

class BufferPool {
 public:
  // Buffers of at least buffer_bytes' capacity (requests above it are not pooled).
  BufferPool(std::size_t buffer_bytes, std::size_t max_buffers)
      : m_buffer_bytes(buffer_bytes), m_max_buffers(max_buffers) {}
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // The process's pool for blob chunks (256 KiB and a little more: 64 buffers, 17 MiB).
  static BufferPool& chunks();

  Bytes take(std::size_t n);
  void give(Bytes&& buffer);

  std::size_t pooled() const;  // buffers waiting (tests)

 private:
  const std::size_t m_buffer_bytes;
  const std::size_t m_max_buffers;
  mutable std::mutex m_mutex;
  std::vector<Bytes> m_free;
};

}  // namespace hn
