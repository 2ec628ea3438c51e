// topic_policy.h — who may subscribe to which pub-sub topic (CONTRACT §8). The server
// applies it to GET /pubsub/v1/subscribe after the request's checks (ServerHooks can
// replace it):
//   chat.message.<recipient>   the recipient only — <recipient> is its short id
//                              ("ed25519:XXXX-…" or without the prefix) or its full id
//   emergency.mode.changed,    local only: "never on the wire" — the node itself (its
//   capability.registered,     local UI and admin client, trust `self`)
//   capability.deregistered
//   any other valid topic      any community member (trust member and above)
// The node itself (`self`) may read every topic. A refusal is `unauthorized` (CONTRACT §9:
// the caller lacks the required trust).
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "core/error.h"
#include "core/types.h"

namespace hn::transport {

// CONTRACT §8 topic names the node publishes itself.
inline constexpr std::string_view CHAT_TOPIC_PREFIX = "chat.message.";
inline constexpr std::string_view TOPIC_NODE_MANIFEST_UPDATED = "node.manifest.updated";
inline constexpr std::string_view TOPIC_EMERGENCY_MODE_CHANGED = "emergency.mode.changed";

// Whether the topic is one the contract keeps on the node (local UI only).
bool is_local_only_topic(std::string_view topic);
// Whether `caller` is the node `chat.message.<recipient>` names (false for other topics).
bool is_chat_recipient(const NodeId& caller, std::string_view topic);
// CONTRACT §8: may `caller`, with the trust the request's checks gave it, read `topic`?
Status authorize_subscription(const NodeId& caller, TrustLevel trust, std::string_view topic);

}  // namespace hn::transport
