// issue.cpp — issuing an invite: authority checks, the invited event, the signed blob
// (see issue.h).
#include "onboarding/issue.h"

#include "core/time.h"

namespace hn::onboarding {
namespace {

int rank(TrustLevel level) {
  switch (level) {
    case TrustLevel::member: return 1;
    case TrustLevel::trusted: return 2;
    case TrustLevel::anchor: return 3;
    default: return 0;
  }
}

bool policy_bool(const Json& policy, const char* key, bool fallback) {
  auto it = policy.find(key);
  return it != policy.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::int64_t policy_int(const Json& policy, const char* key, std::int64_t fallback) {
  auto it = policy.find(key);
  return it != policy.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

Error unauthorized(std::string message) {
  return make_error(ErrorCode::unauthorized, std::move(message));
}

// CONTRACT §4.17 trust "member with the can_invite policy bit" (see issue.h for the rules).
Status check_may_invite(const events::CommunityState& state, const NodeId& inviter,
                        const InviteRequest& request) {
  if (!state.created) return unauthorized("the log holds no community.created event for this community");
  if (state.revoked.count(inviter.str())) return unauthorized("the inviter has been revoked");
  auto member = state.members.find(inviter.str());
  if (member == state.members.end()) return unauthorized("the inviter is not a member of the community");
  const TrustLevel own = member->second.level;
  if (own == TrustLevel::member && !policy_bool(state.policy, "default_member_can_invite", true)) {
    return unauthorized("the community policy lets only trusted members and anchors invite");
  }
  if (rank(request.initial_level) > rank(own)) {
    return unauthorized("an inviter cannot grant a level above its own (" +
                        std::string(to_string(own)) + ")");
  }
  if (policy_int(state.policy, "min_signatures_to_invite", 1) > 1) {
    return unauthorized("the community policy requires co-signed invites (not supported)");
  }
  if (state.revoked.count(request.invitee_node_id.str())) {
    return make_error(ErrorCode::revoked, "the invitee has been revoked from this community");
  }
  if (state.members.count(request.invitee_node_id.str())) {
    return make_error(ErrorCode::already_member, "the invitee is already a member");
  }
  return {};
}

}  // namespace

Result<events::CommunityState> community_state_of(events::EventLog& log) {
  events::CommunityView view;
  events::ReplayOptions options;
  options.types = events::CommunityView::event_types();
  HN_TRY(log.replay(options, [&view](const events::Event& e) {
    view.apply(e);
    return true;
  }));
  return view.state();
}

Result<IssuedInvite> issue_invite(const identity::KeyPair& inviter,
                                  const identity::CommunityManifest& community,
                                  events::EventLog& log, const InviteRequest& request,
                                  const Clock& clock) {
  if (log.community_id() != community.community_id) {
    return make_error(ErrorCode::wrong_community, "the event log belongs to another community");
  }
  // Validates the request and fixes expires_at before anything is written.
  HN_TRY_ASSIGN(Invite invite, make_invite(inviter, community, request, clock));
  HN_TRY_ASSIGN(auto state, community_state_of(log));
  HN_TRY(check_may_invite(state, inviter.node_id(), request));

  IssuedInvite out;
  auto pending = state.invites.find(request.invitee_node_id.str());
  if (pending != state.invites.end()) {
    const auto& p = pending->second;
    auto expires = parse_rfc3339_ms(p.expires_at);
    if (p.inviter == inviter.node_id() && p.initial_level == request.initial_level &&
        p.display_name == request.display_name && expires && *expires >= clock.now_ms()) {
      HN_TRY_ASSIGN(auto existing, log.get(p.invite_event_id));
      if (existing) {
        out.event = std::move(*existing);
        out.reused = true;
        invite.expires_at = p.expires_at;
      }
    }
  }
  if (!out.reused) {
    // CONTRACT §7.2 community.member.invited — the data CommunityView reads.
    Json data = {{"invitee_node_id", request.invitee_node_id.str()},
                 {"display_name", request.display_name},
                 {"initial_level", std::string(to_string(request.initial_level))},
                 {"expires_at", invite.expires_at}};
    HN_TRY_ASSIGN(out.event, log.append_local(events::EventType::community_member_invited,
                                              std::move(data), inviter));
  }
  invite.invite_id = out.event.event_id;
  HN_TRY(sign_invite(invite, inviter));
  out.text = encode_invite(invite);
  out.invite = std::move(invite);
  return out;
}

}  // namespace hn::onboarding
