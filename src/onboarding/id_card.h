// id_card.h — the "I'm a fresh device" card (M13 §4.4): a not-yet-member device shows its
// full node id so an inviter can address an invite to it.
//
//   hearthnet-id://v1/<base64url-nopad of canonical JSON {"display_name","node_id_full"}>
//
// Unsigned by design (M13 §4.4, §5.3): it holds only a public key; the inviter is the
// source of trust.
//
// Thread-safety: pure functions.
// Invariants: a decoded card's node_id is a full node id (parse_node_id succeeds).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/types.h"

namespace hn::onboarding {

inline constexpr std::string_view ID_CARD_SCHEME = "hearthnet-id://";
inline constexpr std::size_t ID_CARD_MAX_TEXT_BYTES = 2048;

struct NodeIdCard {
  NodeId node_id;            // wire field "node_id_full"
  std::string display_name;  // may be empty
  bool operator==(const NodeIdCard&) const = default;
};

// "hearthnet-id://v1/<base64url canonical JSON>" (`hearthnet id`).
std::string encode_node_id_card(const NodeIdCard& card);
// Strict: scheme, v1, base64url, JSON object with exactly node_id_full (a full node id) and
// display_name (string, ≤ 256 bytes). bad_node_id for a bad id, bad_request otherwise.
Result<NodeIdCard> decode_node_id_card(std::string_view text);
// What `invite create --node-id X` accepts: an id card, or a bare full node id
// ("ed25519:<43 base64url chars>", display_name empty). Surrounding whitespace is ignored.
Result<NodeIdCard> parse_invitee(std::string_view text);

}  // namespace hn::onboarding
