// pubsub.cpp — long-poll pub-sub on the network executor (X01 §8).
#include "transport/pubsub.h"

#include <algorithm>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace hn::transport {
namespace asio = boost::asio;

PubSub::PubSub(asio::any_io_executor executor, std::size_t ring_capacity,
               std::size_t max_topics)
    : m_state(std::make_shared<State>()) {
  m_state->executor = std::move(executor);
  m_state->ring_capacity = ring_capacity;
  m_state->max_topics = max_topics;
}

bool PubSub::publish(std::string topic, Json payload) {
  if (!is_valid_topic(topic)) return false;
  asio::dispatch(m_state->executor, [state = m_state, topic = std::move(topic),
                                     payload = std::move(payload)]() mutable {
    auto it = state->rings.find(topic);
    if (it == state->rings.end()) {
      if (state->rings.size() >= state->max_topics) return;
      it = state->rings.emplace(topic, TopicRing(state->ring_capacity)).first;
    }
    it->second.push(std::move(payload));
    if (auto w = state->waiters.find(topic); w != state->waiters.end()) {
      for (auto* timer : w->second) timer->cancel();
      state->waiters.erase(w);
    }
  });
  return true;
}

void PubSub::stop() {
  asio::dispatch(m_state->executor, [state = m_state] {
    state->stopped = true;
    for (auto& [topic, timers] : state->waiters) {
      for (auto* timer : timers) timer->cancel();
    }
    state->waiters.clear();
  });
}

asio::awaitable<Json> PubSub::async_subscribe(std::string topic, std::int64_t last_seq,
                                              std::chrono::milliseconds timeout) {
  auto state = m_state;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    PubSubBatch batch;
    if (auto it = state->rings.find(topic); it != state->rings.end()) {
      batch = it->second.since(last_seq);
    }
    if (!batch.messages.empty()) {
      Json messages = Json::array();
      for (auto& m : batch.messages) messages.push_back({{"seq", m.seq}, {"payload", m.payload}});
      co_return Json{{"topic", topic},           {"messages", std::move(messages)},
                     {"last_seq", batch.messages.back().seq}, {"gap", batch.gap},
                     {"timeout", false}};
    }
    if (state->stopped || std::chrono::steady_clock::now() >= deadline) break;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_at(deadline);
    state->waiters[topic].push_back(&timer);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (auto w = state->waiters.find(topic); w != state->waiters.end()) {
      auto& v = w->second;
      v.erase(std::remove(v.begin(), v.end(), &timer), v.end());
      if (v.empty()) state->waiters.erase(w);
    }
  }
  co_return Json{{"topic", topic},      {"messages", Json::array()}, {"last_seq", std::max<std::int64_t>(last_seq, 0)},
                 {"gap", false},        {"timeout", true}};
}

}  // namespace hn::transport
