// redeem.cpp — joining a community with an invite (see redeem.h for the steps).
#include "onboarding/redeem.h"

#include "core/time.h"
#include "onboarding/issue.h"

namespace hn::onboarding {
namespace {

Json cause_of(const Error& e) {
  return Json{{"code", std::string(to_string(e.code))}, {"message", e.message}};
}

struct Bootstrap {
  identity::Endpoint endpoint;
  identity::CommunityManifest manifest;
};

// Step 3: the first endpoint that serves a valid manifest of the invite's community.
Result<Bootstrap> find_bootstrap(const Invite& invite, BootstrapPeer& peer) {
  Json attempts = Json::array();
  bool any_reached = false;
  std::string last_problem;
  for (const auto& endpoint : invite.bootstrap_endpoints) {
    const std::string where = format_endpoint_text(endpoint);
    auto fetched = peer.fetch_community_manifest(endpoint);
    if (!fetched) {
      attempts.push_back({{"endpoint", where}, {"error", cause_of(fetched.error())}});
      continue;
    }
    any_reached = true;
    auto problem = [&](std::string why) {
      last_problem = why;
      attempts.push_back({{"endpoint", where}, {"error", std::move(why)}});
    };
    auto manifest = identity::parse_community_manifest(*fetched);
    if (!manifest) {
      problem("unparseable manifest: " + manifest.error().message);
      continue;
    }
    auto signer = identity::verify_community_manifest(*manifest);
    if (!signer) {
      problem("manifest does not verify: " + signer.error().message);
      continue;
    }
    if (manifest->community_id != invite.community_id) {
      problem("manifest is of community " + manifest->community_id.str());
      continue;
    }
    if (manifest->is_revoked(invite.inviter_node_id)) {
      problem("the inviter is revoked in the community manifest");
      continue;
    }
    return Bootstrap{endpoint, std::move(*manifest)};
  }
  if (!any_reached) {
    return make_error(ErrorCode::bootstrap_unreachable,
                      "no bootstrap endpoint of the invite could be reached; retry later",
                      Json{{"attempts", std::move(attempts)}});
  }
  return make_error(ErrorCode::community_manifest_invalid,
                    "bootstrap peer served no valid community manifest: " + last_problem,
                    Json{{"attempts", std::move(attempts)}});
}

Status membership_is_new(const events::CommunityState& state, const NodeId& me) {
  if (state.revoked.count(me.str())) {
    return make_error(ErrorCode::revoked, "this device has been revoked from the community");
  }
  if (state.members.count(me.str())) {
    return make_error(ErrorCode::already_member, "this device is already a member of the community");
  }
  return {};
}

Result<identity::NodeManifest> our_node_manifest(const identity::KeyPair& me, std::string_view display_name,
                                                 const CommunityId& community, const RedeemDeps& deps,
                                                 const Clock& clock) {
  identity::NodeManifest manifest;
  if (deps.build_node_manifest) {
    HN_TRY_ASSIGN(manifest, deps.build_node_manifest(community));
  } else {
    identity::NodeManifestInput input;
    input.community_id = community;
    input.display_name = std::string(display_name);
    manifest = identity::build_node_manifest(me, input, clock);
  }
  if (manifest.node_id != me.node_id() || manifest.community_id != community) {
    return make_error(ErrorCode::bad_manifest, "our node manifest names another node or community");
  }
  auto verified = identity::verify_node_manifest(manifest, clock);
  if (!verified) {
    return make_error(ErrorCode::bad_manifest,
                      "our node manifest does not verify: " + verified.error().message);
  }
  return manifest;
}

}  // namespace

Result<RedeemResult> redeem_invite(std::string_view invite_text, const identity::KeyPair& me,
                                   std::string_view display_name, const RedeemDeps& deps,
                                   const Clock& clock) {
  HN_TRY_ASSIGN(auto invite, decode_invite(invite_text));
  return redeem_invite(invite, me, display_name, deps, clock);
}

Result<RedeemResult> redeem_invite(const Invite& invite, const identity::KeyPair& me,
                                   std::string_view display_name, const RedeemDeps& deps,
                                   const Clock& clock) {
  // 1. The invite itself (M13 §4.2).
  HN_TRY(verify_invite_signature(invite));
  HN_TRY(check_invite(invite, me.node_id(), clock));
  if (deps.log.community_id() != invite.community_id) {
    return make_error(ErrorCode::wrong_community, "the event log given is not the invite's community");
  }

  // 2. Already in? (M13 §5.4: a no-op with a message.)
  {
    HN_TRY_ASSIGN(auto local, community_state_of(deps.log));
    HN_TRY(membership_is_new(local, me.node_id()));
  }

  // 3. Manifest from the first endpoint that serves a valid one.
  HN_TRY_ASSIGN(auto boot, find_bootstrap(invite, deps.peer));

  // 4. Initial sync (X02).
  if (auto synced = deps.peer.sync(boot.endpoint); !synced) {
    return make_error(ErrorCode::sync_failed, "initial event sync failed: " + synced.error().message,
                      Json{{"endpoint", format_endpoint_text(boot.endpoint)},
                           {"cause", cause_of(synced.error())}});
  }

  // 5. What the community's log says.
  HN_TRY_ASSIGN(auto state, community_state_of(deps.log));
  if (!state.created || state.root_key.str() != invite.community_id.str()) {
    return make_error(ErrorCode::sync_failed,
                      "the synced log holds no genesis event by the community's root key");
  }
  HN_TRY(membership_is_new(state, me.node_id()));
  if (state.revoked.count(invite.inviter_node_id.str()) ||
      (!boot.manifest.is_member(invite.inviter_node_id) &&
       !state.members.count(invite.inviter_node_id.str()))) {
    return make_error(ErrorCode::community_manifest_invalid,
                      "the inviter is not a member of the community",
                      Json{{"inviter_node_id", invite.inviter_node_id.str()}});
  }
  auto pending = state.invites.find(me.node_id().str());
  if (pending == state.invites.end()) {
    return make_error(ErrorCode::sync_failed,
                      "the community does not know this invite yet (its invited event did not "
                      "arrive); retry later",
                      Json{{"invite_id", invite.invite_id.str()}});
  }
  const events::PendingInvite known = pending->second;
  if (!known.expires_at.empty()) {
    auto expires = parse_rfc3339_ms(known.expires_at);
    if (!expires || clock.now_ms() > *expires) {
      return make_error(ErrorCode::invite_expired,
                        "the community's invite for this device expired at " + known.expires_at,
                        Json{{"expires_at", known.expires_at}});
    }
  }

  // 6. Our manifest at join time (CONTRACT §7.2).
  HN_TRY_ASSIGN(auto node_manifest,
                our_node_manifest(me, display_name, invite.community_id, deps, clock));

  // 7. Persist the community manifest (M13 §3.1 redeem step 6) before the join is recorded.
  if (deps.state_dir) HN_TRY(identity::save_community_manifest(*deps.state_dir, boot.manifest));

  // 8. community.member.joined — the data CommunityView reads.
  Json data = {{"invite_event_id", known.invite_event_id.str()},
               {"node_manifest", node_manifest.to_json()}};
  HN_TRY_ASSIGN(auto joined, deps.log.append_local(events::EventType::community_member_joined,
                                                   std::move(data), me));

  RedeemResult result;
  result.community_id = invite.community_id;
  result.community_name = boot.manifest.name;
  result.level = known.initial_level;
  result.inviter_node_id = known.inviter;
  result.invite_event_id = known.invite_event_id;
  result.joined_event = joined;
  result.community_manifest = std::move(boot.manifest);
  result.bootstrap_endpoint = boot.endpoint;

  // 9. Tell the bootstrap peer; a failure is healed by the next sync.
  auto pushed = deps.peer.push_events(boot.endpoint, {joined});
  result.pushed = pushed.has_value();
  if (!pushed) result.push_error = pushed.error();
  return result;
}

}  // namespace hn::onboarding
