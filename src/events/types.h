// types.h — the community event envelope (CONTRACT §7.1, X02 §3.1), the closed set of
// canonical event types (CONTRACT §7.2), strict parsing of envelopes from outside bytes,
// and signing / verifying them (CONTRACT §1.3, §10).
//
// Thread-safety: value types and pure functions.
// Invariants: parse_event(to_json(e)) == e for every well-formed e; the signature covers
// the canonical JSON (RFC 8785) of every envelope field except `signature`.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "core/constants.h"
#include "core/error.h"
#include "core/json.h"
#include "core/types.h"
#include "identity/keys.h"

namespace hn::events {

// The 19 canonical event types — CONTRACT §7.2, X02 §3.1 (order as in the spec).
enum class EventType {
  community_created,
  community_member_invited,
  community_member_joined,
  community_member_revoked,
  community_member_promoted,
  community_member_demoted,
  community_policy_updated,
  node_manifest_updated,
  market_post_created,
  market_post_updated,
  market_post_expired,
  chat_message_sent,
  chat_message_delivered,
  chat_message_read,
  file_cid_advertised,
  file_cid_unpinned,
  rag_document_ingested,
  federation_peer_added,    // reserved (phase 2)
  federation_peer_removed,  // reserved (phase 2)
};

inline constexpr std::size_t EVENT_TYPE_COUNT = 19;

// Every EventType, in spec order.
const std::array<EventType, EVENT_TYPE_COUNT>& all_event_types();
// The wire string ("community.member.joined").
std::string_view to_string(EventType type);
// Parses a wire string; nullopt for anything outside the closed set.
std::optional<EventType> parse_event_type(std::string_view text);

// The event envelope — CONTRACT §7.1, field names as on the wire.
struct Event {
  int schema_version = EVENT_SCHEMA_VERSION;  // always 1 in this release (core/constants.h)
  EventId event_id;                                   // ULID
  Lamport lamport = 0;
  WallClock wall_clock;                               // RFC 3339 UTC
  CommunityId community_id;
  NodeId author;                                      // full node id of the signer
  EventType event_type = EventType::community_created;
  Json data = Json::object();                         // type-specific object
  Signature signature;                                // "ed25519:<base64url>"

  bool operator==(const Event& other) const;
};

// The replay order key — CONTRACT §7.4: lamport ascending, then event_id ascending.
inline std::tuple<Lamport, const std::string&> order_key(const Event& e) {
  return {e.lamport, e.event_id.str()};
}
inline bool replay_order_less(const Event& a, const Event& b) { return order_key(a) < order_key(b); }

// Largest Lamport value accepted (CONTRACT §1.1: integers fit in 53 bits).
inline constexpr Lamport MAX_LAMPORT = (Lamport{1} << 53) - 1;

// The full envelope as JSON (signature included when set).
Json to_json(const Event& event);
// The same, taking the event's strings and data instead of copying them.
Json to_json(Event&& event);
// Parses an envelope from outside bytes, type-checking every field. Errors:
// bad_request (not an object, a missing / mistyped / extra field, bad ULID, bad node id,
// bad timestamp, lamport out of range), schema_unknown (schema_version ≠ 1 or an
// event_type outside the closed set). The signature is NOT verified here.
Result<Event> parse_event(const Json& json);
// The same, moving the envelope's data out of json instead of copying it.
Result<Event> parse_event(Json&& json);
// Checks the fields parse_event checks (for an Event built in code): bad_request for a
// bad ULID, wall_clock, author, community id, non-object data or Lamport out of range;
// schema_unknown for a schema_version ≠ 1 or a type outside the closed set.
Status validate_event(const Event& event);
// The byte string that is signed: canonical JSON of the envelope minus `signature`.
// bad_request when data holds a non-finite number.
Result<std::string> signing_bytes(const Event& event);
// The same, given canonical_json(event.data) (the text the event log stores as well).
std::string signing_bytes(const Event& event, std::string_view canonical_data);
// Fills event.signature using keys; sign_failed when event.author is not keys' node id.
Status sign_event(Event& event, const identity::KeyPair& keys);
// Verifies event.signature against the key in event.author; invalid_signature otherwise.
Status verify_event_signature(const Event& event);
// The same, given canonical_json(event.data).
Status verify_event_signature(const Event& event, std::string_view canonical_data);

}  // namespace hn::events
