// membership.cpp — who a node is to us (DESIGN.md: revoked wins; a node the community view
// does not list is unauthorized; a pending invitee may use the sync routes, M13 §4.2), and
// the community manifest kept in step with the log's community.* events.
#include <utility>

#include "node/detail/node_impl.h"

namespace hn::node {
using detail::node_log;

Result<TrustLevel> Node::Impl::membership(const NodeId& node, const CommunityId& c) const {
  if (c != community) return make_error(ErrorCode::unauthorized, "not our community");
  // (Asked on every signed request: read the manifest in place, no copy.)
  bool manifest_revoked = false;
  std::optional<TrustLevel> manifest_level;
  {
    std::lock_guard lock(community_mutex);
    if (community_manifest) {
      manifest_revoked = community_manifest->is_revoked(node);
      manifest_level = community_manifest->level_of(node);
    }
  }
  // DESIGN.md: revoked wins over any other state.
  if (manifest_revoked || view.is_revoked(node)) {
    return make_error(ErrorCode::revoked, "node " + node.str() + " was revoked");
  }
  if (auto level = view.level_of(node)) return *level;
  if (manifest_level) return *manifest_level;
  return make_error(ErrorCode::unauthorized, "node " + node.str() + " is not a member");
}

bool Node::Impl::is_pending_invitee(const NodeId& node) const {
  if (view.is_revoked(node)) return false;
  const auto state = view.state();
  return state.invites.count(node.str()) > 0;
}

void Node::Impl::refresh_community_manifest() {
  if (!view.state().created) return;
  const Json state = view.snapshot_state();
  auto m = identity::load_or_regenerate(home.paths.community_dir, &*keys, &state);
  if (!m) {
    node_log().warning("community manifest not refreshed", Json{{"error", m.error().to_string()}});
    return;
  }
  std::lock_guard lock(community_mutex);
  community_manifest = std::move(*m);
}

}  // namespace hn::node
