// descriptors.h — the chat service's capability descriptors (CONTRACT §4.15, §4.16; M10
// §3.4) and the chat.* extensions this node adds (doc/design/chat.md "Capabilities"):
//   chat.send@1.0     member (the handler serves only its own node: it signs as the node)
//   chat.history@1.0  self
//   chat.peers@1.0    self — conversations with unread counts (CLI `chat peers`)
//   chat.read@1.0     self — mark a peer's messages read (CLI `chat read`)
//   chat.deliver@1.0  member — a signed chat event handed to the node it concerns: a
//                     message to its recipient (direct delivery, answers with the
//                     delivered receipt) or a receipt to the message's sender
//   chat.forward@1.0  member — an online anchor holds a message for an offline recipient
// Schemas check shapes only; lengths and ids are checked by the handlers (bad_request with
// a message that names the field).
//
// Thread-safety: pure functions.
#pragma once

#include "bus/capability.h"

namespace hn::services::chat {

inline constexpr const char* CHAT_SEND = "chat.send";
inline constexpr const char* CHAT_HISTORY = "chat.history";
inline constexpr const char* CHAT_PEERS = "chat.peers";
inline constexpr const char* CHAT_READ = "chat.read";
inline constexpr const char* CHAT_DELIVER = "chat.deliver";
inline constexpr const char* CHAT_FORWARD = "chat.forward";

bus::CapabilityDescriptor chat_send_descriptor();
bus::CapabilityDescriptor chat_history_descriptor();
bus::CapabilityDescriptor chat_peers_descriptor();
bus::CapabilityDescriptor chat_read_descriptor();
bus::CapabilityDescriptor chat_deliver_descriptor();
bus::CapabilityDescriptor chat_forward_descriptor();

}  // namespace hn::services::chat
