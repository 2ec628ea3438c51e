// topic_ring.cpp — bounded per-topic rings (CONTRACT §8).
#include "transport/topic_ring.h"

namespace hn::transport {

std::int64_t TopicRing::push(Json payload) {
  std::int64_t seq = m_next_seq++;
  m_messages.push_back({seq, std::move(payload)});
  while (m_messages.size() > m_capacity) m_messages.pop_front();
  return seq;
}

PubSubBatch TopicRing::since(std::int64_t last_seq, std::size_t max) const {
  PubSubBatch batch;
  if (last_seq > this->last_seq() || last_seq < 0) last_seq = 0;
  if (m_messages.empty()) return batch;
  std::int64_t first = m_messages.front().seq;
  if (last_seq + 1 < first) batch.gap = true;
  std::size_t start = last_seq < first ? 0 : static_cast<std::size_t>(last_seq + 1 - first);
  for (std::size_t i = start; i < m_messages.size() && batch.messages.size() < max; ++i) {
    batch.messages.push_back(m_messages[i]);
  }
  return batch;
}

bool is_valid_topic(std::string_view topic) {
  if (topic.empty() || topic.size() > 128) return false;
  for (char c : topic) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == ':';
    if (!ok) return false;
  }
  return true;
}

}  // namespace hn::transport
