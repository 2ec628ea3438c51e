// keys_test.cpp — M01 §3.1 / §4 / §8: Ed25519 key files, node id forms, signed payloads.
#include "identity/keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>

#include "core/encoding.h"
#include "support/test_support.h"

namespace hn::identity {
namespace {

namespace fs = std::filesystem;

Seed seed_from_hex(std::string_view hex) {
  auto raw = hex_decode(hex);
  Seed s{};
  EXPECT_TRUE(raw.has_value());
  if (raw && raw->size() == 32) std::copy(raw->begin(), raw->end(), s.begin());
  return s;
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0);
  return st.st_mode & 07777;
}

void write_raw(const fs::path& p, std::string_view bytes, unsigned mode) {
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  ::chmod(p.c_str(), mode);
}

// RFC 8032 §7.1, TEST 1.
constexpr std::string_view RFC8032_SEED =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr std::string_view RFC8032_PUBLIC =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr std::string_view RFC8032_EMPTY_SIG =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

TEST(IdentityKeys, Rfc8032Vector) {
  auto kp = KeyPair::from_seed(seed_from_hex(RFC8032_SEED));
  ASSERT_TRUE(kp.has_value());
  EXPECT_EQ(hex_encode(kp->public_key()), RFC8032_PUBLIC);
  auto sig = kp->sign_raw({});
  EXPECT_EQ(hex_encode(sig), RFC8032_EMPTY_SIG);
  auto sig_raw = hex_decode(RFC8032_EMPTY_SIG);
  ASSERT_TRUE(sig_raw.has_value());
  EXPECT_EQ(kp->sign_bytes({}), "ed25519:" + base64url_encode(*sig_raw));
  EXPECT_TRUE(verify_bytes({}, kp->sign_bytes({}), kp->public_key()).has_value());
}

TEST(IdentityKeys, FromSeedRejectsWrongSize) {
  std::array<std::uint8_t, 31> short_seed{};
  auto kp = KeyPair::from_seed(short_seed);
  ASSERT_FALSE(kp.has_value());
  EXPECT_EQ(kp.error().code, ErrorCode::keys_invalid);
}

TEST(IdentityKeys, SaveLoadRoundTrip) {
  test::TempDir dir;
  const auto keys_dir = dir / "keys";
  KeyPair kp = KeyPair::generate();
  ASSERT_TRUE(save_keys(kp, keys_dir).has_value());
  auto loaded = load_keys(keys_dir);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().to_string();
  EXPECT_EQ(loaded->public_key(), kp.public_key());
  EXPECT_EQ(loaded->seed(), kp.seed());
  EXPECT_EQ(loaded->node_id(), kp.node_id());
}

TEST(IdentityKeys, FilesHaveSpecModes) {
  test::TempDir dir;
  const auto keys_dir = dir / "keys";
  ASSERT_TRUE(save_keys(KeyPair::generate(), keys_dir).has_value());
  EXPECT_EQ(mode_of(keys_dir / SIGNING_KEY_FILE), 0600u);
  EXPECT_EQ(mode_of(keys_dir / VERIFY_KEY_FILE), 0644u);
  EXPECT_EQ(fs::file_size(keys_dir / SIGNING_KEY_FILE), 32u);
  EXPECT_EQ(fs::file_size(keys_dir / VERIFY_KEY_FILE), 32u);
}

TEST(IdentityKeys, WorldReadableSeedIsRefused) {
  test::TempDir dir;
  const auto keys_dir = dir / "keys";
  ASSERT_TRUE(save_keys(KeyPair::generate(), keys_dir).has_value());
  ::chmod((keys_dir / SIGNING_KEY_FILE).c_str(), 0644);
  auto loaded = load_keys(keys_dir);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, ErrorCode::keys_permissions);
  EXPECT_NE(loaded.error().message.find("chmod 600"), std::string::npos);
}

TEST(IdentityKeys, WrongSizeSeedIsInvalid) {
  test::TempDir dir;
  fs::create_directories(dir.path());
  write_raw(dir / SIGNING_KEY_FILE, std::string(31, 'x'), 0600);
  auto loaded = load_keys(dir.path());
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, ErrorCode::keys_invalid);
}

TEST(IdentityKeys, MismatchedPublicFileIsInvalid) {
  test::TempDir dir;
  ASSERT_TRUE(save_keys(KeyPair::generate(), dir.path()).has_value());
  KeyPair other = KeyPair::generate();
  write_raw(dir / VERIFY_KEY_FILE, as_chars(other.public_key()), 0644);
  auto loaded = load_keys(dir.path());
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, ErrorCode::keys_invalid);
}

TEST(IdentityKeys, MissingKeyIsReported) {
  test::TempDir dir;
  auto loaded = load_keys(dir / "nothing-here");
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, ErrorCode::keys_missing);
}

TEST(IdentityKeys, LoadOrGenerateCreatesThenReloads) {
  test::TempDir dir;
  const auto keys_dir = dir / "keys";
  auto first = load_or_generate_keys(keys_dir);
  ASSERT_TRUE(first.has_value()) << first.error().to_string();
  EXPECT_TRUE(fs::exists(keys_dir / SIGNING_KEY_FILE));
  auto second = load_or_generate_keys(keys_dir);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->node_id(), second->node_id());
}

TEST(IdentityKeys, LoadOrGenerateDoesNotOverwriteBadKey) {
  test::TempDir dir;
  write_raw(dir / SIGNING_KEY_FILE, std::string(32, 'k'), 0644);
  auto r = load_or_generate_keys(dir.path());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::keys_permissions);
}

TEST(IdentityKeys, FullNodeIdRoundTrip) {
  KeyPair kp = KeyPair::generate();
  const NodeId id = kp.node_id();
  EXPECT_EQ(id.str().rfind("ed25519:", 0), 0u);
  EXPECT_EQ(id.str().size(), 8u + 43u);
  auto parsed = parse_node_id(id.str());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, kp.public_key());
  EXPECT_EQ(full_node_id(*parsed), id);
}

TEST(IdentityKeys, ParseNodeIdRejectsShortFormAndGarbage) {
  KeyPair kp = KeyPair::generate();
  const std::string full = kp.node_id().str();
  for (const std::string& bad :
       {kp.short_id(), std::string(""), std::string("ed25519:"), std::string("garbage"),
        "ed448:" + full.substr(8), full.substr(0, full.size() - 1), full + "A",
        "ed25519:" + std::string(43, '!'), "ED25519:" + full.substr(8)}) {
    auto r = parse_node_id(bad);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::bad_node_id) << bad;
    }
  }
}

TEST(IdentityKeys, ShortIdIsBase32OfFirstTenBytes) {
  KeyPair kp = KeyPair::generate();
  const std::string s = kp.short_id();
  EXPECT_TRUE(std::regex_match(s, std::regex("ed25519:[A-Z2-7]{4}(-[A-Z2-7]{4}){3}"))) << s;
  const std::string b32 = base32_encode(std::span(kp.public_key()).first(10));
  ASSERT_EQ(b32.size(), 16u);
  EXPECT_EQ(s, "ed25519:" + b32.substr(0, 4) + "-" + b32.substr(4, 4) + "-" + b32.substr(8, 4) +
                   "-" + b32.substr(12, 4));
  // The RFC 8032 key: d7 5a 98 01 82 b1 0a b7 d5 4b → RFC 4648 base32 "25NJQAMCWEFLPVKL".
  auto rfc = KeyPair::from_seed(seed_from_hex(RFC8032_SEED));
  ASSERT_TRUE(rfc.has_value());
  EXPECT_EQ(rfc->short_id(), "ed25519:25NJ-QAMC-WEFL-PVKL");
  EXPECT_EQ(short_node_id(rfc->public_key()), rfc->short_id());
}

TEST(IdentityKeys, SignVerifyPayload) {
  KeyPair kp = KeyPair::generate();
  Json payload = {{"b", 2}, {"a", "x"}, {"nested", {{"z", true}, {"y", nullptr}}}};
  Json signed_payload = sign_payload(payload, kp);
  ASSERT_TRUE(signed_payload.contains("signature"));
  EXPECT_TRUE(verify_payload(signed_payload, kp.public_key()).has_value());
  EXPECT_TRUE(verify_payload_with_node_id(signed_payload, kp.node_id().str()).has_value());
  EXPECT_EQ(kp.sign(payload), signed_payload);
  // Re-signing a signed payload replaces the signature rather than signing it.
  EXPECT_EQ(sign_payload(signed_payload, kp), signed_payload);
  // Key order and whitespace in the transmitted text do not matter (canonical JSON).
  auto reparsed = parse_json(signed_payload.dump(2));
  ASSERT_TRUE(reparsed.has_value());
  EXPECT_TRUE(verify_payload(*reparsed, kp.public_key()).has_value());
}

TEST(IdentityKeys, VerifyRejectsOtherKeyAndMissingSignature) {
  KeyPair kp = KeyPair::generate();
  KeyPair other = KeyPair::generate();
  Json signed_payload = sign_payload(Json{{"k", "v"}}, kp);
  auto r = verify_payload(signed_payload, other.public_key());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_signature);
  EXPECT_EQ(verify_payload(Json{{"k", "v"}}, kp.public_key()).error().code,
            ErrorCode::invalid_signature);
  EXPECT_EQ(verify_payload(Json::array(), kp.public_key()).error().code,
            ErrorCode::invalid_signature);
  EXPECT_EQ(verify_payload_with_node_id(signed_payload, kp.short_id()).error().code,
            ErrorCode::invalid_signature);
}

// CONTRACT §10: the signed bytes are the canonical JSON of the payload minus "signature";
// verify_payload and VerificationCache::verify_payload share this one split.
TEST(IdentityKeys, SplitSignedPayload) {
  KeyPair kp = KeyPair::generate();
  Json payload = {{"b", 2}, {"a", "x"}};
  Json signed_payload = sign_payload(payload, kp);
  auto split = split_signed_payload(signed_payload);
  ASSERT_TRUE(split.has_value()) << split.error().message;
  EXPECT_EQ(split->message, canonical_json(payload));
  EXPECT_EQ(split->signature, signed_payload["signature"].get<std::string>());
  EXPECT_TRUE(
      verify_bytes(as_bytes(split->message), split->signature, kp.public_key()).has_value());

  auto message_of = [](const Json& p) {
    auto r = split_signed_payload(p);
    EXPECT_FALSE(r.has_value());
    if (r.has_value()) return std::string();
    EXPECT_EQ(r.error().code, ErrorCode::invalid_signature);
    return r.error().message;
  };
  EXPECT_EQ(message_of(Json::array()), "payload is not an object");
  EXPECT_EQ(message_of(payload), "payload carries no signature");
  EXPECT_EQ(message_of(Json{{"signature", 7}}), "payload carries no signature");
  Json not_canonical = signed_payload;
  not_canonical["x"] = std::numeric_limits<double>::infinity();
  EXPECT_EQ(message_of(not_canonical), "payload has no canonical form");
  EXPECT_EQ(verify_payload(not_canonical, kp.public_key()).error().message,
            "payload has no canonical form");
}

// M01 §8 test_verify_fails_on_modified_field: every single flipped byte breaks verification.
TEST(IdentityKeys, AnyFlippedByteInvalidates) {
  KeyPair kp = KeyPair::generate();
  const std::string message = R"({"community_id":"c","n":42,"title":"Äpfel abzugeben"})";
  const Signature sig = kp.sign_bytes(as_bytes(message));
  ASSERT_TRUE(verify_bytes(as_bytes(message), sig, kp.public_key()).has_value());
  for (std::size_t i = 0; i < message.size(); ++i) {
    std::string m = message;
    m[i] = static_cast<char>(m[i] ^ 0x01);
    auto r = verify_bytes(as_bytes(m), sig, kp.public_key());
    ASSERT_FALSE(r.has_value()) << "message byte " << i;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_signature);
  }
  const RawSignature raw = kp.sign_raw(as_bytes(message));
  for (std::size_t i = 0; i < raw.size(); ++i) {
    RawSignature bad = raw;
    bad[i] ^= 0x01;
    auto r = verify_bytes(as_bytes(message), "ed25519:" + base64url_encode(bad), kp.public_key());
    ASSERT_FALSE(r.has_value()) << "signature byte " << i;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_signature);
  }
  EXPECT_FALSE(verify_bytes(as_bytes(message), sig.substr(8), kp.public_key()).has_value());
  EXPECT_FALSE(verify_bytes(as_bytes(message), "ed25519:!!", kp.public_key()).has_value());
}

TEST(IdentityKeys, ModifiedPayloadFieldInvalidates) {
  KeyPair kp = KeyPair::generate();
  Json p = sign_payload(Json{{"amount", 1}, {"to", "bob"}}, kp);
  Json changed = p;
  changed["to"] = "bOb";
  EXPECT_EQ(verify_payload(changed, kp.public_key()).error().code, ErrorCode::invalid_signature);
  changed = p;
  changed["extra"] = 1;
  EXPECT_EQ(verify_payload(changed, kp.public_key()).error().code, ErrorCode::invalid_signature);
  changed = p;
  std::string s = changed["signature"];
  s[20] = s[20] == 'A' ? 'B' : 'A';
  changed["signature"] = s;
  EXPECT_EQ(verify_payload(changed, kp.public_key()).error().code, ErrorCode::invalid_signature);
}

}  // namespace
}  // namespace hn::identity
