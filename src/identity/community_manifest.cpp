// community_manifest.cpp — community manifests (M01 §3.2, CONTRACT §6.2): build, sign, parse,
// verify, regenerate from the event log's state, and the copy on disk.
#include "identity/manifest.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/constants.h"
#include "core/encoding.h"
#include "core/file_util.h"
#include "core/hash.h"
#include "core/time.h"

#include "identity/detail/manifest_fields.h"

namespace hn::identity {

using namespace detail;  // the shared field reading (detail/manifest_fields.h)

namespace {

// -------------------------------------------------------------------------------------------
// Community manifest pieces

Json member_to_json(const CommunityMember& m) {
  return Json{{"node_id", m.node_id.str()},
              {"level", std::string(to_string(m.level))},
              {"added_at", m.added_at},
              {"added_by", m.added_by.str()}};
}

Result<CommunityMember> parse_member(const Json& j, const std::string& path) {
  if (!j.is_object()) return not_object(COMMUNITY_DOC, path);
  Reader r(COMMUNITY_DOC, j, path);
  CommunityMember m;
  HN_TRY_ASSIGN(m.node_id, r.node_id("node_id"));
  HN_TRY_ASSIGN(std::string level, r.string("level"));
  auto lv = parse_trust_level(level);
  if (!lv || (*lv != TrustLevel::anchor && *lv != TrustLevel::trusted &&
              *lv != TrustLevel::member)) {
    return r.error("level", "must be anchor, trusted or member");
  }
  m.level = *lv;
  HN_TRY_ASSIGN(m.added_at, r.timestamp("added_at"));
  HN_TRY_ASSIGN(m.added_by, r.node_id("added_by"));
  HN_TRY(r.reject_unknown());
  return m;
}

Json revoked_to_json(const RevokedEntry& e) {
  return Json{{"node_id", e.node_id.str()}, {"revoked_at", e.revoked_at}};
}

Result<RevokedEntry> parse_revoked(const Json& j, const std::string& path) {
  if (!j.is_object()) return not_object(COMMUNITY_DOC, path);
  Reader r(COMMUNITY_DOC, j, path);
  RevokedEntry e;
  HN_TRY_ASSIGN(e.node_id, r.node_id("node_id"));
  HN_TRY_ASSIGN(e.revoked_at, r.timestamp("revoked_at"));
  HN_TRY(r.reject_unknown());
  return e;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// CommunityPolicy / CommunityManifest

Json CommunityPolicy::to_json() const {
  return Json{{"min_signatures_to_invite", min_signatures_to_invite},
              {"min_signatures_to_demote", min_signatures_to_demote},
              {"min_signatures_to_revoke", min_signatures_to_revoke},
              {"capability_token_ttl_seconds", capability_token_ttl_seconds},
              {"federation_enabled", federation_enabled},
              {"default_member_can_invite", default_member_can_invite}};
}

Result<CommunityPolicy> parse_community_policy(const Json& json, std::string_view field_path) {
  if (!json.is_object()) return not_object(COMMUNITY_DOC, std::string(field_path));
  Reader r(COMMUNITY_DOC, json, std::string(field_path));
  CommunityPolicy p;
  HN_TRY_ASSIGN(p.min_signatures_to_invite, r.integer("min_signatures_to_invite", 1, 1000));
  HN_TRY_ASSIGN(p.min_signatures_to_demote, r.integer("min_signatures_to_demote", 1, 1000));
  HN_TRY_ASSIGN(p.min_signatures_to_revoke, r.integer("min_signatures_to_revoke", 1, 1000));
  HN_TRY_ASSIGN(p.capability_token_ttl_seconds, r.integer("capability_token_ttl_seconds", 1));
  HN_TRY_ASSIGN(p.federation_enabled, r.boolean("federation_enabled"));
  HN_TRY_ASSIGN(p.default_member_can_invite, r.boolean("default_member_can_invite"));
  HN_TRY(r.reject_unknown());
  return p;
}

Json CommunityManifest::to_json() const {
  Json j{{"version", version},
         {"community_id", community_id.str()},
         {"name", name},
         {"root_key", root_key.str()},
         {"created_at", created_at},
         {"lamport_at_creation", lamport_at_creation},
         {"policy", policy.to_json()},
         {"members", Json::array()},
         {"revoked", Json::array()},
         {"head_lamport", head_lamport}};
  for (const auto& m : members) j["members"].push_back(member_to_json(m));
  for (const auto& r : revoked) j["revoked"].push_back(revoked_to_json(r));
  if (!signature.empty()) j["signature"] = signature;
  return j;
}

bool CommunityManifest::is_revoked(const NodeId& node_id) const {
  return std::any_of(revoked.begin(), revoked.end(),
                     [&](const RevokedEntry& e) { return e.node_id == node_id; });
}

std::optional<TrustLevel> CommunityManifest::level_of(const NodeId& node_id) const {
  if (is_revoked(node_id)) return std::nullopt;  // DESIGN.md: revoked wins
  for (const auto& m : members) {
    if (m.node_id == node_id) return m.level;
  }
  return std::nullopt;
}

bool CommunityManifest::is_member(const NodeId& node_id) const {
  return level_of(node_id).has_value();
}

bool CommunityManifest::may_sign(const NodeId& node_id) const {
  if (is_revoked(node_id)) return false;
  return node_id == root_key || level_of(node_id) == TrustLevel::anchor;
}

CommunityManifest build_community_manifest(const KeyPair& root_keys, std::string name,
                                           const CommunityPolicy& policy, const Clock& clock) {
  CommunityManifest cm;
  cm.version = COMMUNITY_MANIFEST_VERSION;
  cm.root_key = root_keys.node_id();
  cm.community_id = CommunityId(cm.root_key.str());
  cm.name = std::move(name);
  cm.created_at = format_rfc3339(clock.now_seconds());
  cm.lamport_at_creation = 0;
  cm.policy = policy;
  cm.members.push_back(CommunityMember{cm.root_key, TrustLevel::anchor, cm.created_at,
                                       cm.root_key});
  cm.head_lamport = 0;
  cm.signature = root_keys.sign_bytes(as_bytes(signed_bytes(cm.to_json())));
  return cm;
}

Result<CommunityManifest> sign_community_manifest(CommunityManifest manifest,
                                                  const KeyPair& keys) {
  if (!manifest.may_sign(keys.node_id())) {
    return make_error(ErrorCode::unauthorized,
                      "only the root key or an anchor may sign the community manifest; " +
                          keys.node_id().str() + " is neither");
  }
  manifest.signature.clear();
  manifest.signature = keys.sign_bytes(as_bytes(signed_bytes(manifest.to_json())));
  return manifest;
}

Result<CommunityManifest> parse_community_manifest(const Json& json) {
  if (!json.is_object()) return not_object(COMMUNITY_DOC, "");
  Reader r(COMMUNITY_DOC, json, "");
  CommunityManifest cm;
  HN_TRY_ASSIGN(auto version, r.integer("version", 0, 1'000'000));
  cm.version = static_cast<int>(version);
  HN_TRY_ASSIGN(std::string community_id, r.string("community_id"));
  if (!parse_node_id(community_id)) {
    return r.error("community_id", "must be \"ed25519:<base64url root key>\"");
  }
  cm.community_id = CommunityId(std::move(community_id));
  HN_TRY_ASSIGN(cm.name, r.string("name"));
  HN_TRY_ASSIGN(cm.root_key, r.node_id("root_key"));
  HN_TRY_ASSIGN(cm.created_at, r.timestamp("created_at"));
  HN_TRY_ASSIGN(cm.lamport_at_creation, r.integer("lamport_at_creation"));
  HN_TRY_ASSIGN(const Json* policy, r.object("policy"));
  HN_TRY_ASSIGN(cm.policy, parse_community_policy(*policy, "policy"));
  HN_TRY_ASSIGN(const Json* members, r.array("members"));
  for (std::size_t i = 0; i < members->size(); ++i) {
    HN_TRY_ASSIGN(auto m, parse_member((*members)[i], indexed("members", i)));
    cm.members.push_back(std::move(m));
  }
  HN_TRY_ASSIGN(const Json* revoked, r.array("revoked"));
  for (std::size_t i = 0; i < revoked->size(); ++i) {
    HN_TRY_ASSIGN(auto e, parse_revoked((*revoked)[i], indexed("revoked", i)));
    cm.revoked.push_back(std::move(e));
  }
  HN_TRY_ASSIGN(cm.head_lamport, r.integer("head_lamport"));
  HN_TRY_ASSIGN(cm.signature, r.string("signature"));
  HN_TRY(r.reject_unknown());
  return cm;
}

Result<CommunityManifest> parse_community_manifest(std::string_view text) {
  HN_TRY_ASSIGN(Json j, parse_text(COMMUNITY_DOC, text));
  return parse_community_manifest(j);
}

namespace {

// Copies the listed keys of src that are present into a new object.
Json pick(const Json& src, std::initializer_list<const char*> keys) {
  if (!src.is_object()) return src;  // left for the strict parser to refuse
  Json out = Json::object();
  for (const char* k : keys) {
    auto it = src.find(k);
    if (it != src.end()) out[k] = *it;
  }
  return out;
}

Json pick_each(const Json& list, std::initializer_list<const char*> keys) {
  if (!list.is_array()) return list;
  Json out = Json::array();
  for (const auto& el : list) out.push_back(pick(el, keys));
  return out;
}

}  // namespace

Result<CommunityManifest> regenerate_community_manifest_from_state(
    const Json& materialised_state, const KeyPair& signing_keys) {
  if (!materialised_state.is_object()) return not_object(COMMUNITY_DOC, "");
  const Json& st = materialised_state;
  if (auto created = st.find("created"); created != st.end() && *created == false) {
    return field_error(COMMUNITY_DOC, "created", "is false: no community.created event yet");
  }
  // Project the view onto the manifest's fields; view-only data (invites, pending joins,
  // per-entry display names, reasons, Lamports) is not part of the manifest.
  Json m = pick(st, {"version", "community_id", "name", "root_key", "created_at",
                     "lamport_at_creation", "policy", "head_lamport"});
  if (!m.contains("version")) m["version"] = COMMUNITY_MANIFEST_VERSION;
  if (!m.contains("community_id") && st.contains("root_key")) m["community_id"] = st["root_key"];
  if (st.contains("members")) {
    m["members"] = pick_each(st["members"], {"node_id", "level", "added_at", "added_by"});
  }
  if (st.contains("revoked")) m["revoked"] = pick_each(st["revoked"], {"node_id", "revoked_at"});
  m["signature"] = "";  // replaced by sign_community_manifest
  HN_TRY_ASSIGN(CommunityManifest cm, parse_community_manifest(m));
  return sign_community_manifest(std::move(cm), signing_keys);
}

Result<NodeId> verify_community_manifest(const CommunityManifest& cm,
                                         const CommunityManifest* authority) {
  if (cm.version != COMMUNITY_MANIFEST_VERSION) {
    return field_error(COMMUNITY_DOC, "version",
                       "is " + std::to_string(cm.version) + ", this node speaks " +
                           std::to_string(COMMUNITY_MANIFEST_VERSION));
  }
  if (!parse_node_id(cm.root_key.str())) {
    return field_error(COMMUNITY_DOC, "root_key", "is not a full ed25519 key");
  }
  // GLOSSARY: the community id is the root public key in node-id form.
  if (cm.community_id.str() != cm.root_key.str()) {
    return field_error(COMMUNITY_DOC, "community_id", "does not match root_key");
  }
  if (cm.lamport_at_creation < 0 || cm.head_lamport < cm.lamport_at_creation) {
    return field_error(COMMUNITY_DOC, "head_lamport", "is below lamport_at_creation");
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < cm.members.size(); ++i) {
    if (!seen.insert(cm.members[i].node_id.str()).second) {
      return field_error(COMMUNITY_DOC, indexed("members", i) + ".node_id",
                         "lists a member twice");
    }
  }
  if (authority) {
    if (authority->community_id != cm.community_id) {
      return field_error(COMMUNITY_DOC, "community_id", "differs from the trusted manifest");
    }
    if (cm.head_lamport < authority->head_lamport) {
      return field_error(COMMUNITY_DOC, "head_lamport",
                         "is older than the trusted manifest's head " +
                             std::to_string(authority->head_lamport));
    }
  }
  const CommunityManifest& auth = authority ? *authority : cm;

  // Candidate signers: the root first, then every anchor (CONTRACT §6.2).
  std::vector<NodeId> candidates;
  if (auth.may_sign(cm.root_key)) candidates.push_back(cm.root_key);
  for (const auto& m : auth.members) {
    if (m.node_id != cm.root_key && auth.may_sign(m.node_id)) candidates.push_back(m.node_id);
  }
  const std::string message = signed_bytes(cm.to_json());
  for (const auto& signer : candidates) {
    auto key = parse_node_id(signer.str());
    if (key && verify_bytes(as_bytes(message), cm.signature, *key)) return signer;
  }
  return make_error(ErrorCode::invalid_signature,
                    "community manifest is not signed by its root key or an anchor");
}

// ---------------------------------------------------------------------------------------------
// On disk

Status save_community_manifest(const std::filesystem::path& state_dir,
                               const CommunityManifest& manifest) {
  std::string text;
  try {
    text = manifest.to_json().dump(2) + "\n";
  } catch (const Json::exception& e) {  // invalid UTF-8 in a string set by code
    return make_error(ErrorCode::bad_manifest, std::string("community manifest: ") + e.what());
  }
  HN_TRY(ensure_directory(state_dir, std::filesystem::perms(0700)));
  return atomic_write_file(state_dir / COMMUNITY_MANIFEST_FILE, text,
                           std::filesystem::perms(0644));
}

Result<CommunityManifest> load_community_manifest(const std::filesystem::path& state_dir) {
  HN_TRY_ASSIGN(std::string text, read_file(state_dir / COMMUNITY_MANIFEST_FILE, 64u << 20));
  HN_TRY_ASSIGN(CommunityManifest cm, parse_community_manifest(std::string_view(text)));
  HN_TRY(verify_community_manifest(cm));
  return cm;
}

Result<CommunityManifest> load_or_regenerate(const std::filesystem::path& state_dir,
                                             const KeyPair* signing_keys,
                                             const Json* materialised_state) {
  auto stored = load_community_manifest(state_dir);
  if (!signing_keys || !materialised_state) return stored;
  if (stored && materialised_state->is_object()) {
    auto head = materialised_state->find("head_lamport");
    if (head != materialised_state->end() && head->is_number_integer() &&
        head->get<std::int64_t>() <= stored->head_lamport) {
      return stored;  // nothing newer to sign
    }
  }
  auto fresh = regenerate_community_manifest_from_state(*materialised_state, *signing_keys);
  if (!fresh) {
    // A node that may not sign (not root, not an anchor) keeps the stored manifest.
    if (stored && fresh.error().code == ErrorCode::unauthorized) return stored;
    return fresh.take_error();
  }
  if (stored && fresh->community_id != stored->community_id) {
    return make_error(ErrorCode::bad_manifest,
                      "materialised state belongs to another community than " +
                          (state_dir / COMMUNITY_MANIFEST_FILE).string());
  }
  HN_TRY(verify_community_manifest(*fresh));
  HN_TRY(save_community_manifest(state_dir, *fresh));
  return fresh;
}

}  // namespace hn::identity
