// community_service.cpp — descriptors of the community capabilities and the intents store
// (community_service.h).
#include "node/detail/community_service.h"

#include <iterator>
#include <utility>

#include "bus/descriptor.h"
#include "core/constants.h"

namespace hn::node::detail {
namespace {

bus::CapabilityDescriptor base(const char* name, TrustLevel trust) {
  bus::CapabilityDescriptor d = bus::stable_descriptor(name, trust, 8, RPC_DEFAULT_TIMEOUT_SECONDS);
  d.idempotent = false;
  d.response_schema = Json::parse(R"({
    "type": "object",
    "required": ["output"],
    "properties": {"output": {"type": "object"}, "meta": {"type": "object"}}
  })");
  return d;
}

}  // namespace

void Intents::record(const events::GovernanceRequest& r, std::int64_t now_ms) {
  std::lock_guard lock(m_mutex);
  for (auto it = m_expiry.begin(); it != m_expiry.end();) {
    it = it->second <= now_ms ? m_expiry.erase(it) : std::next(it);
  }
  m_expiry[key_of(r)] = now_ms + GOVERNANCE_INTENT_TTL_MS;
}

bool Intents::matches(const events::GovernanceRequest& r, std::int64_t now_ms) const {
  std::lock_guard lock(m_mutex);
  auto it = m_expiry.find(key_of(r));
  return it != m_expiry.end() && it->second > now_ms;
}

Intents::Key Intents::key_of(const events::GovernanceRequest& r) {
  return {static_cast<int>(r.type), r.target.str(), r.new_level};
}

// CONTRACT §4.17: trust member (the `default_member_can_invite` policy bit is checked by the
// handler); idempotent by invitee_node_id.
bus::CapabilityDescriptor community_invite_descriptor() {
  auto d = base(COMMUNITY_INVITE_CAPABILITY, TrustLevel::member);
  d.idempotent = true;
  d.request_schema = Json::parse(R"({
    "type": "object",
    "required": ["input"],
    "properties": {
      "params": {"type": "object"},
      "input": {
        "type": "object",
        "required": ["invitee_node_id"],
        "properties": {
          "invitee_node_id": {"type": "string", "maxLength": 2048},
          "display_name": {"type": "string", "maxLength": 256},
          "initial_level": {"type": "string", "enum": ["member", "trusted"]},
          "expires_at": {"type": "string", "maxLength": 64}
        },
        "additionalProperties": false
      }
    },
    "additionalProperties": false
  })");
  return d;
}

// CONTRACT §4.18. The caller must be this node itself (the CLI, the UI): the node authors
// the event, so its signature is its operator's (doc/design/governance.md "Over the bus").
bus::CapabilityDescriptor community_revoke_descriptor() {
  auto d = base(COMMUNITY_REVOKE_CAPABILITY, TrustLevel::member);
  d.idempotent = true;  // by client_id: a request applied once
  d.timeout_seconds = 60;  // co-signers are asked one after another
  d.request_schema = Json::parse(R"({
    "type": "object",
    "required": ["input"],
    "properties": {
      "params": {"type": "object"},
      "input": {
        "type": "object",
        "required": ["target_node_id"],
        "properties": {
          "client_id": {"type": "string", "maxLength": 64},
          "target_node_id": {"type": "string", "maxLength": 256},
          "reason": {"type": "string", "maxLength": 1024},
          "co_signers": {"type": "array", "maxItems": 64},
          "gather": {"type": "boolean", "default": true}
        },
        "additionalProperties": false
      }
    },
    "additionalProperties": false
  })");
  return d;
}

// Ours (under CONTRACT §3.1's `community` prefix): a trusted or anchor member asks this node
// to co-sign a governance request (the payload of identity/cosign.h).
bus::CapabilityDescriptor community_cosign_descriptor() {
  auto d = base(COMMUNITY_COSIGN_CAPABILITY, TrustLevel::trusted);
  d.idempotent = true;
  d.timeout_seconds = 10;
  d.request_schema = Json::parse(R"({
    "type": "object",
    "required": ["input"],
    "properties": {
      "params": {"type": "object"},
      "input": {
        "type": "object",
        "required": ["payload"],
        "properties": {"payload": {"type": "object"}},
        "additionalProperties": false
      }
    },
    "additionalProperties": false
  })");
  return d;
}

std::vector<bus::LocalCapability> CommunityService::capabilities() {
  std::vector<bus::LocalCapability> caps(3);
  caps[0].descriptor = community_invite_descriptor();
  caps[0].handler = m_invite;
  caps[1].descriptor = community_revoke_descriptor();
  caps[1].handler = m_revoke;
  caps[2].descriptor = community_cosign_descriptor();
  caps[2].handler = m_cosign;
  return caps;
}

}  // namespace hn::node::detail
