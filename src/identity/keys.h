// keys.h — a node's Ed25519 identity (M01 §3.1): generate, save (0600), load with a
// permission check, node id forms, and signing / verifying canonical-JSON payloads
// (CONTRACT §1.3, §10).
//
// Thread-safety: KeyPair is immutable after construction; safe to share across threads.
// Invariants: a KeyPair's public key is always the one derived from its seed.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/json.h"
#include "core/types.h"

namespace hn::identity {

using PublicKey = std::array<std::uint8_t, 32>;
using Seed = std::array<std::uint8_t, 32>;
using RawSignature = std::array<std::uint8_t, 64>;

inline constexpr const char* SIGNING_KEY_FILE = "device.ed25519";  // M01 §4, raw seed, 0600
inline constexpr const char* VERIFY_KEY_FILE = "device.pub";       // M01 §4, raw key, 0644

class KeyPair {
 public:
  // A fresh random identity.
  static KeyPair generate();
  // The identity for a 32-byte seed (the on-disk form).
  static Result<KeyPair> from_seed(std::span<const std::uint8_t> seed);

  KeyPair(const KeyPair&) = default;
  KeyPair& operator=(const KeyPair&) = default;
  ~KeyPair();

  const PublicKey& public_key() const { return m_public; }
  const Seed& seed() const { return m_seed; }
  // "ed25519:<base64url-nopad of the public key>".
  NodeId node_id() const;
  // "ed25519:XXXX-XXXX-XXXX-XXXX" (display only).
  std::string short_id() const;

  RawSignature sign_raw(std::span<const std::uint8_t> message) const;
  // "ed25519:<base64url-nopad signature>".
  Signature sign_bytes(std::span<const std::uint8_t> message) const;
  // payload minus any "signature" field, signed over its canonical JSON, with
  // "signature" added back (CONTRACT §10).
  Json sign(const Json& payload) const;

 private:
  KeyPair() = default;
  Seed m_seed{};
  std::array<std::uint8_t, 64> m_secret{};  // libsodium's seed‖public form
  PublicKey m_public{};
};

// Loads <keys_dir>/device.ed25519; keys_missing, keys_permissions (group/other can read),
// keys_invalid (wrong size, or device.pub disagrees).
Result<KeyPair> load_keys(const std::filesystem::path& keys_dir);
// Writes both files atomically: the seed 0600, the public key 0644; the directory 0700.
Status save_keys(const KeyPair& keys, const std::filesystem::path& keys_dir);
// load_keys, or generate + save when no key exists yet (M01 §5.1).
Result<KeyPair> load_or_generate_keys(const std::filesystem::path& keys_dir);

NodeId full_node_id(const PublicKey& key);
std::string short_node_id(const PublicKey& key);
// Accepts only the full form "ed25519:<43 base64url chars>"; bad_node_id otherwise.
Result<PublicKey> parse_node_id(std::string_view node_id);

// Verifies "ed25519:<b64>" over message; invalid_signature on any mismatch or bad encoding.
Status verify_bytes(std::span<const std::uint8_t> message, std::string_view signature,
                    const PublicKey& key);
// A copy of payload with any "signature" field signed by keys.
Json sign_payload(const Json& payload, const KeyPair& keys);
// A signed payload taken apart for verification (CONTRACT §10): the canonical JSON of the
// payload minus "signature" — the bytes the signature covers — and the signature text.
// `signature` views into the payload it came from, which must outlive it.
struct SignedPayload {
  std::string message;
  std::string_view signature;
};
// Splits payload for verification; invalid_signature when it is not an object, carries no
// string "signature" or has no canonical form. verify_payload and
// VerificationCache::verify_payload (manifest.h) both start here.
Result<SignedPayload> split_signed_payload(const Json& payload);
// Strips "signature", re-canonicalises, verifies; invalid_signature on failure.
Status verify_payload(const Json& payload, const PublicKey& key);
// The same with the key taken from a full node id.
Status verify_payload_with_node_id(const Json& payload, std::string_view node_id);

}  // namespace hn::identity
