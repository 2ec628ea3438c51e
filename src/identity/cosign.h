// cosign.h — co-signatures over a community action (CONTRACT §4.18, §7.2 `co_signers`; M01
// policy thresholds): the canonical payload a co-signer signs, signing it, the wire form of a
// `co_signers` list, and verifying the list. Shared by every producer and consumer of
// co-signed actions: member promote / demote / revoke today (events/governance.h), the
// community.revoke capability of the community services later.
//
// The payload (doc/design/governance.md): the action's event data minus `co_signers`, plus
//   "action":       the event type ("community.member.promoted" | "...demoted" | "...revoked")
//   "community_id": the community the action belongs to
// signed over its canonical JSON (RFC 8785, CONTRACT §1.2). Binding the action and the
// community keeps a signature for "promote X to trusted" from counting for "demote X to
// trusted" or in another community; the data's `client_id` (a ULID) makes each request
// distinct, so a signature is good for one request only.
//
// Thread-safety: value types and pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "core/types.h"
#include "identity/keys.h"

namespace hn::identity {

inline constexpr const char* CO_SIGNERS_FIELD = "co_signers";
// At most this many entries in a co_signers list (more is bad_request).
inline constexpr std::size_t MAX_CO_SIGNERS = 64;

// One entry of a co_signers list: {"node_id": "ed25519:…", "signature": "ed25519:…"}.
struct CoSignature {
  NodeId node_id;
  Signature signature;
  Json to_json() const;
  bool operator==(const CoSignature&) const = default;
};

// The payload co-signers sign for `action` on `data` (see the file comment). bad_request when
// data is not an object, already carries "action" or "community_id", or has no canonical form.
Result<Json> cosign_payload(std::string_view action, const CommunityId& community,
                            const Json& data);
// keys' co-signature over payload's canonical JSON. bad_request when it has none.
Result<CoSignature> cosign(const Json& payload, const KeyPair& keys);
// invalid_signature unless sig verifies over payload with the key in sig.node_id.
Status verify_cosignature(const Json& payload, const CoSignature& sig);

// Parses a co_signers list strictly: an array of at most MAX_CO_SIGNERS objects with exactly
// the string fields node_id (a full node id) and signature. bad_request otherwise.
Result<std::vector<CoSignature>> parse_co_signers(const Json& list);
// Parses one entry (the output of `hearthnet member cosign`).
Result<CoSignature> parse_co_signature(const Json& entry);
Json co_signers_to_json(const std::vector<CoSignature>& list);

// The distinct node ids whose co-signature verifies over payload, in list order; entries that
// do not verify, or repeat a node id already counted, are left out. (Counting against a
// policy — who may sign, how many are needed — is the caller's rule: events/governance.h.)
std::vector<NodeId> verified_co_signers(const Json& payload, const std::vector<CoSignature>& list);

}  // namespace hn::identity
