// issue.h — issuing an invite from a member's node (M13 §4.3, CONTRACT §4.17): check that
// the inviter may invite, append community.member.invited (CONTRACT §7.2) to its event log so
// every node learns it through sync, and return the signed invite that references it.
//
// Who may invite (CONTRACT §4.17 "member with the can_invite policy bit"; the community
// policy of CONTRACT §6.2 as materialised by events::CommunityView from the log):
// - the inviter is a member and not revoked;
// - a `member`-level inviter needs policy.default_member_can_invite; trusted and anchor
//   members may always invite;
// - initial_level is member or trusted (CONTRACT §4.17; make_invite refuses anchor) and at
//   most the inviter's own level (member < trusted < anchor);
// - policy.min_signatures_to_invite must be 1 (co-signed invites are not supported yet).
// Otherwise unauthorized. An invitee that is already a member → already_member; a revoked
// one → revoked.
// Idempotency (CONTRACT §4.17, by invitee_node_id): when the log already holds an unexpired
// invite for the invitee from this inviter at the same level and display name, no new event
// is appended; the invite is re-issued for that event (same invite_id and expires_at).
//
// Thread-safety: as safe as the EventLog passed in (EventLog is).
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "events/community_view.h"
#include "events/event_log.h"
#include "identity/keys.h"
#include "identity/manifest.h"
#include "onboarding/invite.h"

namespace hn::onboarding {

struct IssuedInvite {
  Invite invite;
  std::string text;      // encode_invite(invite)
  events::Event event;   // the community.member.invited event (new or reused)
  bool reused = false;   // true when an existing invite event was re-issued
};

// M13 §3.1 make_invite + "emit a community.member.invited event". `log` is the inviter's
// community log (its community must be community.community_id → wrong_community). Errors:
// those of make_invite, unauthorized / already_member / revoked as above, storage errors.
// Nothing is appended when any check fails.
Result<IssuedInvite> issue_invite(const identity::KeyPair& inviter,
                                  const identity::CommunityManifest& community,
                                  events::EventLog& log, const InviteRequest& request,
                                  const Clock& clock = SystemClock::instance());

// The membership state of a log: every community.* event replayed into a fresh
// CommunityView (CONTRACT §7.4 order).
Result<events::CommunityState> community_state_of(events::EventLog& log);

}  // namespace hn::onboarding
