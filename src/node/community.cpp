// community.cpp — the node's community capabilities on the bus (issue #13 §4, CONTRACT
// §4.17–4.18; detail/community_service.h) and the member list: community.invite issues an
// invite through onboarding, community.revoke gathers the co-signatures the policy asks for
// from online trusted and anchor members (each asked by community.cosign, which signs only
// what its own operator asked for too) and appends the revocation; `member list` reads the
// community view. doc/design/governance.md "Over the bus".
#include <algorithm>
#include <utility>

#include "core/time.h"
#include "core/ulid.h"
#include "identity/cosign.h"
#include "identity/keys.h"
#include "node/detail/community_service.h"
#include "node/detail/node_impl.h"

namespace hn::node {
namespace {

bool may_sign(TrustLevel level) { return level == TrustLevel::trusted || level == TrustLevel::anchor; }

Json wrap(Json output, Json meta = Json::object()) {
  return Json{{"output", std::move(output)}, {"meta", std::move(meta)}};
}

}  // namespace

Status Node::Impl::open_community_service() {
  auto service = std::make_unique<detail::CommunityService>(
      [this](const bus::CallContext& ctx, const Json& body) { return community_invite(ctx, body); },
      [this](const bus::CallContext& ctx, const Json& body) { return community_revoke(ctx, body); },
      [this](const bus::CallContext& ctx, const Json& body) { return community_cosign(ctx, body); });
  return services->start(std::move(service));
}

// CONTRACT §4.17: members may invite when the policy's default_member_can_invite allows it,
// trusted and anchor members always.
Result<Json> Node::Impl::community_invite(const bus::CallContext& ctx, const Json& body) {
  const Json& in = body["input"];
  const NodeId& caller = ctx.request.caller;
  if (caller != keys->node_id()) {
    const auto level = view.level_of(caller);
    auto policy = identity::parse_community_policy(view.state().policy);
    const bool members_may = !policy || policy->default_member_can_invite;
    if (!level || (!may_sign(*level) && !members_may)) {
      return make_error(ErrorCode::unauthorized, "the policy lets only trusted members invite");
    }
  }
  Json request{{"invitee", in["invitee_node_id"]},
               {"level", in.value("initial_level", std::string("member"))}};
  if (in.contains("display_name")) request["display_name"] = in["display_name"];
  if (in.contains("expires_at")) {
    auto at = parse_rfc3339_ms(in["expires_at"].get<std::string>());
    if (!at) return make_error(ErrorCode::bad_request, "expires_at is not an RFC 3339 time");
    const std::int64_t ttl = (*at - clock.now_ms()) / 1000;
    if (ttl < 1) return make_error(ErrorCode::bad_request, "expires_at is in the past");
    request["ttl_seconds"] = ttl;
  }
  HN_TRY_ASSIGN(Json issued, create_invite(request));
  Json meta{{"invite_id", issued["invite_id"]}, {"reused", issued["reused"]}};
  return wrap(Json{{"invite_blob", issued["invite"]}, {"expires_at", issued["expires_at"]}},
              std::move(meta));
}

// CONTRACT §4.18 for this node's own operator: what the request brings, plus what online
// trusted and anchor members co-sign, must reach the policy's min_signatures_to_revoke.
Result<Json> Node::Impl::community_revoke(const bus::CallContext& ctx, const Json& body) {
  if (ctx.request.caller != keys->node_id()) {
    return make_error(ErrorCode::unauthorized,
                      "community.revoke acts for this node's operator only: ask your own node");
  }
  const Json& in = body["input"];
  events::GovernanceRequest action;
  action.type = events::EventType::community_member_revoked;
  action.community = community;
  const std::string target = in["target_node_id"].get<std::string>();
  if (!identity::parse_node_id(target)) {
    return make_error(ErrorCode::bad_request, "target_node_id is not a full node id (ed25519:…)");
  }
  action.target = NodeId(target);
  action.reason = in.value("reason", std::string());
  static UlidGenerator ulids;
  action.client_id = in.contains("client_id") ? in["client_id"].get<std::string>() : ulids.next();
  std::vector<identity::CoSignature> cosigs;
  if (in.contains("co_signers")) {
    HN_TRY_ASSIGN(cosigs, identity::parse_co_signers(in["co_signers"]));
  }

  // Our operator wants this: a peer asking us to co-sign the same revocation gets our signature.
  intents.record(action, clock.now_ms());
  const Json payload = action.payload();
  auto judge = [&] {
    Json data = action.data();
    if (!cosigs.empty()) data[identity::CO_SIGNERS_FIELD] = identity::co_signers_to_json(cosigs);
    return events::judge_governance(view.state(), action.type, keys->node_id(), community, data);
  };
  auto verdict = judge();
  Json asked = Json::array(), declined = Json::array();
  const bool gather = in.value("gather", true);
  // Short of signatures only (required > 0 means every other rule held): ask the online
  // trusted and anchor members, one after another, until enough have signed.
  if (gather && !verdict.takes_effect && verdict.required > 0) {
    for (const auto& [peer, ep] : online_peers()) {
      if (verdict.takes_effect || ctx.cancelled()) break;
      const auto level = view.level_of(peer);
      if (!level || !may_sign(*level) || peer == action.target) continue;
      if (std::find(verdict.signers.begin(), verdict.signers.end(), peer) != verdict.signers.end())
        continue;
      asked.push_back(peer.str());
      bus::CallOptions co;
      co.target_node = peer;
      co.remote_only = true;
      co.timeout_seconds = 10;
      auto answer = bus->call(detail::COMMUNITY_COSIGN_CAPABILITY, Version{1, 0},
                              Json{{"input", {{"payload", payload}}}}, co);
      Result<identity::CoSignature> sig = make_error(ErrorCode::bad_request, "no co_signature");
      if (answer && (*answer)["output"].contains("co_signature")) {
        sig = identity::parse_co_signature((*answer)["output"]["co_signature"]);
      }
      if (!answer || !sig || sig->node_id != peer || !identity::verify_cosignature(payload, *sig)) {
        declined.push_back(Json{{"node_id", peer.str()},
                                {"error", answer ? std::string("bad co-signature")
                                                 : answer.error().to_string()}});
        continue;
      }
      cosigs.push_back(std::move(*sig));
      verdict = judge();
    }
  }
  Json detail = verdict.to_json();
  detail["asked"] = asked;
  detail["declined"] = declined;
  if (!verdict.takes_effect) {
    if (view.is_revoked(action.target)) {
      return wrap(Json{{"revoked", target}, {"already", true}});
    }
    return make_error(ErrorCode::unauthorized, verdict.reason, std::move(detail));
  }
  Json request{{"node_id", target},
               {"reason", action.reason},
               {"client_id", action.client_id},
               {identity::CO_SIGNERS_FIELD, identity::co_signers_to_json(cosigs)}};
  HN_TRY_ASSIGN(Json out, revoke_member(request));
  out["asked"] = asked;
  out["declined"] = declined;
  Json meta = Json::object();
  if (out.contains("event_id")) meta["event_id"] = out["event_id"];
  return wrap(std::move(out), std::move(meta));
}

// A trusted or anchor member asks for our signature over a governance request: given only
// when our own operator asked for the same action on the same target (Intents).
Result<Json> Node::Impl::community_cosign(const bus::CallContext& ctx, const Json& body) {
  HN_TRY_ASSIGN(auto request, events::parse_governance_request(body["input"]["payload"]));
  if (request.community != community) {
    return make_error(ErrorCode::wrong_community, "the request belongs to another community");
  }
  const auto caller_level = view.level_of(ctx.request.caller);
  if (!caller_level || !may_sign(*caller_level)) {
    return make_error(ErrorCode::unauthorized, "only trusted or anchor members ask for co-signatures");
  }
  if (request.target == keys->node_id() || !intents.matches(request, clock.now_ms())) {
    return make_error(ErrorCode::unauthorized,
                      "declined: this node's operator has not asked for " +
                          std::string(events::to_string(request.type)) + " of " +
                          request.target.str());
  }
  HN_TRY_ASSIGN(auto sig, identity::cosign(request.payload(), *keys));
  detail::node_log().info("co-signed", Json{{"action", std::string(events::to_string(request.type))},
                                            {"target", request.target.str()},
                                            {"for", ctx.request.caller.str()},
                                            {"client_id", request.client_id}});
  return wrap(Json{{"co_signature", sig.to_json()}});
}

// GET NODE_MEMBERS_PATH: every member, invitee and revoked node with its level and state.
Json Node::Impl::member_list() const {
  const auto state = view.state();
  std::map<NodeId, Peer> online;
  {
    std::lock_guard lock(peers_mutex);
    online = peers;
  }
  Json list = Json::array();
  std::int64_t active = 0;
  for (const auto& [id, m] : state.members) {
    if (state.revoked.count(id)) continue;
    ++active;
    const NodeId node(id);
    Json e{{"node_id", id},
           {"level", std::string(to_string(m.level))},
           {"state", "active"},
           {"root", node == state.root_key},
           {"self", node == keys->node_id()},
           {"online", node == keys->node_id() || online.count(node) > 0},
           {"added_at", m.added_at}};
    if (auto it = online.find(node); it != online.end()) e["display_name"] = it->second.display_name;
    list.push_back(std::move(e));
  }
  for (const auto& [id, inv] : state.invites) {
    if (state.members.count(id) || state.revoked.count(id)) continue;
    list.push_back(Json{{"node_id", id},
                        {"level", std::string(to_string(inv.initial_level))},
                        {"state", "invited"},
                        {"display_name", inv.display_name},
                        {"online", false}});
  }
  for (const auto& [id, r] : state.revoked) {
    list.push_back(Json{{"node_id", id},
                        {"level", "none"},
                        {"state", "revoked"},
                        {"revoked_by", r.revoked_by.str()},
                        {"reason", r.reason},
                        {"online", false}});
  }
  return Json{{"members", std::move(list)},
              {"member_count", active},
              {"revoked_count", state.revoked.size()}};
}

}  // namespace hn::node
