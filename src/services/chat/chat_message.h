// chat_message.h — the data of the three chat events (CONTRACT §7.2 chat.message.sent,
// .delivered, .read) parsed from outside bytes into native types, and the limits a message
// must keep (doc/design/chat.md). Every parser here reads peer bytes (synced events, the
// chat.deliver / chat.forward inputs): malformed data is a typed bad_request, never a throw.
//
// Thread-safety: value types and pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "core/types.h"

namespace hn::services::chat {

// Limits the spec leaves open (doc/design/chat.md "Limits").
inline constexpr std::size_t CHAT_MAX_BODY_BYTES = 16 * 1024;
inline constexpr std::size_t CHAT_MAX_ATTACHMENTS = 16;
inline constexpr std::size_t CHAT_MAX_ATTACHMENT_NAME_BYTES = 255;
inline constexpr std::size_t CHAT_MAX_CLIENT_ID_BYTES = 128;

// One attachment: a blob by CID (M07) and the name the sender gave it (M10 §4.5).
struct Attachment {
  Cid cid;
  std::string name;
  Json to_json() const;
  bool operator==(const Attachment&) const = default;
};

// chat.message.sent data.
struct SentData {
  std::string client_id;
  NodeId recipient;  // full node id
  std::string body;
  std::vector<Attachment> attachments;
  Json to_json() const;
};

// chat.message.delivered / chat.message.read data: the message it answers and when.
struct ReceiptData {
  EventId target_event_id;
  std::string at;  // RFC 3339 (delivered_at / read_at)
};

// Parses `attachments` ([{cid, name}]); bad_request naming the entry.
Result<std::vector<Attachment>> parse_attachments(const Json& json);
// Parses chat.message.sent data: client_id (1..128 bytes), recipient (a full node id), body
// (≤ CHAT_MAX_BODY_BYTES), attachments (optional, ≤ CHAT_MAX_ATTACHMENTS). Unknown fields
// are ignored (a newer peer may add some). An empty body with no attachment is bad_request.
Result<SentData> parse_sent_data(const Json& data);
// Parses receipt data; `at_field` is "delivered_at" or "read_at".
Result<ReceiptData> parse_receipt_data(const Json& data, std::string_view at_field);
// Whether text is a full node id ("ed25519:" + a 32-byte key in base64url).
bool is_node_id(std::string_view text);

}  // namespace hn::services::chat
