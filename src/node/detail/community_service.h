// community_service.h — the node's `community` service (issue #13 §4, CONTRACT §4.17–4.18,
// doc/design/governance.md "Over the bus"): community.invite@1.0, community.revoke@1.0 and
// community.cosign@1.0 (a co-signer's signature over a governance request, asked for by the
// node gathering signatures for community.revoke). It lives in the node, not in
// src/services/: issuing an invite needs onboarding (a sibling of the services) and the
// node's endpoint, and revoking needs the node's community view and peer table — the
// handlers are the node's, handed in as hooks; the ServiceHost runs them on this service's
// own queue like any service.
//
// Intents: a node co-signs only what its own operator asked for. When the operator asks its
// node to revoke X (community.revoke from `self`), the node remembers that intent for
// GOVERNANCE_INTENT_TTL; a peer's community.cosign for the same action and target is signed
// while it lasts, anything else declined (unauthorized).
//
// Thread-safety: handlers run on the service's queue threads concurrently; Intents is
// guarded by its mutex; the hooks must be thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bus/capability.h"
#include "bus/service.h"
#include "core/error.h"
#include "core/json.h"
#include "events/governance.h"

namespace hn::node::detail {

inline constexpr const char* COMMUNITY_INVITE_CAPABILITY = "community.invite";
inline constexpr const char* COMMUNITY_REVOKE_CAPABILITY = "community.revoke";
inline constexpr const char* COMMUNITY_COSIGN_CAPABILITY = "community.cosign";
// How long an operator's request stands for co-signing a peer's identical request.
inline constexpr std::int64_t GOVERNANCE_INTENT_TTL_MS = 15 * 60 * 1000;

// What this node's operator asked for: (action, target, new level) with an expiry.
class Intents {
 public:
  void record(const events::GovernanceRequest& r, std::int64_t now_ms);
  // Whether an unexpired intent matches r's action, target and level.
  bool matches(const events::GovernanceRequest& r, std::int64_t now_ms) const;

 private:
  using Key = std::tuple<int, std::string, std::string>;
  static Key key_of(const events::GovernanceRequest& r);
  mutable std::mutex m_mutex;
  std::map<Key, std::int64_t> m_expiry;  // key → expiry (ms)
};

bus::CapabilityDescriptor community_invite_descriptor();
bus::CapabilityDescriptor community_revoke_descriptor();
bus::CapabilityDescriptor community_cosign_descriptor();

class CommunityService final : public bus::Service {
 public:
  using Handler = bus::CallHandler;
  CommunityService(Handler invite, Handler revoke, Handler cosign)
      : m_invite(std::move(invite)), m_revoke(std::move(revoke)), m_cosign(std::move(cosign)) {}
  std::string name() const override { return "community"; }
  std::string version() const override { return "1.0.0"; }
  std::vector<std::string> namespace_prefixes() const override { return {"community"}; }
  std::vector<bus::LocalCapability> capabilities() override;
  // A revoke waits for co-signers over the network (a thread each); cosign answers at once.
  bus::ExecutionSpec execution() const override { return {3, 32}; }

 private:
  Handler m_invite, m_revoke, m_cosign;
};

}  // namespace hn::node::detail
