// manifest.cpp — node and community manifests (M01 §3.2, CONTRACT §6).
#include "identity/manifest.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/constants.h"
#include "core/encoding.h"
#include "core/file_util.h"
#include "core/hash.h"
#include "core/time.h"

namespace hn::identity {
namespace {

// -------------------------------------------------------------------------------------------
// Strict field reading with errors that name the field by its dotted path.

Error field_error(std::string_view doc, const std::string& path, const std::string& what) {
  return make_error(ErrorCode::bad_manifest,
                    std::string(doc) + ": field '" + path + "' " + what, Json{{"field", path}});
}

// Largest integer a double holds exactly (CONTRACT §1.1: integers fit in 53 bits).
constexpr double MAX_SAFE_INTEGER = 9007199254740991.0;

class Reader {
 public:
  Reader(std::string_view doc, const Json& obj, std::string prefix)
      : m_doc(doc), m_obj(obj), m_prefix(std::move(prefix)) {}

  std::string path(std::string_view key) const {
    return m_prefix.empty() ? std::string(key) : m_prefix + "." + std::string(key);
  }
  Error error(std::string_view key, const std::string& what) const {
    return field_error(m_doc, path(key), what);
  }

  Result<const Json*> field(std::string_view key) {
    m_known.insert(std::string(key));
    auto it = m_obj.find(key);
    if (it == m_obj.end()) return error(key, "is missing");
    return &*it;
  }

  Result<std::string> string(std::string_view key) {
    HN_TRY_ASSIGN(const Json* v, field(key));
    if (!v->is_string()) return error(key, "must be a string");
    return v->get<std::string>();
  }
  Result<std::string> non_empty_string(std::string_view key) {
    HN_TRY_ASSIGN(std::string s, string(key));
    if (s.empty()) return error(key, "must not be empty");
    return s;
  }
  Result<std::optional<std::string>> nullable_string(std::string_view key) {
    HN_TRY_ASSIGN(const Json* v, field(key));
    if (v->is_null()) return std::optional<std::string>();
    if (!v->is_string()) return error(key, "must be a string or null");
    return std::optional<std::string>(v->get<std::string>());
  }
  Result<std::int64_t> integer(std::string_view key, std::int64_t min = 0,
                               std::int64_t max = static_cast<std::int64_t>(MAX_SAFE_INTEGER)) {
    HN_TRY_ASSIGN(const Json* v, field(key));
    std::int64_t out = 0;
    if (v->is_number_integer()) {
      out = v->get<std::int64_t>();
    } else if (v->is_number_unsigned()) {
      auto u = v->get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(max)) return error(key, "is out of range");
      out = static_cast<std::int64_t>(u);
    } else if (v->is_number_float()) {
      double d = v->get<double>();
      if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > MAX_SAFE_INTEGER) {
        return error(key, "must be an integer");
      }
      out = static_cast<std::int64_t>(d);
    } else {
      return error(key, "must be an integer");
    }
    if (out < min || out > max) return error(key, "is out of range");
    return out;
  }
  // A non-negative finite number (hardware quantities). Integers beyond 2^53 are refused so
  // the canonical form survives the conversion to double.
  Result<double> number(std::string_view key) {
    HN_TRY_ASSIGN(const Json* v, field(key));
    if (!v->is_number()) return error(key, "must be a number");
    const double d = v->get<double>();
    if (!std::isfinite(d) || std::fabs(d) > MAX_SAFE_INTEGER) return error(key, "is out of range");
    if (d < 0) return error(key, "must not be negative");
    return d;
  }
  Result<bool> boolean(std::string_view key) {
    HN_TRY_ASSIGN(const Json* v, field(key));
    if (!v->is_boolean()) return error(key, "must be a boolean");
    return v->get<bool>();
  }
  Result<const Json*> object(std::string_view key) {
    HN_TRY_ASSIGN(const Json* v, field(key));
    if (!v->is_object()) return error(key, "must be an object");
    return v;
  }
  Result<const Json*> array(std::string_view key) {
    HN_TRY_ASSIGN(const Json* v, field(key));
    if (!v->is_array()) return error(key, "must be an array");
    return v;
  }
  Result<NodeId> node_id(std::string_view key) {
    HN_TRY_ASSIGN(std::string s, string(key));
    if (!parse_node_id(s)) return error(key, "must be a full node id \"ed25519:<base64url key>\"");
    return NodeId(std::move(s));
  }
  Result<WallClock> timestamp(std::string_view key) {
    HN_TRY_ASSIGN(std::string s, string(key));
    auto secs = parse_rfc3339(s);
    // CONTRACT §1.1: UTC with Z, whole seconds outside tracing.
    if (!secs || format_rfc3339(*secs) != s) {
      return error(key, "must be an RFC 3339 UTC timestamp like 2026-05-26T08:14:22Z");
    }
    return s;
  }

  // Every key of the object that no accessor asked for.
  std::vector<std::string> unknown_keys() const {
    std::vector<std::string> out;
    for (auto it = m_obj.begin(); it != m_obj.end(); ++it) {
      if (!m_known.contains(it.key())) out.push_back(it.key());
    }
    return out;
  }
  Status reject_unknown() const {
    auto unknown = unknown_keys();
    if (!unknown.empty()) return error(unknown.front(), "is not part of the schema");
    return {};
  }

 private:
  std::string_view m_doc;
  const Json& m_obj;
  std::string m_prefix;
  std::set<std::string, std::less<>> m_known;
};

Error not_object(std::string_view doc, const std::string& path) {
  if (path.empty()) {
    return make_error(ErrorCode::bad_manifest, std::string(doc) + " is not a JSON object");
  }
  return field_error(doc, path, "must be an object");
}

std::string indexed(const std::string& base, std::size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

constexpr std::string_view NODE_DOC = "node manifest";
constexpr std::string_view COMMUNITY_DOC = "community manifest";

// -------------------------------------------------------------------------------------------
// Node manifest pieces

Json endpoint_to_json(const Endpoint& e) {
  return Json{{"transport", e.transport}, {"host", e.host}, {"port", e.port}};
}

Result<Endpoint> parse_endpoint(const Json& j, const std::string& path) {
  if (!j.is_object()) return not_object(NODE_DOC, path);
  Reader r(NODE_DOC, j, path);
  Endpoint e;
  HN_TRY_ASSIGN(e.transport, r.non_empty_string("transport"));
  HN_TRY_ASSIGN(e.host, r.non_empty_string("host"));
  HN_TRY_ASSIGN(auto port, r.integer("port", 1, 65535));
  e.port = static_cast<int>(port);
  HN_TRY(r.reject_unknown());
  return e;
}

Json hardware_to_json(const HardwareSpec& h) {
  return Json{{"gpu", h.gpu ? Json(*h.gpu) : Json(nullptr)},
              {"vram_gb", h.vram_gb},
              {"ram_gb", h.ram_gb},
              {"cpu_cores", h.cpu_cores},
              {"disk_free_gb", h.disk_free_gb}};
}

Result<HardwareSpec> parse_hardware(const Json& j, const std::string& path) {
  Reader r(NODE_DOC, j, path);
  HardwareSpec h;
  HN_TRY_ASSIGN(h.gpu, r.nullable_string("gpu"));
  HN_TRY_ASSIGN(h.vram_gb, r.number("vram_gb"));
  HN_TRY_ASSIGN(h.ram_gb, r.number("ram_gb"));
  HN_TRY_ASSIGN(h.cpu_cores, r.integer("cpu_cores"));
  HN_TRY_ASSIGN(h.disk_free_gb, r.number("disk_free_gb"));
  HN_TRY(r.reject_unknown());
  return h;
}

Json capability_to_json(const CapabilitySpec& c) {
  return Json{{"name", c.name},
              {"version", c.version.to_string()},
              {"stability", std::string(to_string(c.stability))},
              {"schema_hash", c.schema_hash.str()},
              {"params", c.params},
              {"max_concurrent", c.max_concurrent}};
}

Result<CapabilitySpec> parse_capability(const Json& j, const std::string& path) {
  if (!j.is_object()) return not_object(NODE_DOC, path);
  Reader r(NODE_DOC, j, path);
  CapabilitySpec c;
  HN_TRY_ASSIGN(c.name, r.non_empty_string("name"));
  HN_TRY_ASSIGN(std::string version, r.string("version"));
  auto v = Version::parse(version);
  if (!v || v->to_string() != version) return r.error("version", "must be \"<major>.<minor>\"");
  c.version = *v;
  HN_TRY_ASSIGN(std::string stability, r.string("stability"));
  auto st = parse_stability(stability);
  if (!st) return r.error("stability", "must be stable, beta or experimental");
  c.stability = *st;
  HN_TRY_ASSIGN(std::string schema_hash, r.string("schema_hash"));
  if (!is_valid_cid(schema_hash)) return r.error("schema_hash", "must be \"blake3:<64 hex>\"");
  c.schema_hash = SchemaHash(std::move(schema_hash));
  HN_TRY_ASSIGN(const Json* params, r.object("params"));
  c.params = *params;
  HN_TRY_ASSIGN(c.max_concurrent, r.integer("max_concurrent", 1));
  HN_TRY(r.reject_unknown());
  return c;
}

// Whether "X.Y" names a contract revision newer than ours.
bool is_newer_contract(std::string_view text) {
  auto theirs = Version::parse(text);
  auto ours = Version::parse(CONTRACT_VERSION);
  return theirs && ours && *theirs > *ours;
}

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

// The bytes a manifest's signature covers: canonical JSON without "signature".
std::string signed_bytes(Json j) {
  j.erase("signature");
  return canonical_json(j);
}

Result<Json> parse_text(std::string_view doc, std::string_view text) {
  auto j = parse_json(text);
  if (!j) {
    return make_error(ErrorCode::bad_manifest, std::string(doc) + ": " + j.error().message);
  }
  return std::move(j).value();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// NodeManifest

Json NodeManifest::to_json() const {
  Json j = extra.is_object() ? extra : Json::object();
  j["version"] = version;
  j["contract_version"] = contract_version;
  j["node_id"] = node_id.str();
  j["display_name"] = display_name;
  j["community_id"] = community_id.str();
  j["profile"] = std::string(hn::to_string(profile));
  j["endpoints"] = Json::array();
  for (const auto& e : endpoints) j["endpoints"].push_back(endpoint_to_json(e));
  j["hardware"] = hardware_to_json(hardware);
  j["capabilities"] = Json::array();
  for (const auto& c : capabilities) j["capabilities"].push_back(capability_to_json(c));
  j["uptime_seconds"] = uptime_seconds;
  j["load"] = load;
  j["issued_at"] = issued_at;
  j["expires_at"] = expires_at;
  if (!signature.empty()) {
    j["signature"] = signature;
  } else {
    j.erase("signature");
  }
  return j;
}

bool NodeManifest::is_expired(const Clock& clock) const {
  auto expires_ms = parse_rfc3339_ms(expires_at);
  return !expires_ms || *expires_ms < clock.now_ms();
}

void sign_node_manifest(NodeManifest& manifest, const KeyPair& keys) {
  assert(manifest.node_id == keys.node_id());
  manifest.signature.clear();
  manifest.signature = keys.sign_bytes(as_bytes(signed_bytes(manifest.to_json())));
}

NodeManifest build_node_manifest(const KeyPair& keys, const NodeManifestInput& input,
                                 const Clock& clock) {
  NodeManifest m;
  m.version = NODE_MANIFEST_VERSION;
  m.contract_version = CONTRACT_VERSION;
  m.node_id = keys.node_id();
  m.display_name = input.display_name;
  m.community_id = input.community_id;
  m.profile = input.profile;
  m.endpoints = input.endpoints;
  m.hardware = input.hardware;
  m.capabilities = input.capabilities;
  m.uptime_seconds = input.uptime_seconds;
  m.load = input.load.is_object() ? input.load : Json::object();
  const std::int64_t now = clock.now_seconds();
  m.issued_at = format_rfc3339(now);
  m.expires_at = format_rfc3339(now + MANIFEST_TTL_SECONDS);
  sign_node_manifest(m, keys);
  return m;
}

Result<NodeManifest> parse_node_manifest(const Json& json) {
  if (!json.is_object()) return not_object(NODE_DOC, "");
  Reader r(NODE_DOC, json, "");
  NodeManifest m;
  HN_TRY_ASSIGN(auto version, r.integer("version", 0, 1'000'000));
  m.version = static_cast<int>(version);
  HN_TRY_ASSIGN(m.contract_version, r.string("contract_version"));
  if (!Version::parse(m.contract_version) ||
      Version::parse(m.contract_version)->to_string() != m.contract_version) {
    return r.error("contract_version", "must be \"<major>.<minor>\"");
  }
  HN_TRY_ASSIGN(m.node_id, r.node_id("node_id"));
  HN_TRY_ASSIGN(m.display_name, r.string("display_name"));
  HN_TRY_ASSIGN(std::string community_id, r.string("community_id"));
  if (!parse_node_id(community_id)) {
    return r.error("community_id", "must be \"ed25519:<base64url root key>\"");
  }
  m.community_id = CommunityId(std::move(community_id));
  HN_TRY_ASSIGN(std::string profile, r.string("profile"));
  auto pr = parse_profile(profile);
  if (!pr) return r.error("profile", "must be anchor, hearth, spark or bridge");
  m.profile = *pr;

  HN_TRY_ASSIGN(const Json* endpoints, r.array("endpoints"));
  for (std::size_t i = 0; i < endpoints->size(); ++i) {
    HN_TRY_ASSIGN(auto e, parse_endpoint((*endpoints)[i], indexed("endpoints", i)));
    m.endpoints.push_back(std::move(e));
  }
  HN_TRY_ASSIGN(const Json* hardware, r.object("hardware"));
  HN_TRY_ASSIGN(m.hardware, parse_hardware(*hardware, "hardware"));
  HN_TRY_ASSIGN(const Json* caps, r.array("capabilities"));
  for (std::size_t i = 0; i < caps->size(); ++i) {
    HN_TRY_ASSIGN(auto c, parse_capability((*caps)[i], indexed("capabilities", i)));
    m.capabilities.push_back(std::move(c));
  }
  HN_TRY_ASSIGN(m.uptime_seconds, r.integer("uptime_seconds"));
  HN_TRY_ASSIGN(const Json* load, r.object("load"));
  m.load = *load;
  HN_TRY_ASSIGN(m.issued_at, r.timestamp("issued_at"));
  HN_TRY_ASSIGN(m.expires_at, r.timestamp("expires_at"));
  HN_TRY_ASSIGN(m.signature, r.string("signature"));

  // Unknown fields: refused for our contract revision, kept for a newer one (file comment).
  if (is_newer_contract(m.contract_version)) {
    for (const auto& key : r.unknown_keys()) m.extra[key] = json.at(key);
  } else {
    HN_TRY(r.reject_unknown());
  }
  return m;
}

Result<NodeManifest> parse_node_manifest(std::string_view text) {
  HN_TRY_ASSIGN(Json j, parse_text(NODE_DOC, text));
  return parse_node_manifest(j);
}

Status verify_node_manifest(const NodeManifest& m, const Clock& clock, KeyPinStore* pins,
                            VerificationCache* cache) {
  if (m.version != NODE_MANIFEST_VERSION) {
    return field_error(NODE_DOC, "version",
                       "is " + std::to_string(m.version) + ", this node speaks " +
                           std::to_string(NODE_MANIFEST_VERSION));
  }
  // CONTRACT §2.2: refuse an incompatible contract revision (another major).
  auto theirs = Version::parse(m.contract_version);
  auto ours = Version::parse(CONTRACT_VERSION);
  if (!theirs || !ours || theirs->major != ours->major) {
    return field_error(NODE_DOC, "contract_version",
                       "'" + m.contract_version + "' is incompatible with " + CONTRACT_VERSION);
  }
  auto issued = parse_rfc3339_ms(m.issued_at);
  auto expires = parse_rfc3339_ms(m.expires_at);
  if (!issued) return field_error(NODE_DOC, "issued_at", "is not an RFC 3339 timestamp");
  if (!expires) return field_error(NODE_DOC, "expires_at", "is not an RFC 3339 timestamp");
  // CONTRACT §6.1: expires_at - issued_at == 30 s exactly.
  if (*expires - *issued != std::int64_t{MANIFEST_TTL_SECONDS} * 1000) {
    return field_error(NODE_DOC, "expires_at",
                       "must be issued_at + " + std::to_string(MANIFEST_TTL_SECONDS) + " s");
  }
  auto key = parse_node_id(m.node_id.str());
  if (!key) return field_error(NODE_DOC, "node_id", "is not a full node id");
  if (pins) HN_TRY(pins->check_or_pin(m.node_id.str(), *key));  // M01 §5.4
  const std::string message = signed_bytes(m.to_json());
  if (cache) {
    HN_TRY(cache->verify_bytes(as_bytes(message), m.signature, *key));
  } else {
    HN_TRY(verify_bytes(as_bytes(message), m.signature, *key));
  }
  if (*expires < clock.now_ms()) {  // M01 §5.2: expires_at < now
    return make_error(ErrorCode::expired, "node manifest of " + m.node_id.str() +
                                              " expired at " + m.expires_at);
  }
  return {};
}

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

// ---------------------------------------------------------------------------------------------
// KeyPinStore

Status KeyPinStore::check_or_pin(std::string_view node_id, const PublicKey& key) {
  std::lock_guard lock(m_mutex);
  auto [it, inserted] = m_pins.try_emplace(std::string(node_id), key);
  if (!inserted && it->second != key) {
    return make_error(ErrorCode::invalid_signature,
                      "key for " + std::string(node_id) + " differs from the pinned key");
  }
  return {};
}

std::optional<PublicKey> KeyPinStore::pinned(std::string_view node_id) const {
  std::lock_guard lock(m_mutex);
  auto it = m_pins.find(std::string(node_id));
  if (it == m_pins.end()) return std::nullopt;
  return it->second;
}

std::size_t KeyPinStore::size() const {
  std::lock_guard lock(m_mutex);
  return m_pins.size();
}

// ---------------------------------------------------------------------------------------------
// VerificationCache

VerificationCache::VerificationCache(const Clock& clock, std::int64_t ttl_ms,
                                     std::size_t max_entries)
    : m_clock(clock), m_ttl_ms(ttl_ms), m_max_entries(std::max<std::size_t>(max_entries, 1)) {}

Status VerificationCache::verify_bytes(std::span<const std::uint8_t> message,
                                       std::string_view signature, const PublicKey& key) {
  Blake3Hasher h;
  h.update(std::span<const std::uint8_t>(key));
  const std::uint64_t sig_len = signature.size();
  h.update(std::string_view(reinterpret_cast<const char*>(&sig_len), sizeof sig_len));
  h.update(signature);
  h.update(message);
  const Digest d = h.digest();
  std::string cache_key(reinterpret_cast<const char*>(d.data()), d.size());
  const std::int64_t now = m_clock.now_ms();
  {
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find(cache_key);
    if (it != m_entries.end() && it->second.expires_ms > now) {
      ++m_hits;
      if (it->second.ok) return {};
      return make_error(ErrorCode::invalid_signature, it->second.message);
    }
    ++m_misses;
  }
  Status result = identity::verify_bytes(message, signature, key);
  std::lock_guard lock(m_mutex);
  if (m_entries.size() >= m_max_entries) {
    std::erase_if(m_entries, [now](const auto& kv) { return kv.second.expires_ms <= now; });
    if (m_entries.size() >= m_max_entries) m_entries.clear();
  }
  m_entries[cache_key] =
      Entry{now + m_ttl_ms, result.has_value(), result ? std::string() : result.error().message};
  return result;
}

Status VerificationCache::verify_payload(const Json& payload, const PublicKey& key) {
  HN_TRY_ASSIGN(SignedPayload signed_payload, split_signed_payload(payload));
  return verify_bytes(as_bytes(signed_payload.message), signed_payload.signature, key);
}

std::size_t VerificationCache::size() const {
  std::lock_guard lock(m_mutex);
  return m_entries.size();
}

std::uint64_t VerificationCache::hits() const {
  std::lock_guard lock(m_mutex);
  return m_hits;
}

std::uint64_t VerificationCache::misses() const {
  std::lock_guard lock(m_mutex);
  return m_misses;
}

}  // namespace hn::identity
