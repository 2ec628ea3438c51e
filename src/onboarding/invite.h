// invite.h — the invite blob that travels from inviter to invitee (M13 §3.1 InviteBlob,
// DESIGN.md "Invites"): its fields, signing by the inviter, the text form
// "hearthnet://v1/<base64url-nopad of canonical JSON>" and its strict decoder, plus the
// host:port form of bootstrap endpoints the CLI takes.
//
// Wire object (every field required, no others; field names as M13 §3.1, plus invite_id and
// display_name from CONTRACT §4.17 / §7.2):
//   {"schema_version":1, "invite_id":"<ULID>", "community_id":"ed25519:…",
//    "community_name":"…", "inviter_node_id":"ed25519:…", "invitee_node_id":"ed25519:…",
//    "display_name":"<invitee's, may be empty>", "initial_level":"member|trusted",
//    "bootstrap_endpoints":[{"transport":"https","host":"…","port":8443}, …],
//    "expires_at":"2026-05-27T00:00:00Z", "signature":"ed25519:…"}
// The signature is the inviter's over the canonical JSON of everything but "signature"
// (CONTRACT §1.3, §10). invite_id is the event_id of the community.member.invited event that
// issue_invite appended (CONTRACT §7.2), which the joined event then references.
//
// Thread-safety: value types and pure functions.
// Invariants: a decoded Invite has a valid signature by inviter_node_id, full node ids, a
// ULID invite_id, a parseable expires_at, 1..INVITE_MAX_ENDPOINTS endpoints; and
// decode_invite(encode_invite(i)) == i for every signed Invite.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/json.h"
#include "core/types.h"
#include "identity/keys.h"
#include "identity/manifest.h"

namespace hn::onboarding {

inline constexpr int INVITE_SCHEMA_VERSION = 1;          // M13 §3.1 schema_version
inline constexpr std::string_view INVITE_SCHEME = "hearthnet://";
inline constexpr std::string_view INVITE_VERSION_PREFIX = "v1/";
inline constexpr std::int64_t DEFAULT_INVITE_TTL_SECONDS = 86400;  // M13 §4.3 "Expires in 24h"
inline constexpr std::int64_t MAX_INVITE_TTL_SECONDS = 30LL * 86400;
inline constexpr std::size_t INVITE_MAX_ENDPOINTS = 8;
inline constexpr std::size_t INVITE_MAX_NAME_BYTES = 256;   // community_name, display_name
inline constexpr std::size_t INVITE_MAX_TEXT_BYTES = 8192;  // the whole hearthnet:// text

struct Invite {
  int schema_version = INVITE_SCHEMA_VERSION;
  EventId invite_id;  // ULID: the community.member.invited event's id
  CommunityId community_id;
  std::string community_name;
  NodeId inviter_node_id;
  NodeId invitee_node_id;
  std::string display_name;  // the invitee's name as the inviter knows it; may be empty
  TrustLevel initial_level = TrustLevel::member;  // member | trusted (CONTRACT §4.17)
  std::vector<identity::Endpoint> bootstrap_endpoints;  // how to reach the inviter
  WallClock expires_at;
  Signature signature;  // inviter's; empty until signed

  // The wire object (signature included when set).
  Json to_json() const;
  // expires_at < now (an unparseable expires_at counts as expired).
  bool is_expired(const Clock& clock) const;
  bool operator==(const Invite&) const = default;
};

// What the inviter states; make_invite / issue_invite add the rest.
struct InviteRequest {
  NodeId invitee_node_id;  // full form
  std::string display_name;
  TrustLevel initial_level = TrustLevel::member;
  std::int64_t ttl_seconds = DEFAULT_INVITE_TTL_SECONDS;  // 1..MAX_INVITE_TTL_SECONDS
  std::vector<identity::Endpoint> bootstrap_endpoints;    // 1..INVITE_MAX_ENDPOINTS
};

// A signed invite (M13 §3.1 make_invite, without the event: see issue.h issue_invite).
// expires_at = now + ttl; invite_id = the given id, or a fresh ULID when empty.
// bad_request (ttl out of range, no or too many endpoints, bad level, name too long,
// invitee == inviter), bad_node_id (invitee not a full node id).
Result<Invite> make_invite(const identity::KeyPair& inviter,
                           const identity::CommunityManifest& community,
                           const InviteRequest& request,
                           const Clock& clock = SystemClock::instance(),
                           const EventId& invite_id = EventId());

// Signs (or re-signs) invite in place; sign_failed when keys are not inviter_node_id's.
Status sign_invite(Invite& invite, const identity::KeyPair& inviter);
// Verifies the signature by inviter_node_id; invite_invalid (detail.cause
// "invalid_signature") otherwise.
Status verify_invite_signature(const Invite& invite);

// "hearthnet://v1/<base64url-nopad of canonical JSON>" (M13 §3.1 encode_invite).
std::string encode_invite(const Invite& invite);
// Strict decoder for outside text (M13 §3.1 decode_invite): surrounding ASCII whitespace is
// ignored; scheme, version, base64url, JSON, every field and the signature are checked.
// Every failure is invite_invalid with a message and detail.cause naming the step
// ("scheme", "version", "base64url", "json", "field", "invalid_signature"). Expiry and the
// invitee are NOT checked here (check_invite does).
Result<Invite> decode_invite(std::string_view text);
// Parses the wire object (strict, no signature check); invite_invalid naming the field.
Result<Invite> parse_invite_json(const Json& json);

// M13 §4.2 checks for the redeeming node, in the spec's order: invite_expired when
// expires_at < now, invitee_mismatch when invitee_node_id != my_node_id.
Status check_invite(const Invite& invite, const NodeId& my_node_id, const Clock& clock);

// "host:port" or "[v6]:port" → Endpoint{"https", host, port}; bad_request otherwise.
Result<identity::Endpoint> parse_endpoint_text(std::string_view text);
// The inverse ("[v6]:port" for hosts containing ':').
std::string format_endpoint_text(const identity::Endpoint& endpoint);

}  // namespace hn::onboarding
