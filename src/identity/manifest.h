// manifest.h — node and community manifests (M01 §3.2, CONTRACT §6): typed structs with the
// contract's field names, builders that sign, strict parsers for outside bytes, verifiers,
// and the on-disk community manifest (<state_dir>/manifest.json, GLOSSARY §Files).
//
// Signed form: a manifest's signature covers canonical_json(to_json() minus "signature")
// (CONTRACT §1.3, §10). Parsers are strict, so for a manifest of our own contract version
// to_json() reproduces exactly the object that was received (numbers may change spelling,
// 32 vs 32.0, but not their canonical form), and verification re-canonicalises that.
// Decision on unknown fields: a node manifest whose contract_version is ours (1.0) or older
// must not carry unknown fields (bad_manifest naming the field). One that declares a newer
// contract keeps unknown top-level fields verbatim in `extra`, which to_json() emits again, so
// additive minor revisions (CONTRACT §2.1) still verify; a different major is then refused by
// verify_node_manifest. Unknown nested fields are always bad_manifest. A community manifest
// (version 1) never carries unknown fields.
//
// Thread-safety: the structs are values; free functions are reentrant. KeyPinStore and
// VerificationCache are internally locked and safe to share between threads.
// Invariants: a parsed manifest has every field present and well-typed; node ids in it are
// full ids (parse_node_id succeeds); timestamps are RFC 3339 "YYYY-MM-DDTHH:MM:SSZ".
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/constants.h"
#include "core/error.h"
#include "core/json.h"
#include "core/types.h"
#include "identity/keys.h"

namespace hn::identity {

// The manifest format versions this build writes and accepts (CONTRACT §6).
inline constexpr int NODE_MANIFEST_VERSION = 1;
inline constexpr int COMMUNITY_MANIFEST_VERSION = 1;
// File name of the community manifest inside a community's state dir (GLOSSARY §Files).
inline constexpr const char* COMMUNITY_MANIFEST_FILE = "manifest.json";
// How long a verification result stays cached (M01 §5.3).
inline constexpr std::int64_t VERIFICATION_CACHE_TTL_MS = 60'000;

// ---------------------------------------------------------------------------------------------
// Node manifest — CONTRACT §6.1

struct Endpoint {
  std::string transport;  // "https"
  std::string host;
  int port = 0;  // 1..65535
  bool operator==(const Endpoint&) const = default;
};

struct HardwareSpec {
  std::optional<std::string> gpu;  // null when there is none
  double vram_gb = 0;
  double ram_gb = 0;
  std::int64_t cpu_cores = 0;
  double disk_free_gb = 0;
  bool operator==(const HardwareSpec&) const = default;
};

// A capability as it appears inside a node manifest (a subset of M03's descriptor).
struct CapabilitySpec {
  std::string name;  // "llm.chat"
  Version version;   // "1.0" on the wire
  Stability stability = Stability::stable;
  SchemaHash schema_hash;  // "blake3:<64 hex>"
  Json params = Json::object();
  std::int64_t max_concurrent = 1;
  bool operator==(const CapabilitySpec&) const = default;
};

struct NodeManifest {
  int version = NODE_MANIFEST_VERSION;
  std::string contract_version = CONTRACT_VERSION;  // "1.0"
  NodeId node_id;            // full form
  std::string display_name;
  CommunityId community_id;  // "ed25519:<root key>"
  Profile profile = Profile::hearth;
  std::vector<Endpoint> endpoints;
  HardwareSpec hardware;
  std::vector<CapabilitySpec> capabilities;
  std::int64_t uptime_seconds = 0;
  Json load = Json::object();
  WallClock issued_at;
  WallClock expires_at;
  Signature signature;
  // Unknown top-level fields of a newer contract revision, kept so the signature still
  // verifies (see the file comment). Always an object; empty for our own version.
  Json extra = Json::object();

  // The wire object, signature included (when non-empty).
  Json to_json() const;
  // Whether expires_at < now (M01 §5.2); an unparseable expires_at counts as expired.
  bool is_expired(const Clock& clock) const;
  bool operator==(const NodeManifest&) const = default;
};

// What a node states about itself; build_node_manifest adds identity, times and signature.
struct NodeManifestInput {
  CommunityId community_id;
  std::string display_name;
  Profile profile = Profile::hearth;
  std::vector<Endpoint> endpoints;
  HardwareSpec hardware;
  std::vector<CapabilitySpec> capabilities;
  std::int64_t uptime_seconds = 0;
  Json load = Json::object();
};

// A fresh manifest signed by keys: issued_at = now, expires_at = now + MANIFEST_TTL_SECONDS.
NodeManifest build_node_manifest(const KeyPair& keys, const NodeManifestInput& input,
                                 const Clock& clock = SystemClock::instance());
// Signs (or re-signs) a manifest in place with keys; node_id must be keys' id.
void sign_node_manifest(NodeManifest& manifest, const KeyPair& keys);

// Parses outside bytes or an already-parsed object. Does not verify the signature.
// Errors: bad_manifest with detail {"field": "<dotted path>"}.
Result<NodeManifest> parse_node_manifest(const Json& json);
Result<NodeManifest> parse_node_manifest(std::string_view text);

class KeyPinStore;
class VerificationCache;

// CONTRACT §6.1 rules, in this order: version and contract major (bad_manifest),
// expires_at - issued_at == MANIFEST_TTL_SECONDS (bad_manifest), the pinned key for node_id
// (invalid_signature, M01 §5.4), the signature by node_id's key (invalid_signature), and
// expiry: expires_at < now → expired. pins and cache are optional.
Status verify_node_manifest(const NodeManifest& manifest, const Clock& clock,
                            KeyPinStore* pins = nullptr, VerificationCache* cache = nullptr);

// ---------------------------------------------------------------------------------------------
// Community manifest — CONTRACT §6.2

struct CommunityPolicy {
  std::int64_t min_signatures_to_invite = 1;
  std::int64_t min_signatures_to_demote = 3;
  std::int64_t min_signatures_to_revoke = 3;
  std::int64_t capability_token_ttl_seconds = 86400;
  bool federation_enabled = true;
  bool default_member_can_invite = true;

  Json to_json() const;
  bool operator==(const CommunityPolicy&) const = default;
};

// Parses a policy object (also carried by community.created / community.policy.updated
// events, CONTRACT §7.2). field_path prefixes field names in errors.
Result<CommunityPolicy> parse_community_policy(const Json& json,
                                               std::string_view field_path = "policy");

struct CommunityMember {
  NodeId node_id;
  TrustLevel level = TrustLevel::member;  // anchor | trusted | member
  WallClock added_at;
  NodeId added_by;
  bool operator==(const CommunityMember&) const = default;
};

struct RevokedEntry {
  NodeId node_id;
  WallClock revoked_at;
  bool operator==(const RevokedEntry&) const = default;
};

struct CommunityManifest {
  int version = COMMUNITY_MANIFEST_VERSION;
  CommunityId community_id;  // == root_key (GLOSSARY: "ed25519:<root pubkey>")
  std::string name;
  NodeId root_key;
  WallClock created_at;
  Lamport lamport_at_creation = 0;
  CommunityPolicy policy;
  std::vector<CommunityMember> members;
  std::vector<RevokedEntry> revoked;
  Lamport head_lamport = 0;
  Signature signature;

  Json to_json() const;
  // Listed as a member and not revoked (DESIGN.md: revoked wins over any other state).
  bool is_member(const NodeId& node_id) const;
  // The member's level; nullopt when not a member or revoked.
  std::optional<TrustLevel> level_of(const NodeId& node_id) const;
  bool is_revoked(const NodeId& node_id) const;
  // Whether node_id may sign this manifest: the root or an anchor, and not revoked.
  bool may_sign(const NodeId& node_id) const;
  bool operator==(const CommunityManifest&) const = default;
};

// The genesis manifest (M01 §3.2): community_id = root_key = root's node id, lamport 0,
// the root as the only member at level anchor, no revocations, signed by the root.
CommunityManifest build_community_manifest(const KeyPair& root_keys, std::string name,
                                           const CommunityPolicy& policy,
                                           const Clock& clock = SystemClock::instance());
// Signs a manifest with keys, which must be allowed to (may_sign); unauthorized otherwise.
Result<CommunityManifest> sign_community_manifest(CommunityManifest manifest,
                                                  const KeyPair& keys);
// materialised_state is the community view of the event log at head_lamport — the manifest's
// fields, signature absent. The events layer's CommunityView snapshot (events/community_view.h)
// is accepted as it is: view-only keys (created, invites, pending_joins, and per-entry
// display_name, lamport, revoked_by, reason) are dropped, version defaults to 1 and
// community_id to root_key; "created": false is bad_manifest. The projection is parsed
// strictly (bad_manifest naming the field) and signed by signing_keys, which must be the root
// or an anchor of that state (unauthorized otherwise) — M01 §3.2, CONTRACT §6.2.
Result<CommunityManifest> regenerate_community_manifest_from_state(
    const Json& materialised_state, const KeyPair& signing_keys);

// Parses outside bytes / an object; bad_manifest naming the field. Does not verify.
Result<CommunityManifest> parse_community_manifest(const Json& json);
Result<CommunityManifest> parse_community_manifest(std::string_view text);

// Checks version, community_id == root_key (bad_manifest), lamports, no duplicate members,
// and that the signature is by the root key or an anchor (invalid_signature otherwise).
// The signers allowed are taken from `authority` when given (the previously trusted
// manifest of the same community: then a different community or a head_lamport rollback
// is bad_manifest), else from the manifest itself. Returns the signer's node id.
Result<NodeId> verify_community_manifest(const CommunityManifest& manifest,
                                         const CommunityManifest* authority = nullptr);

// <state_dir>/manifest.json, written atomically (0644).
Status save_community_manifest(const std::filesystem::path& state_dir,
                               const CommunityManifest& manifest);
// Reads, parses and verifies <state_dir>/manifest.json; not_found when absent.
Result<CommunityManifest> load_community_manifest(const std::filesystem::path& state_dir);
// The node's start-up helper (IMPLEMENTATION_REFERENCE §5): the stored manifest, unless
// materialised_state is given with a newer head_lamport than it (or nothing valid is
// stored) and signing_keys may sign — then a regenerated manifest, saved atomically. A node
// that may not sign keeps the stored one. Without a usable stored manifest and no way to
// regenerate: the load error (not_found, bad_manifest, invalid_signature) or unauthorized.
Result<CommunityManifest> load_or_regenerate(const std::filesystem::path& state_dir,
                                             const KeyPair* signing_keys = nullptr,
                                             const Json* materialised_state = nullptr);

// ---------------------------------------------------------------------------------------------
// Pinned keys — M01 §5.4 (TOFU, in memory)

// The first key seen for a node id is pinned; a different key later is invalid_signature.
// With full node ids the key is the id, so the store matters where a key arrives beside the
// id: a peer's TLS certificate (public_key_from_cert), a manifest served for a node id.
class KeyPinStore {
 public:
  // Pins key for node_id on first sight; invalid_signature when another key is pinned.
  Status check_or_pin(std::string_view node_id, const PublicKey& key);
  std::optional<PublicKey> pinned(std::string_view node_id) const;
  std::size_t size() const;

 private:
  mutable std::mutex m_mutex;
  std::unordered_map<std::string, PublicKey> m_pins;
};

// ---------------------------------------------------------------------------------------------
// Verification cache — M01 §5.3

// Remembers (BLAKE3 of key ‖ signature ‖ message) → result for ttl_ms, so identical bytes
// are verified once. Both outcomes are cached (Ed25519 verification is deterministic).
// Bounded: when full, expired entries are dropped, and if that is not enough, all.
// The clock must outlive the cache.
class VerificationCache {
 public:
  explicit VerificationCache(const Clock& clock, std::int64_t ttl_ms = VERIFICATION_CACHE_TTL_MS,
                             std::size_t max_entries = 65536);
  // verify_bytes, cached.
  Status verify_bytes(std::span<const std::uint8_t> message, std::string_view signature,
                      const PublicKey& key);
  // verify_payload, cached.
  Status verify_payload(const Json& payload, const PublicKey& key);
  std::size_t size() const;
  std::uint64_t hits() const;
  std::uint64_t misses() const;

 private:
  struct Entry {
    std::int64_t expires_ms = 0;
    bool ok = false;
    std::string message;
  };
  const Clock& m_clock;
  std::int64_t m_ttl_ms;
  std::size_t m_max_entries;
  mutable std::mutex m_mutex;
  std::unordered_map<std::string, Entry> m_entries;
  std::uint64_t m_hits = 0;
  std::uint64_t m_misses = 0;
};

}  // namespace hn::identity
