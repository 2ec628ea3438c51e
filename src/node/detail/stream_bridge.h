// stream_bridge.h — hands stream frames from a worker thread (where the bus runs a
// streaming call) to the network thread (where the SSE writer lives), with backpressure.
//
// The worker pushes frames and finally the call's result; the network coroutine takes
// everything queued, emits it, and waits on a timer that a push cancels. async_wait
// returns at once when something is queued: emitting yields, and a push made meanwhile
// posts its wake while no wait is pending (that wake would be lost). The check and the
// start of the wait happen on the network thread without yielding in between, so a wake
// posted after the check always finds the wait. At most one wake is posted at a time.
// Backpressure: a worker push waits while the queue holds `capacity` frames, or frames
// whose binary payloads add up to `payload_capacity` bytes (a file stream's 256 KiB chunks:
// 64 queued frames were 16 MiB a stream, held besides the batch being written). A push made
// ON the network thread (a remote stream relayed by the transport client) never waits —
// waiting there would deadlock the consumer — and fails with capacity_exceeded only past
// a hard bound. Once the consumer is gone (client disconnected), pushes fail with partition
// so the bus stops the stream.
//
// As a bus::StreamFlow it reports congestion (the queue full, as above) to a relay that
// reads a remote stream on the network thread and must not block: the relay stops reading
// until take() drains the queue.
//
// Thread-safety: push/finish/abandon/congested/notify_when_drained/waiting_pushes from any
// thread; take/async_wait on the network thread only.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bus/capability.h"
#include "core/error.h"

namespace hn::node::detail {

class StreamBridge : public bus::StreamFlow, public std::enable_shared_from_this<StreamBridge> {
 public:
  static constexpr std::size_t DEFAULT_CAPACITY = 64;
  static constexpr std::size_t HARD_CAPACITY = 4096;
  // Payload bytes queued before a push waits: as much as X01's window of 16 chunk frames.
  static constexpr std::size_t DEFAULT_PAYLOAD_CAPACITY = 4 * 1024 * 1024;

  StreamBridge(boost::asio::any_io_executor network, std::size_t capacity = DEFAULT_CAPACITY,
               std::size_t payload_capacity = DEFAULT_PAYLOAD_CAPACITY)
      : m_network(network), m_timer(network), m_capacity(capacity),
        m_payload_capacity(payload_capacity) {}

  // Worker side: queue one frame (blocks while full, unless on the network thread).
  Status push(bus::StreamFrame frame, bool on_network_thread) {
    {
      std::unique_lock lock(m_mutex);
      if (!on_network_thread) {
        ++m_waiting_pushes;  // seen by others only once the wait has released the lock
        m_space.wait(lock, [&] { return m_abandoned || !full_locked(); });
        --m_waiting_pushes;
      } else if (m_frames.size() >= HARD_CAPACITY) {
        return make_error(ErrorCode::capacity_exceeded, "stream consumer too slow");
      }
      if (m_abandoned) return make_error(ErrorCode::partition, "stream consumer gone");
      m_payload_bytes += frame.payload.size();
      m_frames.push_back(std::move(frame));
    }
    wake();
    return {};
  }

  // Worker side: the call's final result (the `done` data or the error).
  void finish(Result<Json> result) {
    {
      std::lock_guard lock(m_mutex);
      m_result.emplace(std::move(result));
    }
    wake();
  }

  // Network side: the consumer is gone; wakes and fails every waiting / later push.
  void abandon() {
    std::vector<std::function<void()>> drained;
    {
      std::lock_guard lock(m_mutex);
      m_abandoned = true;
      drained.swap(m_drained);
    }
    m_space.notify_all();
    for (auto& cb : drained) cb();
  }

  // Network side: everything queued so far, and the result once finished (and drained).
  struct Batch {
    std::deque<bus::StreamFrame> frames;
    std::optional<Result<Json>> result;
  };
  Batch take() {
    Batch b;
    std::vector<std::function<void()>> drained;
    {
      std::lock_guard lock(m_mutex);
      b.frames.swap(m_frames);
      m_payload_bytes = 0;
      if (m_result) b.result.emplace(std::move(*m_result));
      m_result.reset();
      drained.swap(m_drained);
    }
    m_space.notify_all();
    for (auto& cb : drained) cb();
    return b;
  }

  // bus::StreamFlow
  bool congested() const override {
    std::lock_guard lock(m_mutex);
    return !m_abandoned && full_locked();
  }
  void notify_when_drained(std::function<void()> cb) override {
    {
      std::lock_guard lock(m_mutex);
      if (!m_abandoned && full_locked()) {
        m_drained.push_back(std::move(cb));
        return;
      }
    }
    cb();
  }

  // Worker pushes parked in their wait for room. It changes under the lock, so a push is
  // counted only while it waits with the lock released: it found the queue full.
  std::size_t waiting_pushes() const {
    std::lock_guard lock(m_mutex);
    return m_waiting_pushes;
  }

  // Network side: waits until woken by push/finish, or at most `limit`.
  boost::asio::awaitable<void> async_wait(std::chrono::milliseconds limit) {
    {
      std::lock_guard lock(m_mutex);
      if (!m_frames.empty() || m_result) co_return;
    }
    m_timer.expires_after(limit);
    boost::system::error_code ec;
    co_await m_timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }

 private:
  // Under m_mutex. One frame always fits into an empty queue, however large its payload.
  bool full_locked() const {
    return m_frames.size() >= m_capacity ||
           (!m_frames.empty() && m_payload_bytes >= m_payload_capacity);
  }

  void wake() {
    if (m_wake_posted.exchange(true)) return;  // the posted wake has not run yet
    boost::asio::post(m_network, [self = shared_from_this()] {
      self->m_wake_posted = false;  // before the cancel: a later push posts again
      self->m_timer.cancel();
    });
  }

  boost::asio::any_io_executor m_network;
  boost::asio::steady_timer m_timer;  // network thread only
  const std::size_t m_capacity;
  const std::size_t m_payload_capacity;
  mutable std::mutex m_mutex;
  std::condition_variable m_space;
  std::deque<bus::StreamFrame> m_frames;
  std::size_t m_payload_bytes = 0;  // of m_frames
  std::optional<Result<Json>> m_result;
  bool m_abandoned = false;
  std::size_t m_waiting_pushes = 0;
  std::vector<std::function<void()>> m_drained;  // notify_when_drained callbacks
  std::atomic<bool> m_wake_posted{false};
};

}  // namespace hn::node::detail
