// cancel_token.h — a shared cancellation flag with callbacks: the caller of some work (a bus
// call, an HTTP exchange with an outside server) cancels it, and whoever waits on that work
// registers a callback instead of polling. The bus knows it as bus::CancelToken; it lives in
// core so that layers below the bus (the plain HTTP client, httpc) stop on the same token.
//
// Thread-safety: copies share one state and may be used from any thread. cancel() runs every
// registered callback once, on the cancelling thread, outside any lock of the token.
// Invariants: once cancelled a token stays cancelled; a callback runs at most once.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace hn {

// Shared cancellation flag: copies observe the same state. Default-constructed tokens are
// live (each has its own flag).
class CancelToken {
 public:
  CancelToken();
  void cancel() const;
  bool is_cancelled() const { return m_state->flag.load(); }
  // Runs `cb` once when the token is cancelled — at once, on this thread, when it already
  // is. Returns an id for forget(); 0 when `cb` already ran.
  std::uint64_t on_cancel(std::function<void()> cb) const;
  // Drops a callback that has not run (the wait it served is over).
  void forget(std::uint64_t id) const;

 private:
  struct State {
    std::atomic<bool> flag{false};
    std::mutex mutex;
    std::uint64_t next_id = 1;
    std::map<std::uint64_t, std::function<void()>> callbacks;
  };
  std::shared_ptr<State> m_state;
};

}  // namespace hn
