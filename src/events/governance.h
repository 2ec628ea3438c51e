// governance.h — the community's rule for changing a member's standing: which
// community.member.promoted / demoted / revoked events take effect (CONTRACT §4.18, §7.2;
// M01 CommunityPolicy; doc/design/governance.md). CommunityView applies it on replay, so
// every node reaches the same verdict from the same log; producers (the node's admin routes)
// ask it first, so a node never appends an event that would change nothing.
//
// An action takes effect only when, at its point in the log (CONTRACT §7.4 order):
// - the community exists, and the data is well formed: target_node_id a full node id,
//   new_level member | trusted | anchor for level changes, co_signers a valid list
//   (identity/cosign.h), no reserved "action" / "community_id" keys;
// - the target is not the community root, and not the author for promote and revoke
//   (no self-promotion, no self-revocation);
// - promote raises and demote lowers the level of a current member; revoke names a node
//   not revoked yet;
// - the request (data.client_id) was not applied before;
// - it carries enough signatures: the author and every co-signer whose signature verifies
//   over identity::cosign_payload(event type, community, data), each a distinct trusted-or-
//   anchor member at that point and never the target, number at least
//   min(policy threshold, trusted-or-anchor members other than the target) — and at least 1.
//   The threshold is policy.min_signatures_to_revoke for revoke and
//   policy.min_signatures_to_demote for promote and demote (default 3). Co-signatures count
//   only when the data carries a client_id.
// Anything else leaves the state as it was; the event stays in the log.
//
// Thread-safety: pure functions over the state passed in.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "core/types.h"
#include "events/community_view.h"
#include "events/types.h"

namespace hn::events {

// The policy's default threshold when it names none (CONTRACT §6.2 example, M13 §4.1).
inline constexpr std::int64_t DEFAULT_MIN_SIGNATURES = 3;
// Longest client_id accepted (a ULID is 26 characters).
inline constexpr std::size_t MAX_CLIENT_ID_BYTES = 64;

// Whether type is one of the three co-signed membership actions.
bool is_governance_event(EventType type);

struct GovernanceVerdict {
  bool takes_effect = false;
  std::string reason;           // why not; empty when it takes effect
  std::int64_t required = 0;    // signatures needed at this point (0 when refused earlier)
  std::vector<NodeId> signers;  // the signatures counted, the author first
  // {"takes_effect", "reason", "required", "signatures", "signers"} for error details.
  Json to_json() const;
};

// The policy threshold for type (see the file comment).
std::int64_t policy_threshold(const Json& policy, EventType type);

// The verdict on a governance event by author with data in community, on state s.
GovernanceVerdict judge_governance(const CommunityState& s, EventType type, const NodeId& author,
                                   const CommunityId& community, const Json& data);

// One co-signed action as its producer and its co-signers see it (the request file of
// `hearthnet member cosign`, doc/design/governance.md): the event type, the community, and
// the event data without co_signers.
struct GovernanceRequest {
  EventType type = EventType::community_member_revoked;
  CommunityId community;
  NodeId target;
  std::string new_level;  // promote / demote
  std::string reason;     // revoke (may be empty)
  std::string client_id;  // a ULID naming the request
  // The event data: {target_node_id, new_level | reason, client_id} (no co_signers).
  Json data() const;
  // identity::cosign_payload of data(): what each co-signer signs.
  Json payload() const;
};

// Parses a payload (GovernanceRequest::payload() output, e.g. read from a file) strictly:
// exactly the keys action, community_id, target_node_id, client_id and new_level (promote,
// demote; member | trusted | anchor) or reason (revoke). bad_request otherwise.
Result<GovernanceRequest> parse_governance_request(const Json& payload);

// CommunityView's rule: applies e to s when judge_governance lets it take effect; false (and
// s unchanged) otherwise.
bool apply_governance(CommunityState& s, const Event& e);

}  // namespace hn::events
