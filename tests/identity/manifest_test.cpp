// manifest_test.cpp — M01 §3.2, §5.2–§5.4, §8; CONTRACT §6: node and community manifests,
// key pinning and the verification cache.
#include "identity/manifest.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/constants.h"
#include "core/file_util.h"
#include "core/time.h"
#include "support/test_support.h"

namespace hn::identity {
namespace {

const std::string SCHEMA_HASH = "blake3:" + std::string(64, 'a');

NodeManifestInput sample_input(const CommunityId& community) {
  NodeManifestInput in;
  in.community_id = community;
  in.display_name = "garage-pc";
  in.profile = Profile::anchor;
  in.endpoints = {Endpoint{"https", "192.168.188.25", 7080}};
  in.hardware = HardwareSpec{"RTX 5090", 32, 128, 24, 4000};
  CapabilitySpec cap;
  cap.name = "llm.chat";
  cap.version = Version{1, 0};
  cap.stability = Stability::stable;
  cap.schema_hash = SchemaHash(SCHEMA_HASH);
  cap.params = Json{{"model", "qwen2.5-7b-instruct"}, {"quant", "q4_k_m"}, {"ctx", 8192}};
  cap.max_concurrent = 4;
  in.capabilities = {cap};
  in.uptime_seconds = 43210;
  in.load = Json{{"cpu", 0.12}, {"vram_used_gb", 6.4}, {"in_flight_total", 0}};
  return in;
}

class IdentityNodeManifest : public ::testing::Test {
 protected:
  KeyPair keys = KeyPair::generate();
  KeyPair root = KeyPair::generate();
  ManualClock clock{1'780'000'000'000};
  NodeManifest build() {
    return build_node_manifest(keys, sample_input(CommunityId(root.node_id().str())), clock);
  }
};

TEST_F(IdentityNodeManifest, BuildSetsIdentityTimesAndSignature) {
  NodeManifest m = build();
  EXPECT_EQ(m.version, 1);
  EXPECT_EQ(m.contract_version, "1.0");
  EXPECT_EQ(m.node_id, keys.node_id());
  EXPECT_EQ(m.issued_at, format_rfc3339(clock.now_seconds()));
  EXPECT_EQ(m.expires_at, format_rfc3339(clock.now_seconds() + MANIFEST_TTL_SECONDS));
  EXPECT_EQ(m.signature.rfind("ed25519:", 0), 0u);
  EXPECT_TRUE(verify_node_manifest(m, clock).has_value());
  // The wire object is signed by the node key in the CONTRACT §10 way.
  EXPECT_TRUE(verify_payload_with_node_id(m.to_json(), keys.node_id().str()).has_value());
}

TEST_F(IdentityNodeManifest, JsonHasContractFieldNames) {
  Json j = build().to_json();
  for (const char* key : {"version", "contract_version", "node_id", "display_name",
                          "community_id", "profile", "endpoints", "hardware", "capabilities",
                          "uptime_seconds", "load", "issued_at", "expires_at", "signature"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j.size(), 14u);
  EXPECT_EQ(j["profile"], "anchor");
  EXPECT_EQ(j["endpoints"][0], (Json{{"transport", "https"}, {"host", "192.168.188.25"},
                                     {"port", 7080}}));
  EXPECT_EQ(j["hardware"]["gpu"], "RTX 5090");
  EXPECT_EQ(j["capabilities"][0]["version"], "1.0");
  EXPECT_EQ(j["capabilities"][0]["stability"], "stable");
  EXPECT_EQ(j["capabilities"][0]["max_concurrent"], 4);
}

TEST_F(IdentityNodeManifest, RoundTripThroughText) {
  NodeManifest m = build();
  // Pretty-printed, so whitespace and number spellings differ from the canonical form.
  auto parsed = parse_node_manifest(std::string_view(m.to_json().dump(2)));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
  EXPECT_EQ(*parsed, m);
  EXPECT_TRUE(verify_node_manifest(*parsed, clock).has_value());
}

TEST_F(IdentityNodeManifest, NullGpuAndIntegralNumbersRoundTrip) {
  auto in = sample_input(CommunityId(root.node_id().str()));
  in.hardware.gpu.reset();
  in.capabilities.clear();
  NodeManifest m = build_node_manifest(keys, in, clock);
  std::string text = m.to_json().dump();
  EXPECT_NE(text.find("\"gpu\":null"), std::string::npos);
  // A peer that writes 32.0 as 32 (or the reverse) still verifies: canonical form is equal.
  Json j = m.to_json();
  j["hardware"]["vram_gb"] = 32;
  auto parsed = parse_node_manifest(j);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
  EXPECT_FALSE(parsed->hardware.gpu.has_value());
  EXPECT_TRUE(verify_node_manifest(*parsed, clock).has_value());
}

TEST_F(IdentityNodeManifest, TamperedFieldIsInvalidSignature) {
  Json j = build().to_json();
  for (const auto& mutate : std::vector<std::function<void(Json&)>>{
           [](Json& x) { x["display_name"] = "evil-pc"; },
           [](Json& x) { x["endpoints"][0]["port"] = 7081; },
           [](Json& x) { x["hardware"]["ram_gb"] = 129; },
           [](Json& x) { x["capabilities"][0]["params"]["ctx"] = 4096; },
           [](Json& x) { x["load"]["cpu"] = 0.5; },
           [](Json& x) { x["uptime_seconds"] = 1; },
           [](Json& x) { x["profile"] = "spark"; }}) {
    Json t = j;
    mutate(t);
    auto parsed = parse_node_manifest(t);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
    auto st = verify_node_manifest(*parsed, clock);
    ASSERT_FALSE(st.has_value()) << t.dump();
    EXPECT_EQ(st.error().code, ErrorCode::invalid_signature);
  }
  // Signed by another key than node_id's.
  NodeManifest m = build();
  KeyPair other = KeyPair::generate();
  m.signature = other.sign_bytes(as_bytes(canonical_json([&] {
    Json x = m.to_json();
    x.erase("signature");
    return x;
  }())));
  EXPECT_EQ(verify_node_manifest(m, clock).error().code, ErrorCode::invalid_signature);
  m.signature = "garbage";
  EXPECT_EQ(verify_node_manifest(m, clock).error().code, ErrorCode::invalid_signature);
}

TEST_F(IdentityNodeManifest, ExpiryBoundary) {
  NodeManifest m = build();
  const auto expires_ms = *parse_rfc3339_ms(m.expires_at);
  clock.set_ms(expires_ms);  // expires_at == now: still valid (expires_at < now is stale)
  EXPECT_TRUE(verify_node_manifest(m, clock).has_value());
  EXPECT_FALSE(m.is_expired(clock));
  clock.set_ms(expires_ms + 1);
  auto st = verify_node_manifest(m, clock);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::expired);
  EXPECT_TRUE(m.is_expired(clock));
}

TEST_F(IdentityNodeManifest, TtlMustBeExactlyThirtySeconds) {
  NodeManifest m = build();
  m.expires_at = format_rfc3339(*parse_rfc3339(m.issued_at) + 3600);
  sign_node_manifest(m, keys);
  auto st = verify_node_manifest(m, clock);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::bad_manifest);
}

TEST_F(IdentityNodeManifest, ContractVersionCheck) {
  NodeManifest m = build();
  m.contract_version = "2.0";
  sign_node_manifest(m, keys);
  auto st = verify_node_manifest(m, clock);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::bad_manifest);
  EXPECT_EQ(st.error().detail["field"], "contract_version");
  m.contract_version = "1.3";  // a newer minor is compatible
  sign_node_manifest(m, keys);
  EXPECT_TRUE(verify_node_manifest(m, clock).has_value());
  m.version = 2;
  sign_node_manifest(m, keys);
  EXPECT_EQ(verify_node_manifest(m, clock).error().code, ErrorCode::bad_manifest);
}

TEST_F(IdentityNodeManifest, MissingFieldIsBadManifestNamingIt) {
  const Json j = build().to_json();
  for (auto it = j.begin(); it != j.end(); ++it) {
    Json t = j;
    t.erase(it.key());
    auto parsed = parse_node_manifest(t);
    ASSERT_FALSE(parsed.has_value()) << it.key();
    EXPECT_EQ(parsed.error().code, ErrorCode::bad_manifest);
    EXPECT_EQ(parsed.error().detail["field"], it.key());
    EXPECT_NE(parsed.error().message.find(it.key()), std::string::npos);
  }
  Json t = j;
  t["hardware"].erase("cpu_cores");
  auto parsed = parse_node_manifest(t);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().detail["field"], "hardware.cpu_cores");
  t = j;
  t["capabilities"][0].erase("schema_hash");
  parsed = parse_node_manifest(t);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().detail["field"], "capabilities[0].schema_hash");
}

TEST_F(IdentityNodeManifest, WrongTypesAreBadManifest) {
  const Json j = build().to_json();
  struct Case {
    std::string field;
    std::function<void(Json&)> mutate;
  };
  const std::vector<Case> cases = {
      {"version", [](Json& x) { x["version"] = "1"; }},
      {"contract_version", [](Json& x) { x["contract_version"] = "one"; }},
      {"node_id", [](Json& x) { x["node_id"] = "ed25519:ABCD-EFGH-IJKL-MNOP"; }},
      {"display_name", [](Json& x) { x["display_name"] = 7; }},
      {"community_id", [](Json& x) { x["community_id"] = "nope"; }},
      {"profile", [](Json& x) { x["profile"] = "server"; }},
      {"endpoints", [](Json& x) { x["endpoints"] = Json::object(); }},
      {"endpoints[0]", [](Json& x) { x["endpoints"][0] = "https://x"; }},
      {"endpoints[0].port", [](Json& x) { x["endpoints"][0]["port"] = 70000; }},
      {"endpoints[0].port", [](Json& x) { x["endpoints"][0]["port"] = 80.5; }},
      {"hardware", [](Json& x) { x["hardware"] = nullptr; }},
      {"hardware.gpu", [](Json& x) { x["hardware"]["gpu"] = 5; }},
      {"hardware.vram_gb", [](Json& x) { x["hardware"]["vram_gb"] = "32"; }},
      {"hardware.ram_gb", [](Json& x) { x["hardware"]["ram_gb"] = -1; }},
      {"capabilities[0].version", [](Json& x) { x["capabilities"][0]["version"] = "1"; }},
      {"capabilities[0].stability", [](Json& x) { x["capabilities"][0]["stability"] = "ga"; }},
      {"capabilities[0].schema_hash",
       [](Json& x) { x["capabilities"][0]["schema_hash"] = "blake3:zz"; }},
      {"capabilities[0].params", [](Json& x) { x["capabilities"][0]["params"] = Json::array(); }},
      {"capabilities[0].max_concurrent",
       [](Json& x) { x["capabilities"][0]["max_concurrent"] = 0; }},
      {"uptime_seconds", [](Json& x) { x["uptime_seconds"] = true; }},
      {"load", [](Json& x) { x["load"] = 3; }},
      {"issued_at", [](Json& x) { x["issued_at"] = "2026-05-26 08:14:22"; }},
      {"expires_at", [](Json& x) { x["expires_at"] = "2026-05-26T08:14:22+02:00"; }},
      {"signature", [](Json& x) { x["signature"] = nullptr; }},
  };
  for (const auto& c : cases) {
    Json t = j;
    c.mutate(t);
    auto parsed = parse_node_manifest(t);
    ASSERT_FALSE(parsed.has_value()) << c.field;
    EXPECT_EQ(parsed.error().code, ErrorCode::bad_manifest) << c.field;
    EXPECT_EQ(parsed.error().detail["field"], c.field) << parsed.error().message;
  }
  EXPECT_EQ(parse_node_manifest(Json::array()).error().code, ErrorCode::bad_manifest);
  EXPECT_EQ(parse_node_manifest(std::string_view("{not json")).error().code,
            ErrorCode::bad_manifest);
}

TEST_F(IdentityNodeManifest, UnknownFieldsRefusedForOurContractKeptForNewer) {
  Json j = build().to_json();
  j["surprise"] = 1;
  auto parsed = parse_node_manifest(j);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().detail["field"], "surprise");
  Json nested = build().to_json();
  nested["endpoints"][0]["tls"] = true;
  parsed = parse_node_manifest(nested);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().detail["field"], "endpoints[0].tls");

  // A 1.1 node adds a field and signs it: we keep it and the signature verifies.
  Json newer = build().to_json();
  newer["contract_version"] = "1.1";
  newer["region"] = Json{{"name", "Niederrhein"}};
  newer = sign_payload(newer, keys);
  parsed = parse_node_manifest(newer);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
  EXPECT_EQ(parsed->extra["region"]["name"], "Niederrhein");
  EXPECT_TRUE(verify_node_manifest(*parsed, clock).has_value());
  EXPECT_EQ(parsed->to_json(), newer);
  // Dropping or changing the extra field breaks the signature.
  parsed->extra["region"]["name"] = "Elsewhere";
  EXPECT_EQ(verify_node_manifest(*parsed, clock).error().code, ErrorCode::invalid_signature);
}

TEST_F(IdentityNodeManifest, KeyPinningRejectsSecondKey) {
  KeyPinStore pins;
  NodeManifest m = build();
  ASSERT_TRUE(verify_node_manifest(m, clock, &pins).has_value());
  EXPECT_EQ(pins.pinned(m.node_id.str()), keys.public_key());
  EXPECT_TRUE(verify_node_manifest(m, clock, &pins).has_value());
  // A different key later presented for the same node id (e.g. its TLS certificate).
  KeyPair other = KeyPair::generate();
  auto st = pins.check_or_pin(m.node_id.str(), other.public_key());
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::invalid_signature);
  EXPECT_TRUE(pins.check_or_pin(m.node_id.str(), keys.public_key()).has_value());
  // A pre-pinned wrong key makes the manifest fail.
  KeyPinStore poisoned;
  ASSERT_TRUE(poisoned.check_or_pin(m.node_id.str(), other.public_key()).has_value());
  EXPECT_EQ(verify_node_manifest(m, clock, &poisoned).error().code,
            ErrorCode::invalid_signature);
  EXPECT_EQ(pins.size(), 1u);
}

TEST(IdentityVerificationCache, CachesResultsForTtl) {
  ManualClock clock;
  VerificationCache cache(clock);
  KeyPair kp = KeyPair::generate();
  Json p = sign_payload(Json{{"a", 1}}, kp);
  EXPECT_TRUE(cache.verify_payload(p, kp.public_key()).has_value());
  EXPECT_TRUE(cache.verify_payload(p, kp.public_key()).has_value());
  EXPECT_EQ(cache.misses(), 1u);
  EXPECT_EQ(cache.hits(), 1u);
  // Same bytes under another key: a different entry, and the right answer.
  KeyPair other = KeyPair::generate();
  EXPECT_EQ(cache.verify_payload(p, other.public_key()).error().code,
            ErrorCode::invalid_signature);
  EXPECT_EQ(cache.verify_payload(p, other.public_key()).error().code,
            ErrorCode::invalid_signature);
  EXPECT_EQ(cache.hits(), 2u);
  // Tampered payload: a miss, and a failure.
  Json t = p;
  t["a"] = 2;
  EXPECT_EQ(cache.verify_payload(t, kp.public_key()).error().code, ErrorCode::invalid_signature);
  EXPECT_EQ(cache.misses(), 3u);
  clock.advance_ms(VERIFICATION_CACHE_TTL_MS);
  EXPECT_TRUE(cache.verify_payload(p, kp.public_key()).has_value());
  EXPECT_EQ(cache.misses(), 4u);
}

TEST(IdentityVerificationCache, StaysBounded) {
  ManualClock clock;
  VerificationCache cache(clock, 60'000, 4);
  KeyPair kp = KeyPair::generate();
  for (int i = 0; i < 10; ++i) {
    Json p = sign_payload(Json{{"i", i}}, kp);
    EXPECT_TRUE(cache.verify_payload(p, kp.public_key()).has_value());
    EXPECT_LE(cache.size(), 4u);
  }
}

TEST_F(IdentityNodeManifest, VerifyThroughCache) {
  VerificationCache cache(clock);
  NodeManifest m = build();
  EXPECT_TRUE(verify_node_manifest(m, clock, nullptr, &cache).has_value());
  EXPECT_TRUE(verify_node_manifest(m, clock, nullptr, &cache).has_value());
  EXPECT_EQ(cache.hits(), 1u);
  m.display_name = "changed";
  EXPECT_EQ(verify_node_manifest(m, clock, nullptr, &cache).error().code,
            ErrorCode::invalid_signature);
}

// ---------------------------------------------------------------------------------------------
// Community manifest

class IdentityCommunityManifest : public ::testing::Test {
 protected:
  KeyPair root = KeyPair::generate();
  ManualClock clock{1'780'000'000'000};
  CommunityManifest genesis() {
    return build_community_manifest(root, "Niederrhein Demo", CommunityPolicy{}, clock);
  }
  // A state with more members, as the event log's community view would hold it.
  Json grown_state(const CommunityManifest& base, const KeyPair& anchor, const KeyPair& member,
                   const KeyPair& gone) {
    Json s = base.to_json();
    s.erase("signature");
    const std::string at = format_rfc3339(clock.now_seconds() + 60);
    s["members"].push_back(Json{{"node_id", anchor.node_id().str()}, {"level", "anchor"},
                                {"added_at", at}, {"added_by", root.node_id().str()}});
    s["members"].push_back(Json{{"node_id", member.node_id().str()}, {"level", "member"},
                                {"added_at", at}, {"added_by", anchor.node_id().str()}});
    s["members"].push_back(Json{{"node_id", gone.node_id().str()}, {"level", "trusted"},
                                {"added_at", at}, {"added_by", root.node_id().str()}});
    s["revoked"].push_back(Json{{"node_id", gone.node_id().str()}, {"revoked_at", at}});
    s["head_lamport"] = 4218;
    return s;
  }
};

TEST_F(IdentityCommunityManifest, GenesisRootIsSoleAnchor) {
  CommunityManifest cm = genesis();
  EXPECT_EQ(cm.version, 1);
  EXPECT_EQ(cm.community_id.str(), root.node_id().str());
  EXPECT_EQ(cm.root_key, root.node_id());
  EXPECT_EQ(cm.lamport_at_creation, 0);
  EXPECT_EQ(cm.head_lamport, 0);
  ASSERT_EQ(cm.members.size(), 1u);
  EXPECT_EQ(cm.members[0].node_id, root.node_id());
  EXPECT_EQ(cm.members[0].level, TrustLevel::anchor);
  EXPECT_EQ(cm.members[0].added_by, root.node_id());
  EXPECT_EQ(cm.members[0].added_at, cm.created_at);
  EXPECT_TRUE(cm.revoked.empty());
  auto signer = verify_community_manifest(cm);
  ASSERT_TRUE(signer.has_value()) << signer.error().to_string();
  EXPECT_EQ(*signer, root.node_id());
  EXPECT_TRUE(verify_payload_with_node_id(cm.to_json(), root.node_id().str()).has_value());
}

TEST_F(IdentityCommunityManifest, JsonShapeAndRoundTrip) {
  CommunityManifest cm = genesis();
  Json j = cm.to_json();
  for (const char* key : {"version", "community_id", "name", "root_key", "created_at",
                          "lamport_at_creation", "policy", "members", "revoked",
                          "head_lamport", "signature"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j.size(), 11u);
  EXPECT_EQ(j["policy"], (Json{{"min_signatures_to_invite", 1},
                               {"min_signatures_to_demote", 3},
                               {"min_signatures_to_revoke", 3},
                               {"capability_token_ttl_seconds", 86400},
                               {"federation_enabled", true},
                               {"default_member_can_invite", true}}));
  auto parsed = parse_community_manifest(std::string_view(j.dump(1)));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
  EXPECT_EQ(*parsed, cm);
  EXPECT_TRUE(verify_community_manifest(*parsed).has_value());
}

TEST_F(IdentityCommunityManifest, TamperIsInvalidSignature) {
  Json j = genesis().to_json();
  for (const auto& mutate : std::vector<std::function<void(Json&)>>{
           [](Json& x) { x["name"] = "Other"; },
           [](Json& x) { x["head_lamport"] = 1; },
           [](Json& x) { x["policy"]["min_signatures_to_revoke"] = 1; },
           [](Json& x) { x["members"][0]["level"] = "trusted"; },
           [](Json& x) { x["signature"] = "ed25519:AAAA"; }}) {
    Json t = j;
    mutate(t);
    auto parsed = parse_community_manifest(t);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
    auto st = verify_community_manifest(*parsed);
    ASSERT_FALSE(st.has_value()) << t.dump();
    EXPECT_EQ(st.error().code, ErrorCode::invalid_signature);
  }
}

TEST_F(IdentityCommunityManifest, SelfAddedAnchorCannotHijackAuthority) {
  // An outsider lists itself as anchor and signs: valid on its own, refused against the
  // trusted previous manifest.
  CommunityManifest cm = genesis();
  KeyPair outsider = KeyPair::generate();
  CommunityManifest forged = cm;
  forged.members.push_back(
      CommunityMember{outsider.node_id(), TrustLevel::anchor, cm.created_at, outsider.node_id()});
  forged.head_lamport = 5;
  auto signed_forged = sign_community_manifest(forged, outsider);
  ASSERT_TRUE(signed_forged.has_value());
  EXPECT_TRUE(verify_community_manifest(*signed_forged).has_value());
  auto st = verify_community_manifest(*signed_forged, &cm);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::invalid_signature);
}

TEST_F(IdentityCommunityManifest, RootKeyMustMatchCommunityId) {
  CommunityManifest cm = genesis();
  KeyPair other = KeyPair::generate();
  cm.community_id = CommunityId(other.node_id().str());
  cm = *sign_community_manifest(cm, root);
  auto st = verify_community_manifest(cm);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::bad_manifest);
  EXPECT_EQ(st.error().detail["field"], "community_id");
}

TEST_F(IdentityCommunityManifest, MissingOrMistypedFieldIsBadManifest) {
  const Json j = genesis().to_json();
  for (auto it = j.begin(); it != j.end(); ++it) {
    Json t = j;
    t.erase(it.key());
    auto parsed = parse_community_manifest(t);
    ASSERT_FALSE(parsed.has_value()) << it.key();
    EXPECT_EQ(parsed.error().code, ErrorCode::bad_manifest);
    EXPECT_EQ(parsed.error().detail["field"], it.key());
  }
  struct Case {
    std::string field;
    std::function<void(Json&)> mutate;
  };
  const std::vector<Case> cases = {
      {"policy.federation_enabled", [](Json& x) { x["policy"]["federation_enabled"] = 1; }},
      {"policy.min_signatures_to_invite",
       [](Json& x) { x["policy"].erase("min_signatures_to_invite"); }},
      {"policy.extra", [](Json& x) { x["policy"]["extra"] = 1; }},
      {"members[0].level", [](Json& x) { x["members"][0]["level"] = "self"; }},
      {"members[0].node_id", [](Json& x) { x["members"][0]["node_id"] = "bob"; }},
      {"members[0].added_at", [](Json& x) { x["members"][0]["added_at"] = 0; }},
      {"revoked[0].revoked_at",
       [](Json& x) { x["revoked"] = Json::array({Json{{"node_id", x["root_key"]}}}); }},
      {"head_lamport", [](Json& x) { x["head_lamport"] = -1; }},
      {"root_key", [](Json& x) { x["root_key"] = "ed25519:short"; }},
      {"unknown", [](Json& x) { x["unknown"] = Json::object(); }},
  };
  for (const auto& c : cases) {
    Json t = j;
    c.mutate(t);
    auto parsed = parse_community_manifest(t);
    ASSERT_FALSE(parsed.has_value()) << c.field;
    EXPECT_EQ(parsed.error().code, ErrorCode::bad_manifest);
    EXPECT_EQ(parsed.error().detail["field"], c.field) << parsed.error().message;
  }
}

TEST_F(IdentityCommunityManifest, MembershipLevelsAndRevokedWins) {
  CommunityManifest cm = genesis();
  KeyPair anchor = KeyPair::generate(), member = KeyPair::generate(), gone = KeyPair::generate();
  auto regenerated =
      regenerate_community_manifest_from_state(grown_state(cm, anchor, member, gone), root);
  ASSERT_TRUE(regenerated.has_value()) << regenerated.error().to_string();
  const CommunityManifest& r = *regenerated;
  EXPECT_EQ(r.level_of(root.node_id()), TrustLevel::anchor);
  EXPECT_EQ(r.level_of(anchor.node_id()), TrustLevel::anchor);
  EXPECT_EQ(r.level_of(member.node_id()), TrustLevel::member);
  EXPECT_TRUE(r.is_member(member.node_id()));
  // Listed as trusted but also revoked: revoked wins.
  EXPECT_TRUE(r.is_revoked(gone.node_id()));
  EXPECT_FALSE(r.is_member(gone.node_id()));
  EXPECT_EQ(r.level_of(gone.node_id()), std::nullopt);
  KeyPair stranger = KeyPair::generate();
  EXPECT_FALSE(r.is_member(stranger.node_id()));
  EXPECT_FALSE(r.is_revoked(stranger.node_id()));
  EXPECT_EQ(r.level_of(stranger.node_id()), std::nullopt);
  EXPECT_TRUE(r.may_sign(anchor.node_id()));
  EXPECT_FALSE(r.may_sign(member.node_id()));
  EXPECT_FALSE(r.may_sign(gone.node_id()));
}

TEST_F(IdentityCommunityManifest, AnchorMayRegenerateMemberMayNot) {
  CommunityManifest cm = genesis();
  KeyPair anchor = KeyPair::generate(), member = KeyPair::generate(), gone = KeyPair::generate();
  Json state = grown_state(cm, anchor, member, gone);
  auto by_root = regenerate_community_manifest_from_state(state, root);
  ASSERT_TRUE(by_root.has_value());

  auto by_anchor = regenerate_community_manifest_from_state(state, anchor);
  ASSERT_TRUE(by_anchor.has_value()) << by_anchor.error().to_string();
  EXPECT_EQ(by_anchor->head_lamport, 4218);
  auto signer = verify_community_manifest(*by_anchor, &*by_root);
  ASSERT_TRUE(signer.has_value()) << signer.error().to_string();
  EXPECT_EQ(*signer, anchor.node_id());
  // The anchor was not an anchor at genesis: against that authority the signature is refused.
  EXPECT_EQ(verify_community_manifest(*by_anchor, &cm).error().code,
            ErrorCode::invalid_signature);

  for (const KeyPair* kp : {&member, &gone}) {
    auto refused = regenerate_community_manifest_from_state(state, *kp);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, ErrorCode::unauthorized);
  }
  Json bad = state;
  bad["members"][1]["level"] = "overlord";
  EXPECT_EQ(regenerate_community_manifest_from_state(bad, root).error().code,
            ErrorCode::bad_manifest);
}

// The events layer's CommunityView snapshot (events/community_view.cpp) has extra keys.
TEST_F(IdentityCommunityManifest, RegeneratesFromCommunityViewSnapshot) {
  CommunityManifest cm = genesis();
  KeyPair member = KeyPair::generate(), gone = KeyPair::generate();
  const std::string at = cm.created_at;
  Json view{
      {"created", true},
      {"name", cm.name},
      {"root_key", root.node_id().str()},
      {"created_at", at},
      {"lamport_at_creation", 1},
      {"policy", CommunityPolicy{}.to_json()},
      {"members", Json::array({Json{{"node_id", root.node_id().str()}, {"level", "anchor"},
                                    {"added_at", at}, {"added_by", root.node_id().str()},
                                    {"display_name", "root"}, {"lamport", 1}},
                               Json{{"node_id", member.node_id().str()}, {"level", "trusted"},
                                    {"added_at", at}, {"added_by", root.node_id().str()},
                                    {"display_name", "Hannes' Tablet"}, {"lamport", 3}}})},
      {"invites", Json::array({Json{{"invitee", gone.node_id().str()}}})},
      {"pending_joins", Json::array()},
      {"revoked", Json::array({Json{{"node_id", gone.node_id().str()}, {"revoked_at", at},
                                    {"revoked_by", root.node_id().str()},
                                    {"reason", "compromised"}, {"lamport", 9}}})},
      {"head_lamport", 9}};
  auto r = regenerate_community_manifest_from_state(view, root);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->community_id.str(), root.node_id().str());
  EXPECT_EQ(r->version, 1);
  EXPECT_EQ(r->head_lamport, 9);
  EXPECT_EQ(r->lamport_at_creation, 1);
  EXPECT_EQ(r->level_of(member.node_id()), TrustLevel::trusted);
  EXPECT_TRUE(r->is_revoked(gone.node_id()));
  EXPECT_EQ(r->to_json()["members"][1].size(), 4u);  // view-only keys dropped
  EXPECT_EQ(r->to_json()["revoked"][0].size(), 2u);
  EXPECT_TRUE(verify_community_manifest(*r, &cm).has_value());

  Json not_created = view;
  not_created["created"] = false;
  auto refused = regenerate_community_manifest_from_state(not_created, root);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::bad_manifest);
  Json broken = view;
  broken["members"][1].erase("added_by");
  refused = regenerate_community_manifest_from_state(broken, root);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().detail["field"], "members[1].added_by");
}

TEST_F(IdentityCommunityManifest, RollbackAgainstAuthorityIsRefused) {
  CommunityManifest cm = genesis();
  KeyPair anchor = KeyPair::generate(), member = KeyPair::generate(), gone = KeyPair::generate();
  auto newer = regenerate_community_manifest_from_state(grown_state(cm, anchor, member, gone), root);
  ASSERT_TRUE(newer.has_value());
  auto st = verify_community_manifest(cm, &*newer);  // an old, validly signed manifest
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::bad_manifest);
  EXPECT_EQ(st.error().detail["field"], "head_lamport");
}

TEST_F(IdentityCommunityManifest, DuplicateMemberIsBadManifest) {
  CommunityManifest cm = genesis();
  cm.members.push_back(cm.members[0]);
  cm = *sign_community_manifest(cm, root);
  auto st = verify_community_manifest(cm);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::bad_manifest);
}

TEST_F(IdentityCommunityManifest, SaveLoadAndLoadOrRegenerate) {
  test::TempDir dir;
  const auto state_dir = dir / "communities" / "c1";
  CommunityManifest cm = genesis();
  EXPECT_EQ(load_or_regenerate(state_dir).error().code, ErrorCode::not_found);

  ASSERT_TRUE(save_community_manifest(state_dir, cm).has_value());
  auto loaded = load_or_regenerate(state_dir);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().to_string();
  EXPECT_EQ(*loaded, cm);

  // A newer materialised state: regenerated, saved, and returned.
  KeyPair anchor = KeyPair::generate(), member = KeyPair::generate(), gone = KeyPair::generate();
  Json state = grown_state(cm, anchor, member, gone);
  auto fresh = load_or_regenerate(state_dir, &root, &state);
  ASSERT_TRUE(fresh.has_value()) << fresh.error().to_string();
  EXPECT_EQ(fresh->head_lamport, 4218);
  auto reloaded = load_community_manifest(state_dir);
  ASSERT_TRUE(reloaded.has_value());
  EXPECT_EQ(*reloaded, *fresh);

  // Same head again: the stored one comes back untouched.
  auto again = load_or_regenerate(state_dir, &root, &state);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->signature, fresh->signature);

  // A member that may not sign keeps the stored manifest.
  Json newer_state = state;
  newer_state["head_lamport"] = 5000;
  auto kept = load_or_regenerate(state_dir, &member, &newer_state);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->head_lamport, 4218);
}

TEST_F(IdentityCommunityManifest, CorruptStoredManifestIsReportedOrReplaced) {
  test::TempDir dir;
  ASSERT_TRUE(atomic_write_file(dir / COMMUNITY_MANIFEST_FILE, "{\"version\":").has_value());
  auto r = load_or_regenerate(dir.path());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::bad_manifest);

  Json j = genesis().to_json();
  j["name"] = "tampered on disk";
  ASSERT_TRUE(atomic_write_file(dir / COMMUNITY_MANIFEST_FILE, j.dump()).has_value());
  EXPECT_EQ(load_community_manifest(dir.path()).error().code, ErrorCode::invalid_signature);

  Json state = genesis().to_json();
  state.erase("signature");
  auto replaced = load_or_regenerate(dir.path(), &root, &state);
  ASSERT_TRUE(replaced.has_value()) << replaced.error().to_string();
  EXPECT_TRUE(load_community_manifest(dir.path()).has_value());
}

}  // namespace
}  // namespace hn::identity
