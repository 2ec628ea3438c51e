// governance.cpp — the admin routes that change the community's governance (CONTRACT §4.18,
// §7.2; doc/design/governance.md): member promote / demote / revoke with the co-signatures the
// policy asks for, and the policy itself (root only). Each checks the action against the
// community view with the rule every node replays (events/governance.h) before it appends,
// so a refused action writes nothing and answers why.
#include "events/governance.h"

#include <utility>

#include "core/ulid.h"
#include "identity/cosign.h"
#include "identity/manifest.h"
#include "node/detail/node_impl.h"

namespace hn::node {
namespace {

Result<events::EventType> level_action(const Json& request) {
  HN_TRY_ASSIGN(std::string action, get_string(request, "action"));
  if (action == "promote") return events::EventType::community_member_promoted;
  if (action == "demote") return events::EventType::community_member_demoted;
  return make_error(ErrorCode::bad_request, "action must be promote or demote");
}

}  // namespace

Result<Json> Node::Impl::change_member(events::EventType type, const Json& request) {
  events::GovernanceRequest action;
  action.type = type;
  action.community = community;
  HN_TRY_ASSIGN(std::string target, get_string(request, "node_id"));
  if (!identity::parse_node_id(target)) {
    return make_error(ErrorCode::bad_request, "node_id is not a full node id (ed25519:…)");
  }
  action.target = NodeId(target);
  if (type == events::EventType::community_member_revoked) {
    action.reason = request.value("reason", std::string());
  } else {
    HN_TRY_ASSIGN(action.new_level, get_string(request, "level"));
    auto level = parse_trust_level(action.new_level);
    if (!level || *level == TrustLevel::unknown || *level == TrustLevel::self) {
      return make_error(ErrorCode::bad_request, "level must be member, trusted or anchor");
    }
  }
  if (request.contains("client_id")) {
    HN_TRY_ASSIGN(action.client_id, get_string(request, "client_id"));
  } else {
    static UlidGenerator ulids;
    action.client_id = ulids.next();
  }
  Json data = action.data();
  if (auto cosigs = request.find(identity::CO_SIGNERS_FIELD); cosigs != request.end()) {
    HN_TRY_ASSIGN(auto list, identity::parse_co_signers(*cosigs));
    if (!list.empty()) data[identity::CO_SIGNERS_FIELD] = identity::co_signers_to_json(list);
  }

  const auto state = view.state();
  if (type == events::EventType::community_member_revoked && state.revoked.count(target)) {
    return Json{{"revoked", target}, {"already", true}};
  }
  if (type != events::EventType::community_member_revoked && !state.members.count(target)) {
    return make_error(ErrorCode::not_found, "node " + target + " is not a member");
  }
  if (type == events::EventType::community_member_revoked && !state.members.count(target) &&
      !state.invites.count(target)) {
    return make_error(ErrorCode::not_found, "node " + target + " is not a member");
  }
  auto verdict = events::judge_governance(state, type, keys->node_id(), community, data);
  if (!verdict.takes_effect) {
    return make_error(ErrorCode::unauthorized, verdict.reason, verdict.to_json());
  }
  HN_TRY_ASSIGN(auto event, log->append_local(type, std::move(data)));
  refresh_community_manifest();
  schedule_sync();  // spread it now
  Json out{{"event_id", event.event_id.str()},
           {"action", std::string(events::to_string(type))},
           {"target", target},
           {"client_id", action.client_id},
           {"signatures", static_cast<std::int64_t>(verdict.signers.size())},
           {"required", verdict.required}};
  if (type == events::EventType::community_member_revoked) {
    out["revoked"] = target;
  } else {
    out["level"] = action.new_level;
  }
  return out;
}

Result<Json> Node::Impl::revoke_member(const Json& request) {
  HN_TRY_ASSIGN(Json out, change_member(events::EventType::community_member_revoked, request));
  if (!out.contains("event_id")) return out;  // revoked before
  const NodeId node(out["revoked"].get<std::string>());
  if (registry) registry->remove(node);
  on_peer_removed(node);
  return out;
}

Result<Json> Node::Impl::change_member_level(const Json& request) {
  HN_TRY_ASSIGN(auto type, level_action(request));
  return change_member(type, request);
}

Result<Json> Node::Impl::current_policy() {
  const auto state = view.state();
  if (!state.created) return make_error(ErrorCode::not_found, "the community is not created yet");
  auto parsed = identity::parse_community_policy(state.policy);
  Json policy = parsed ? parsed->to_json() : identity::CommunityPolicy{}.to_json();
  HN_TRY_ASSIGN(auto head, log->head());
  return Json{{"policy", std::move(policy)}, {"head_lamport", head.lamport}};
}

Result<Json> Node::Impl::update_policy(const Json& request) {
  auto set = request.find("set");
  if (set == request.end() || !set->is_object() || set->empty()) {
    return make_error(ErrorCode::bad_request, "set must be an object of policy fields");
  }
  const auto state = view.state();
  if (!state.created || keys->node_id() != state.root_key) {
    return make_error(ErrorCode::unauthorized,
                      "only the community root may change the policy (CONTRACT §7.2)");
  }
  auto current = identity::parse_community_policy(state.policy);
  Json policy = current ? current->to_json() : identity::CommunityPolicy{}.to_json();
  for (const auto& [key, value] : set->items()) policy[key] = value;
  auto parsed = identity::parse_community_policy(policy);
  if (!parsed)
    return make_error(ErrorCode::bad_request, parsed.error().message, parsed.error().detail);
  policy = parsed->to_json();
  HN_TRY_ASSIGN(auto event, log->append_local(events::EventType::community_policy_updated,
                                              Json{{"policy", policy}}));
  refresh_community_manifest();
  schedule_sync();
  return Json{{"event_id", event.event_id.str()}, {"policy", std::move(policy)}};
}

}  // namespace hn::node
