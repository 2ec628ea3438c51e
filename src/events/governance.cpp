// governance.cpp — the co-signed membership actions (see governance.h).
#include "events/governance.h"

#include <algorithm>

#include "identity/cosign.h"
#include "identity/keys.h"

namespace hn::events {
namespace {

int rank(TrustLevel level) {
  switch (level) {
    case TrustLevel::member:
      return 1;
    case TrustLevel::trusted:
      return 2;
    case TrustLevel::anchor:
      return 3;
    default:
      return 0;
  }
}

bool may_sign(const CommunityState& s, const std::string& node) {
  auto it = s.members.find(node);
  return it != s.members.end() && rank(it->second.level) >= rank(TrustLevel::trusted) &&
         !s.revoked.count(node);
}

std::int64_t eligible_signers(const CommunityState& s, const std::string& target) {
  return std::count_if(s.members.begin(), s.members.end(), [&](const auto& entry) {
    return entry.first != target && may_sign(s, entry.first);
  });
}

GovernanceVerdict refuse(std::string reason) {
  GovernanceVerdict v;
  v.reason = std::move(reason);
  return v;
}

// The checks that do not count signatures; an empty string when they pass.
std::string check_action(const CommunityState& s, EventType type, const std::string& author,
                         const std::string& target, const Json& data) {
  if (target == s.root_key.str())
    return "the community root cannot be revoked, promoted or demoted";
  if (type == EventType::community_member_revoked) {
    if (target == author) return "a node cannot revoke itself";
    if (s.revoked.count(target)) return "the target is revoked already";
    return {};
  }
  if (type == EventType::community_member_promoted && target == author) {
    return "a node cannot promote itself";
  }
  auto member = s.members.find(target);
  if (member == s.members.end()) return "the target is not a member";
  auto level_it = data.find("new_level");
  if (level_it == data.end() || !level_it->is_string()) return "new_level is missing";
  auto level = parse_trust_level(level_it->get<std::string>());
  if (!level || rank(*level) == 0) return "new_level is not member, trusted or anchor";
  const int from = rank(member->second.level), to = rank(*level);
  if (type == EventType::community_member_promoted && to <= from) {
    return "a promotion must raise the target's level";
  }
  if (type == EventType::community_member_demoted && to >= from) {
    return "a demotion must lower the target's level";
  }
  return {};
}

}  // namespace

bool is_governance_event(EventType type) {
  return type == EventType::community_member_revoked ||
         type == EventType::community_member_promoted ||
         type == EventType::community_member_demoted;
}

Json GovernanceVerdict::to_json() const {
  Json ids = Json::array();
  for (const auto& n : signers) ids.push_back(n.str());
  return Json{{"takes_effect", takes_effect},
              {"reason", reason},
              {"required", required},
              {"signatures", static_cast<std::int64_t>(signers.size())},
              {"signers", std::move(ids)}};
}

std::int64_t policy_threshold(const Json& policy, EventType type) {
  const char* key = type == EventType::community_member_revoked ? "min_signatures_to_revoke"
                                                                : "min_signatures_to_demote";
  auto it = policy.find(key);
  if (it == policy.end() || !it->is_number_integer()) return DEFAULT_MIN_SIGNATURES;
  return std::max<std::int64_t>(1, it->get<std::int64_t>());
}

GovernanceVerdict judge_governance(const CommunityState& s, EventType type, const NodeId& author,
                                   const CommunityId& community, const Json& data) {
  if (!is_governance_event(type)) return refuse("not a co-signed membership action");
  if (!s.created) return refuse("the community does not exist yet");
  if (!data.is_object()) return refuse("the data is not an object");
  auto target_it = data.find("target_node_id");
  if (target_it == data.end() || !target_it->is_string() ||
      !identity::parse_node_id(target_it->get<std::string>())) {
    return refuse("target_node_id is not a full node id");
  }
  const std::string target = target_it->get<std::string>();
  const std::string& by = author.str();
  if (auto why = check_action(s, type, by, target, data); !why.empty()) return refuse(why);

  // The request's identity: co-signatures are good for one request only.
  std::optional<std::string> client_id;
  if (auto it = data.find("client_id"); it != data.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().empty() ||
        it->get_ref<const std::string&>().size() > MAX_CLIENT_ID_BYTES) {
      return refuse("client_id is not a short string");
    }
    client_id = it->get<std::string>();
    if (s.used_client_ids.count(*client_id)) return refuse("this request was applied before");
  }
  std::vector<identity::CoSignature> co_signers;
  if (auto it = data.find(identity::CO_SIGNERS_FIELD); it != data.end()) {
    auto parsed = identity::parse_co_signers(*it);
    if (!parsed) return refuse(parsed.error().message);
    co_signers = std::move(*parsed);
  }
  auto payload = identity::cosign_payload(to_string(type), community, data);
  if (!payload) return refuse(payload.error().message);

  GovernanceVerdict v;
  v.required = std::min(policy_threshold(s.policy, type), eligible_signers(s, target));
  v.required = std::max<std::int64_t>(1, v.required);
  if (!may_sign(s, by)) {
    v.reason = "the author is not a trusted or anchor member";
    return v;
  }
  v.signers.push_back(author);
  if (client_id) {
    for (auto& signer : identity::verified_co_signers(*payload, co_signers)) {
      const std::string& id = signer.str();
      if (id == by || id == target || !may_sign(s, id)) continue;
      v.signers.push_back(std::move(signer));
    }
  }
  const auto have = static_cast<std::int64_t>(v.signers.size());
  if (have < v.required) {
    v.reason = "needs " + std::to_string(v.required) +
               " signatures of trusted or anchor members, has " + std::to_string(have);
    return v;
  }
  v.takes_effect = true;
  return v;
}

Json GovernanceRequest::data() const {
  Json d{{"target_node_id", target.str()}, {"client_id", client_id}};
  if (type == EventType::community_member_revoked) {
    d["reason"] = reason;
  } else {
    d["new_level"] = new_level;
  }
  return d;
}

Json GovernanceRequest::payload() const {
  return *identity::cosign_payload(to_string(type), community, data());  // data() is valid
}

Result<GovernanceRequest> parse_governance_request(const Json& p) {
  auto bad = [](const std::string& what) {
    return make_error(ErrorCode::bad_request, "co-sign request: " + what);
  };
  if (!p.is_object()) return bad("not a JSON object");
  auto str = [&p](const char* key) -> std::optional<std::string> {
    auto it = p.find(key);
    if (it == p.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  GovernanceRequest r;
  auto action = str("action");
  auto type = action ? parse_event_type(*action) : std::nullopt;
  if (!type || !is_governance_event(*type))
    return bad("action is not promoted, demoted or revoked");
  r.type = *type;
  auto community = str("community_id");
  auto target = str("target_node_id");
  auto client_id = str("client_id");
  if (!community || !identity::parse_node_id(*community))
    return bad("community_id is not a community id");
  if (!target || !identity::parse_node_id(*target))
    return bad("target_node_id is not a full node id");
  if (!client_id || client_id->empty() || client_id->size() > MAX_CLIENT_ID_BYTES) {
    return bad("client_id is missing or too long");
  }
  r.community = CommunityId(*community);
  r.target = NodeId(*target);
  r.client_id = *client_id;
  if (r.type == EventType::community_member_revoked) {
    auto reason = str("reason");
    if (!reason) return bad("reason is missing");
    r.reason = *reason;
  } else {
    auto level_text = str("new_level");
    auto level = level_text ? parse_trust_level(*level_text) : std::nullopt;
    if (!level || rank(*level) == 0) return bad("new_level is not member, trusted or anchor");
    r.new_level = *level_text;
  }
  if (p.size() != 5)
    return bad(
        "unexpected fields (only action, community_id, target_node_id, client_id and new_level or "
        "reason)");
  return r;
}

bool apply_governance(CommunityState& s, const Event& e) {
  auto verdict = judge_governance(s, e.event_type, e.author, e.community_id, e.data);
  if (!verdict.takes_effect) return false;
  const std::string target = e.data.at("target_node_id").get<std::string>();
  if (auto it = e.data.find("client_id"); it != e.data.end()) {
    s.used_client_ids.insert(it->get<std::string>());
  }
  if (e.event_type == EventType::community_member_revoked) {
    s.members.erase(target);
    s.invites.erase(target);
    s.pending_joins.erase(target);
    std::string reason;
    if (auto it = e.data.find("reason"); it != e.data.end() && it->is_string())
      reason = it->get<std::string>();
    s.revoked[target] =
        RevokedEntry{NodeId(target), e.wall_clock, e.author, std::move(reason), e.lamport};
    return true;
  }
  s.members[target].level = *parse_trust_level(e.data.at("new_level").get<std::string>());
  return true;
}

}  // namespace hn::events
