// cosign_request_fuzz.cpp — libFuzzer target for co-sign requests and co_signers lists
// (doc/design/governance.md): outside text (a `member cosign` request file, or the data of a
// received community.member.* event) → parse_governance_request, parse_co_signers and the
// view's rule judge_governance on a small community. None may crash; an accepted request
// must parse again from its own payload to the same request.
// Seeds: fuzz/corpus/cosign_request/ (a promote request, a revoke with co_signers, garbage).
//
// Thread-safety: libFuzzer calls this from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"
#include "events/governance.h"
#include "identity/cosign.h"

namespace {

hn::events::CommunityState community() {
  static const auto root =
      hn::identity::KeyPair::from_seed(std::vector<std::uint8_t>(32, 1)).value();
  static const auto other =
      hn::identity::KeyPair::from_seed(std::vector<std::uint8_t>(32, 2)).value();
  hn::events::CommunityState s;
  s.created = true;
  s.root_key = root.node_id();
  s.members[root.node_id().str()] = {
      root.node_id(), hn::TrustLevel::anchor, "", root.node_id(), "", 1};
  s.members[other.node_id().str()] = {
      other.node_id(), hn::TrustLevel::member, "", root.node_id(), "", 2};
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = hn::parse_json(text);
  if (!json) return 0;
  if (auto it = json->find("co_signers"); json->is_object() && it != json->end()) {
    (void)hn::identity::parse_co_signers(*it);
  }
  static const auto state = community();
  for (auto type : {hn::events::EventType::community_member_promoted,
                    hn::events::EventType::community_member_demoted,
                    hn::events::EventType::community_member_revoked}) {
    (void)hn::events::judge_governance(state, type, state.root_key,
                                       hn::CommunityId(state.root_key.str()), *json);
  }
  auto request = hn::events::parse_governance_request(*json);
  if (!request) return 0;
  auto again = hn::events::parse_governance_request(request->payload());
  if (!again || again->data() != request->data() || again->type != request->type) std::abort();
  return 0;
}
