// pubsub.h — in-memory topic registry with long-poll subscribers (X01 §8, CONTRACT §8).
// Each topic is a bounded TopicRing; a subscriber asks for messages after `last_seq` and
// waits up to `timeout` for the next publish.
//
// Reply of async_subscribe (the body of GET /pubsub/v1/subscribe):
//   {"topic": t, "messages": [{"seq": n, "payload": {...}}, ...], "last_seq": n,
//    "gap": bool, "timeout": bool}
// `timeout` is true (and `messages` empty) when nothing arrived in time; `last_seq` is what
// the subscriber passes next time.
//
// Thread-safety: publish() and stop() may be called from any thread (they post to the
// executor); async_subscribe runs on the executor. State lives in a shared block so posted
// work outlives nothing it needs.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <utility>  // before Asio 1.74's awaitable.hpp, which uses std::exchange

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/json.h"
#include "transport/topic_ring.h"

namespace hn::transport {

class PubSub {
 public:
  explicit PubSub(boost::asio::any_io_executor executor,
                  std::size_t ring_capacity = PUBSUB_RING_CAPACITY,
                  std::size_t max_topics = 4096);

  // Appends to the topic's ring and wakes its waiters. Topics beyond max_topics or with
  // invalid names are ignored (returns false when refused synchronously by name).
  bool publish(std::string topic, Json payload);
  // Long-poll: messages after last_seq, waiting up to timeout for one.
  boost::asio::awaitable<Json> async_subscribe(std::string topic, std::int64_t last_seq,
                                               std::chrono::milliseconds timeout);
  // Wakes every waiter (they answer with timeout) and refuses new waits.
  void stop();

 private:
  struct State {
    boost::asio::any_io_executor executor;
    std::size_t ring_capacity;
    std::size_t max_topics;
    std::map<std::string, TopicRing> rings;
    std::map<std::string, std::vector<boost::asio::steady_timer*>> waiters;
    bool stopped = false;
  };
  std::shared_ptr<State> m_state;
};

}  // namespace hn::transport
