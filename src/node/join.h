// join.h — `hearthnet invite redeem` (M13 §4.2): joins this home's node to the community of
// an invite without a running node. It creates the identity when absent, points the config
// at the invite's community, opens that community's log, and runs onboarding::redeem_invite
// with a BootstrapPeer over the transport client (GET /community/manifest, X02 event sync,
// POST /sync/v1/events); on success the config is saved with community.community_id, so the
// next `hearthnet run` starts as a member. Also `hearthnet id`'s card.
//
// Thread-safety: call from one thread; a private io_context runs on a helper thread while
// the join runs. The home must not be in use by a running node (its log is opened).
#pragma once

#include <string>
#include <string_view>

#include "config/env.h"
#include "core/error.h"
#include "core/types.h"
#include "node/home.h"

namespace hn::node {

struct JoinReport {
  CommunityId community_id;
  std::string community_name;
  TrustLevel level = TrustLevel::member;
  NodeId node_id;
  NodeId inviter_node_id;
  std::string bootstrap;  // "host:port" used
  bool pushed = false;    // the joined event reached the bootstrap node now
  std::string push_error;
};

// Redeems invite_text for home (config and paths updated in place and saved). Errors: the
// onboarding codes (invite_invalid, invite_expired, invitee_mismatch, bootstrap_unreachable,
// community_manifest_invalid, sync_failed, already_member, revoked), bad_request when the
// home already belongs to another community, io_error when a node runs on the home.
Result<JoinReport> join_community(NodeHome& home, std::string_view invite_text,
                                  const config::Env& env);

// This node's id card ("hearthnet-id://v1/…", M13 §4.4); the identity is created when absent.
Result<std::string> node_id_card(const NodeHome& home);

}  // namespace hn::node
