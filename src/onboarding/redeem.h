// redeem.h — joining a community with an invite (M13 §3.1 redeem_invite, §4.2, §5.4):
// verify the invite, fetch and verify the community manifest from a bootstrap endpoint,
// pull the community's log, and append community.member.joined (CONTRACT §7.2) with our
// signed node manifest, then push it to the bootstrap peer.
//
// The network is injected (BootstrapPeer) so this layer needs no transport: the node wires
// it to its HTTP client and event sync; unit tests use an in-process double.
//
// Steps and errors, in order:
//  1. signature (invite_invalid), expiry (invite_expired), invitee == us (invitee_mismatch);
//     the log must be the invite's community (wrong_community);
//  2. our log already admits us → already_member (no network; revoked → revoked);
//  3. per bootstrap endpoint in order: fetch the community manifest, parse + verify it
//     (identity::verify_community_manifest), community_id == the invite's, the inviter not
//     revoked in it. The first endpoint that passes is used. None reachable →
//     bootstrap_unreachable; reachable but no valid manifest → community_manifest_invalid;
//  4. sync from that endpoint (failure → sync_failed);
//  5. in the synced log: a genesis by the community's root key (else sync_failed); already
//     a member → already_member; the inviter must be a member — listed in the manifest or
//     admitted by the log, since a manifest may predate the inviter's own join (else
//     community_manifest_invalid); a pending invite for us must exist (else sync_failed: the
//     invite has not reached the community yet) and not be expired (invite_expired);
//  6. our node manifest (deps.build_node_manifest, or a minimal one from display_name) must
//     be ours, for this community and verify (bad_manifest otherwise);
//  7. the community manifest is saved to deps.state_dir when given (M13 §3.1 step 6);
//  8. community.member.joined {invite_event_id, node_manifest} is appended to our log —
//     invite_event_id is the pending invite the community knows for us (normally
//     invite.invite_id; a later re-invite supersedes it, as events::CommunityView does);
//  9. the joined event is pushed to the endpoint. A failed push is NOT an error: the join is
//     in our log and travels with the next sync (RedeemResult.pushed / push_error).
//
// Thread-safety: redeem_invite is reentrant; the deps must be safe for the caller's use.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/json.h"
#include "events/event_log.h"
#include "identity/keys.h"
#include "identity/manifest.h"
#include "onboarding/invite.h"

namespace hn::onboarding {

// The network as redeem needs it. Any error from a method means "that did not work";
// its code is kept in the detail of the onboarding error.
class BootstrapPeer {
 public:
  virtual ~BootstrapPeer() = default;
  // GET the community manifest (the signed JSON object, CONTRACT §6.2) from endpoint.
  virtual Result<Json> fetch_community_manifest(const identity::Endpoint& endpoint) = 0;
  // Pulls the community's event log from endpoint into our EventLog (X02 sync).
  virtual Status sync(const identity::Endpoint& endpoint) = 0;
  // Sends our events (here: the joined event) to endpoint.
  virtual Status push_events(const identity::Endpoint& endpoint,
                             const std::vector<events::Event>& events) = 0;
};

// Builds our current signed node manifest for the community we are joining.
using NodeManifestBuilder = std::function<Result<identity::NodeManifest>(const CommunityId&)>;

struct RedeemDeps {
  BootstrapPeer& peer;
  events::EventLog& log;  // our log, opened for the invite's community_id
  // Optional; without it a minimal manifest (display_name, no endpoints) is built.
  NodeManifestBuilder build_node_manifest = {};
  // Optional; where the community manifest is saved (identity::save_community_manifest).
  std::optional<std::filesystem::path> state_dir = std::nullopt;
};

struct RedeemResult {
  CommunityId community_id;    // → config.community.community_id
  std::string community_name;  // from the verified community manifest
  TrustLevel level = TrustLevel::member;  // the level the community admits us at
  NodeId inviter_node_id;
  EventId invite_event_id;     // the invited event our join references
  events::Event joined_event;
  identity::CommunityManifest community_manifest;  // verified
  identity::Endpoint bootstrap_endpoint;           // the endpoint used
  bool pushed = false;                             // the joined event reached it
  std::optional<Error> push_error;                 // why not, when !pushed
};

// decode_invite(text), then the Invite overload.
Result<RedeemResult> redeem_invite(std::string_view invite_text, const identity::KeyPair& me,
                                   std::string_view display_name, const RedeemDeps& deps,
                                   const Clock& clock = SystemClock::instance());
Result<RedeemResult> redeem_invite(const Invite& invite, const identity::KeyPair& me,
                                   std::string_view display_name, const RedeemDeps& deps,
                                   const Clock& clock = SystemClock::instance());

}  // namespace hn::onboarding
