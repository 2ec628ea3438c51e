// topic_policy.cpp — the subscribe rules of CONTRACT §8.
#include "transport/topic_policy.h"

#include <string>

#include "identity/keys.h"

namespace hn::transport {

bool is_local_only_topic(std::string_view topic) {
  return topic == TOPIC_EMERGENCY_MODE_CHANGED || topic == "capability.registered" ||
         topic == "capability.deregistered";
}

bool is_chat_recipient(const NodeId& caller, std::string_view topic) {
  if (!topic.starts_with(CHAT_TOPIC_PREFIX)) return false;
  const std::string_view recipient = topic.substr(CHAT_TOPIC_PREFIX.size());
  if (recipient.empty()) return false;
  if (recipient == caller.str()) return true;
  auto key = identity::parse_node_id(caller.str());
  if (!key) return false;
  const std::string short_id = identity::short_node_id(*key);  // "ed25519:XXXX-…"
  if (recipient == short_id) return true;
  const auto colon = short_id.find(':');
  return recipient == std::string_view(short_id).substr(colon + 1);
}

Status authorize_subscription(const NodeId& caller, TrustLevel trust, std::string_view topic) {
  if (trust == TrustLevel::self) return {};
  if (is_local_only_topic(topic)) {
    return make_error(ErrorCode::unauthorized,
                      "topic " + std::string(topic) + " is local to the node (CONTRACT §8)");
  }
  if (trust == TrustLevel::unknown) {
    return make_error(ErrorCode::unauthorized, "only community members may subscribe");
  }
  if (topic.starts_with(CHAT_TOPIC_PREFIX) && !is_chat_recipient(caller, topic)) {
    return make_error(ErrorCode::unauthorized,
                      "a chat topic is readable only by its recipient (CONTRACT §8)");
  }
  return {};
}

}  // namespace hn::transport
