// topic_ring.h — the bounded per-topic message ring behind long-poll pub-sub (CONTRACT §8,
// X01 §8). Each published message gets the next seq (1, 2, …) of its topic; the ring keeps
// the last `capacity` messages. A subscriber that fell further behind than the ring
// reaches learns it through `gap` and resumes from the oldest retained message.
//
// Thread-safety: a value; PubSub owns the rings on its executor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace hn::transport {

inline constexpr std::size_t PUBSUB_RING_CAPACITY = 256;
inline constexpr std::size_t PUBSUB_MAX_BATCH = 64;

struct PubSubMessage {
  std::int64_t seq = 0;
  Json payload;
};

struct PubSubBatch {
  std::vector<PubSubMessage> messages;
  bool gap = false;  // messages between last_seq and the first returned one were dropped
};

class TopicRing {
 public:
  explicit TopicRing(std::size_t capacity = PUBSUB_RING_CAPACITY) : m_capacity(capacity) {}

  // Appends and returns the message's seq.
  std::int64_t push(Json payload);
  // Messages with seq > last_seq, oldest first, at most max. A last_seq ahead of the ring
  // (a subscriber from before a restart) is treated as 0.
  PubSubBatch since(std::int64_t last_seq, std::size_t max = PUBSUB_MAX_BATCH) const;
  std::int64_t last_seq() const { return m_next_seq - 1; }
  std::size_t size() const { return m_messages.size(); }

 private:
  std::size_t m_capacity;
  std::int64_t m_next_seq = 1;
  std::deque<PubSubMessage> m_messages;
};

// Topic names: 1..128 chars of [A-Za-z0-9._:-] (CONTRACT §8 names, incl. chat.message.<id>).
bool is_valid_topic(std::string_view topic);

}  // namespace hn::transport
