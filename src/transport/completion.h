// completion.h — resumes an awaiting Asio coroutine with a value handed over from any
// thread: the bridge between the network thread's coroutines and work that runs on a
// queue (bus calls, node admin and sync work).
//
// async_completion<R>(start) calls start(respond) at once; the first respond(R) posts the
// coroutine's resumption to its own executor (later calls are ignored). No thread or
// coroutine waits in between: the coroutine is resumed by one post.
//
// Thread-safety: respond may be called from any thread, once (extra calls are no-ops).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace hn::transport {

template <typename R, typename Start>
auto async_completion(Start start) {
  namespace asio = boost::asio;
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(R)>(
      [](auto handler, Start start) {
        auto ex = asio::get_associated_executor(handler);
        using H = decltype(handler);
        struct Pending {
          explicit Pending(H h) : handler(std::move(h)) {}
          std::atomic<bool> fired{false};
          H handler;
        };
        auto pending = std::make_shared<Pending>(std::move(handler));
        start([pending, ex](R result) {
          if (pending->fired.exchange(true)) return;  // (called twice: ignored)
          H h = std::move(pending->handler);
          asio::post(ex, [h = std::move(h), result = std::move(result)]() mutable {
            std::move(h)(std::move(result));
          });
        });
      },
      asio::use_awaitable, std::move(start));
}

}  // namespace hn::transport
