// id_card.cpp — the fresh-device id card (see id_card.h, M13 §4.4).
#include "onboarding/id_card.h"

#include "core/encoding.h"
#include "core/json.h"
#include "identity/keys.h"
#include "onboarding/invite.h"

namespace hn::onboarding {
namespace {

constexpr std::string_view VERSION_PREFIX = "v1/";

std::string_view trim(std::string_view text) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

Error bad_card(std::string message) {
  return make_error(ErrorCode::bad_request, "node id card: " + std::move(message));
}

}  // namespace

std::string encode_node_id_card(const NodeIdCard& card) {
  const Json body = {{"node_id_full", card.node_id.str()}, {"display_name", card.display_name}};
  return std::string(ID_CARD_SCHEME) + std::string(VERSION_PREFIX) +
         base64url_encode(as_bytes(canonical_json(body)));
}

Result<NodeIdCard> decode_node_id_card(std::string_view text) {
  text = trim(text);
  if (text.size() > ID_CARD_MAX_TEXT_BYTES) return bad_card("text is too long");
  if (text.substr(0, ID_CARD_SCHEME.size()) != ID_CARD_SCHEME) {
    return bad_card("expected hearthnet-id://v1/…");
  }
  text.remove_prefix(ID_CARD_SCHEME.size());
  if (text.substr(0, VERSION_PREFIX.size()) != VERSION_PREFIX) return bad_card("unsupported version");
  text.remove_prefix(VERSION_PREFIX.size());
  auto bytes = base64url_decode(text);
  if (!bytes || bytes->empty()) return bad_card("payload is not base64url");
  auto json = parse_json(as_chars(*bytes));
  if (!json) return bad_card("payload is not JSON");
  if (!json->is_object() || json->size() != 2) {
    return bad_card("payload must be {node_id_full, display_name}");
  }
  auto id = json->find("node_id_full");
  auto name = json->find("display_name");
  if (id == json->end() || !id->is_string() || name == json->end() || !name->is_string()) {
    return bad_card("payload must be {node_id_full, display_name} strings");
  }
  NodeIdCard card;
  card.node_id = NodeId(id->get<std::string>());
  card.display_name = name->get<std::string>();
  if (card.node_id.str().size() > 128 || !identity::parse_node_id(card.node_id.str())) {
    return make_error(ErrorCode::bad_node_id, "node id card: node_id_full is not a full node id");
  }
  if (card.display_name.size() > INVITE_MAX_NAME_BYTES) return bad_card("display_name is too long");
  return card;
}

Result<NodeIdCard> parse_invitee(std::string_view text) {
  text = trim(text);
  if (text.substr(0, ID_CARD_SCHEME.size()) == ID_CARD_SCHEME) return decode_node_id_card(text);
  if (text.size() > 128 || !identity::parse_node_id(text)) {
    return make_error(ErrorCode::bad_node_id,
                      "expected a full node id (ed25519:<43 chars>) or a hearthnet-id:// card");
  }
  return NodeIdCard{NodeId(std::string(text)), ""};
}

}  // namespace hn::onboarding
