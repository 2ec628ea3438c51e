// chat_message.cpp — parsing chat event data (CONTRACT §7.2).
#include "services/chat/chat_message.h"

#include "core/hash.h"
#include "core/time.h"
#include "core/ulid.h"
#include "identity/keys.h"

namespace hn::services::chat {
namespace {

Error bad(std::string message) { return make_error(ErrorCode::bad_request, std::move(message)); }

}  // namespace

bool is_node_id(std::string_view text) { return identity::parse_node_id(text).has_value(); }

Json Attachment::to_json() const { return Json{{"cid", cid.str()}, {"name", name}}; }

Json SentData::to_json() const {
  Json list = Json::array();
  for (const auto& a : attachments) list.push_back(a.to_json());
  return Json{{"client_id", client_id},
              {"recipient", recipient.str()},
              {"body", body},
              {"attachments", std::move(list)}};
}

Result<std::vector<Attachment>> parse_attachments(const Json& json) {
  if (!json.is_array()) return bad("attachments must be an array of {cid, name}");
  if (json.size() > CHAT_MAX_ATTACHMENTS) {
    return bad("at most " + std::to_string(CHAT_MAX_ATTACHMENTS) + " attachments per message");
  }
  std::vector<Attachment> out;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const Json& a = json[i];
    const std::string where = "attachments[" + std::to_string(i) + "]";
    if (!a.is_object()) return bad(where + " must be an object {cid, name}");
    auto cid = a.find("cid");
    if (cid == a.end() || !cid->is_string() || !is_valid_cid(cid->get_ref<const std::string&>())) {
      return bad(where + ".cid must be a content id \"blake3:<64 hex>\"");
    }
    std::string name;
    if (auto n = a.find("name"); n != a.end()) {
      if (!n->is_string()) return bad(where + ".name must be a string");
      name = n->get<std::string>();
      if (name.size() > CHAT_MAX_ATTACHMENT_NAME_BYTES) {
        return bad(where + ".name is longer than " +
                   std::to_string(CHAT_MAX_ATTACHMENT_NAME_BYTES) + " bytes");
      }
    }
    out.push_back(Attachment{Cid(cid->get<std::string>()), std::move(name)});
  }
  return out;
}

Result<SentData> parse_sent_data(const Json& data) {
  if (!data.is_object()) return bad("chat message data must be an object");
  SentData s;
  auto client = data.find("client_id");
  if (client == data.end() || !client->is_string() || client->get_ref<const std::string&>().empty() ||
      client->get_ref<const std::string&>().size() > CHAT_MAX_CLIENT_ID_BYTES) {
    return bad("client_id must be a string of 1.." + std::to_string(CHAT_MAX_CLIENT_ID_BYTES) +
               " bytes");
  }
  s.client_id = client->get<std::string>();
  auto recipient = data.find("recipient");
  if (recipient == data.end() || !recipient->is_string() ||
      !is_node_id(recipient->get_ref<const std::string&>())) {
    return bad("recipient must be a full node id \"ed25519:<base64url>\"");
  }
  s.recipient = NodeId(recipient->get<std::string>());
  auto body = data.find("body");
  if (body != data.end() && !body->is_null()) {
    if (!body->is_string()) return bad("body must be a string");
    s.body = body->get<std::string>();
  }
  if (s.body.size() > CHAT_MAX_BODY_BYTES) {
    return bad("body is longer than " + std::to_string(CHAT_MAX_BODY_BYTES) + " bytes");
  }
  if (auto a = data.find("attachments"); a != data.end() && !a->is_null()) {
    HN_TRY_ASSIGN(s.attachments, parse_attachments(*a));
  }
  if (s.body.empty() && s.attachments.empty()) {
    return bad("a message needs a body or an attachment (M10 §5)");
  }
  return s;
}

Result<ReceiptData> parse_receipt_data(const Json& data, std::string_view at_field) {
  if (!data.is_object()) return bad("receipt data must be an object");
  auto target = data.find("target_event_id");
  if (target == data.end() || !target->is_string() ||
      !is_valid_ulid(target->get_ref<const std::string&>())) {
    return bad("target_event_id must be an event id (ULID)");
  }
  ReceiptData r{EventId(target->get<std::string>()), {}};
  auto at = data.find(std::string(at_field));
  if (at != data.end()) {
    if (!at->is_string() || !parse_rfc3339_ms(at->get_ref<const std::string&>())) {
      return bad(std::string(at_field) + " must be an RFC 3339 time");
    }
    r.at = at->get<std::string>();
  }
  return r;
}

}  // namespace hn::services::chat
