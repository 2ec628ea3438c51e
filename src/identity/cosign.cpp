// cosign.cpp — co-signature payloads, signing, the co_signers list (see cosign.h).
#include "identity/cosign.h"

#include <set>

#include "core/encoding.h"

namespace hn::identity {
namespace {

Error bad(std::string message) { return make_error(ErrorCode::bad_request, std::move(message)); }

}  // namespace

Json CoSignature::to_json() const {
  return Json{{"node_id", node_id.str()}, {"signature", signature}};
}

Result<Json> cosign_payload(std::string_view action, const CommunityId& community,
                            const Json& data) {
  if (!data.is_object()) return bad("co-signed action data is not an object");
  if (data.contains("action") || data.contains("community_id")) {
    return bad("co-signed action data may not carry 'action' or 'community_id' itself");
  }
  Json payload = data;
  payload.erase(CO_SIGNERS_FIELD);
  payload["action"] = std::string(action);
  payload["community_id"] = community.str();
  if (!try_canonical_json(payload)) return bad("co-signed action data has no canonical form");
  return payload;
}

Result<CoSignature> cosign(const Json& payload, const KeyPair& keys) {
  HN_TRY_ASSIGN(std::string message, try_canonical_json(payload));
  return CoSignature{keys.node_id(), keys.sign_bytes(as_bytes(message))};
}

Status verify_cosignature(const Json& payload, const CoSignature& sig) {
  auto message = try_canonical_json(payload);
  if (!message) return make_error(ErrorCode::invalid_signature, "payload has no canonical form");
  auto key = parse_node_id(sig.node_id.str());
  if (!key) return make_error(ErrorCode::invalid_signature, key.error().message);
  return verify_bytes(as_bytes(*message), sig.signature, *key);
}

Result<CoSignature> parse_co_signature(const Json& entry) {
  if (!entry.is_object() || entry.size() != 2) {
    return bad("a co-signature is an object with exactly node_id and signature");
  }
  auto id = entry.find("node_id");
  auto sig = entry.find("signature");
  if (id == entry.end() || !id->is_string() || sig == entry.end() || !sig->is_string()) {
    return bad("a co-signature needs string fields node_id and signature");
  }
  auto text = id->get<std::string>();
  if (!parse_node_id(text))
    return bad("co-signer '" + text.substr(0, 64) + "' is not a full node id");
  return CoSignature{NodeId(std::move(text)), sig->get<std::string>()};
}

Result<std::vector<CoSignature>> parse_co_signers(const Json& list) {
  if (!list.is_array()) return bad("co_signers is not an array");
  if (list.size() > MAX_CO_SIGNERS) {
    return bad("co_signers holds more than " + std::to_string(MAX_CO_SIGNERS) + " entries");
  }
  std::vector<CoSignature> out;
  out.reserve(list.size());
  for (const auto& entry : list) {
    HN_TRY_ASSIGN(auto sig, parse_co_signature(entry));
    out.push_back(std::move(sig));
  }
  return out;
}

Json co_signers_to_json(const std::vector<CoSignature>& list) {
  Json out = Json::array();
  for (const auto& s : list) out.push_back(s.to_json());
  return out;
}

std::vector<NodeId> verified_co_signers(const Json& payload, const std::vector<CoSignature>& list) {
  std::vector<NodeId> out;
  auto message = try_canonical_json(payload);
  if (!message) return out;
  std::set<std::string> seen;
  for (const auto& sig : list) {
    if (seen.count(sig.node_id.str())) continue;
    auto key = parse_node_id(sig.node_id.str());
    if (!key || !verify_bytes(as_bytes(*message), sig.signature, *key)) continue;
    seen.insert(sig.node_id.str());
    out.push_back(sig.node_id);
  }
  return out;
}

}  // namespace hn::identity
