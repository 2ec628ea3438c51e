// community_view.h — the membership state materialised from community.* events
// (CONTRACT §7.2; M01 §3.2 regenerates the signed community manifest from it): name,
// root key, policy, members with trust levels, pending invites and the revoked set.
//
// Rules (this view's reading of CONTRACT §7.2 and DESIGN.md "revoked wins"):
// - community.created counts once, only when data.founder_node_id is the author; the
//   founder becomes an `anchor` member.
// - member.invited needs a member author; records the invite (initial_level member or
//   trusted, CONTRACT §4.17; default member). An anchor-level invite is ignored.
// - member.joined by the invitee admits it at the invite's level. A join that sorts before
//   its invite waits and is admitted when the invite is applied (order independence).
//   A join after the invite's expires_at (by the join's wall_clock) is ignored.
// - member.revoked / promoted / demoted take effect only with the policy's co-signatures,
//   never against the root, never a self-promotion (events/governance.h); revocation
//   removes the target for good (it can never rejoin or be promoted).
// - community.policy.updated needs the root key and a whole, valid policy (M01).
// Events that break a rule stay in the log and change nothing; malformed data makes an
// event a no-op (never a throw).
//
// Thread-safety: safe for concurrent use (an internal mutex); readers get copies.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "core/types.h"
#include "events/event_log.h"
#include "events/replay.h"

namespace hn::events {

struct CommunityMember {
  NodeId node_id;
  TrustLevel level = TrustLevel::member;
  WallClock added_at;
  NodeId added_by;
  std::string display_name;
  Lamport lamport = 0;  // of the event that admitted it
  bool operator==(const CommunityMember&) const = default;
};

struct PendingInvite {
  NodeId invitee;
  NodeId inviter;
  EventId invite_event_id;
  std::string display_name;
  TrustLevel initial_level = TrustLevel::member;
  WallClock expires_at;  // may be empty
  bool operator==(const PendingInvite&) const = default;
};

// A join seen before its invite.
struct PendingJoin {
  NodeId node_id;
  WallClock joined_at;
  Lamport lamport = 0;
  bool operator==(const PendingJoin&) const = default;
};

struct RevokedEntry {
  NodeId node_id;
  WallClock revoked_at;
  NodeId revoked_by;
  std::string reason;
  Lamport lamport = 0;
  bool operator==(const RevokedEntry&) const = default;
};

struct CommunityState {
  bool created = false;
  std::string name;
  NodeId root_key;  // the founder
  WallClock created_at;
  Lamport lamport_at_creation = 0;
  Json policy = Json::object();
  std::map<std::string, CommunityMember> members;  // by node id
  std::map<std::string, PendingInvite> invites;    // by invitee node id
  std::map<std::string, PendingJoin> pending_joins;
  std::map<std::string, RevokedEntry> revoked;
  std::set<std::string> used_client_ids;  // of the co-signed actions applied (governance.h)
  Lamport head_lamport = 0;  // of the last community.* event applied
  bool operator==(const CommunityState&) const = default;
};

class CommunityView final : public MaterialisedView {
 public:
  static constexpr const char* NAME = "community";
  // The event types this view consumes (pass to ReplayEngine::register_view).
  static std::vector<EventType> event_types();

  std::string name() const override { return NAME; }
  void reset() override;
  void apply(const Event& event) override;
  Json snapshot_state() const override;
  Status restore_state(const Json& state) override;

  CommunityState state() const;
  bool is_member(const NodeId& node) const;
  bool is_revoked(const NodeId& node) const;
  std::optional<TrustLevel> level_of(const NodeId& node) const;

  // An AuthorPolicy for EventLog backed by this view (X02 §5.2, §7): revoked_author when
  // the author was revoked at or before the event's Lamport; unknown_author when the author
  // is neither a member nor (for member.joined) invited, except the genesis event.
  // The view must outlive the log's use of the policy.
  AuthorPolicy author_policy() const;

 private:
  mutable std::mutex m_mutex;
  CommunityState m_state;
};

// The JSON form of a CommunityState (the view's snapshot_state) and its strict parser.
Json community_state_to_json(const CommunityState& state);
Result<CommunityState> community_state_from_json(const Json& json);

}  // namespace hn::events
