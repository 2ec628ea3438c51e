// buffer_pool.cpp — recycled chunk buffers (buffer_pool.h).
#include "core/buffer_pool.h"

#include "core/constants.h"

namespace hn {

BufferPool& BufferPool::chunks() {
  // A chunk, plus the spare byte a verified read asks for and a page of slack.
  static BufferPool pool(static_cast<std::size_t>(CHUNK_SIZE_BYTES) + 4096, 64);
  return pool;
}

Bytes BufferPool::take(std::size_t n) {
  if (n <= m_buffer_bytes) {
    std::unique_lock lock(m_mutex);
    if (!m_free.empty()) {
      Bytes b = std::move(m_free.back());
      m_free.pop_back();
      lock.unlock();
      b.resize(n);  // within capacity: no allocation; only bytes past its old size are filled
      return b;
    }
    lock.unlock();
    Bytes b;
    b.reserve(m_buffer_bytes);
    b.resize(n);
    return b;
  }
  return Bytes(n);
}

void BufferPool::give(Bytes&& buffer) {
  if (buffer.capacity() < m_buffer_bytes || buffer.capacity() > 2 * m_buffer_bytes) return;
  Bytes keep = std::move(buffer);
  std::lock_guard lock(m_mutex);
  if (m_free.size() < m_max_buffers) m_free.push_back(std::move(keep));
}

std::size_t BufferPool::pooled() const {
  std::lock_guard lock(m_mutex);
  return m_free.size();
}

}  // namespace hn
