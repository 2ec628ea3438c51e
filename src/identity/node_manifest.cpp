// node_manifest.cpp — node manifests (M01 §3.2, CONTRACT §6.1): build, sign, parse, verify.
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

}  // namespace hn::identity
