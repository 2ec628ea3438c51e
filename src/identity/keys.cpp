// keys.cpp — Ed25519 keys over libsodium; on-disk form of M01 §4.
#include "identity/keys.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>

#include "core/encoding.h"
#include "core/file_util.h"

namespace hn::identity {
namespace {

void ensure_sodium() {
  if (sodium_init() < 0) std::abort();  // no safe randomness: refuse to run
}

constexpr std::string_view SIG_PREFIX = "ed25519:";

}  // namespace

KeyPair KeyPair::generate() {
  ensure_sodium();
  Seed seed;
  randombytes_buf(seed.data(), seed.size());
  auto kp = from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return std::move(kp).value();
}

Result<KeyPair> KeyPair::from_seed(std::span<const std::uint8_t> seed) {
  ensure_sodium();
  if (seed.size() != crypto_sign_SEEDBYTES) {
    return make_error(ErrorCode::keys_invalid, "an Ed25519 seed is 32 bytes, got " +
                                                   std::to_string(seed.size()));
  }
  KeyPair kp;
  std::copy(seed.begin(), seed.end(), kp.m_seed.begin());
  crypto_sign_seed_keypair(kp.m_public.data(), kp.m_secret.data(), kp.m_seed.data());
  return kp;
}

KeyPair::~KeyPair() {
  sodium_memzero(m_seed.data(), m_seed.size());
  sodium_memzero(m_secret.data(), m_secret.size());
}

NodeId KeyPair::node_id() const { return full_node_id(m_public); }
std::string KeyPair::short_id() const { return short_node_id(m_public); }

RawSignature KeyPair::sign_raw(std::span<const std::uint8_t> message) const {
  RawSignature sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), m_secret.data());
  return sig;
}

Signature KeyPair::sign_bytes(std::span<const std::uint8_t> message) const {
  return std::string(SIG_PREFIX) + base64url_encode(sign_raw(message));
}

Json KeyPair::sign(const Json& payload) const { return sign_payload(payload, *this); }

NodeId full_node_id(const PublicKey& key) {
  return NodeId(std::string(SIG_PREFIX) + base64url_encode(key));
}

std::string short_node_id(const PublicKey& key) {
  // DESIGN.md: RFC 4648 base32 of the first 10 bytes, grouped by 4.
  std::string b32 = base32_encode(std::span(key).first(10));
  return std::string(SIG_PREFIX) + b32.substr(0, 4) + "-" + b32.substr(4, 4) + "-" +
         b32.substr(8, 4) + "-" + b32.substr(12, 4);
}

Result<PublicKey> parse_node_id(std::string_view node_id) {
  if (node_id.substr(0, SIG_PREFIX.size()) != SIG_PREFIX || node_id.size() != SIG_PREFIX.size() + 43) {
    return make_error(ErrorCode::bad_node_id, "not a full node id: '" + std::string(node_id.substr(0, 64)) + "'");
  }
  auto raw = base64url_decode(node_id.substr(SIG_PREFIX.size()));
  if (!raw || raw->size() != 32) {
    return make_error(ErrorCode::bad_node_id, "node id does not encode a 32-byte key");
  }
  PublicKey key;
  std::copy(raw->begin(), raw->end(), key.begin());
  return key;
}

Status verify_bytes(std::span<const std::uint8_t> message, std::string_view signature,
                    const PublicKey& key) {
  ensure_sodium();
  if (signature.substr(0, SIG_PREFIX.size()) != SIG_PREFIX) {
    return make_error(ErrorCode::invalid_signature, "signature lacks the ed25519: prefix");
  }
  auto raw = base64url_decode(signature.substr(SIG_PREFIX.size()));
  if (!raw || raw->size() != crypto_sign_BYTES) {
    return make_error(ErrorCode::invalid_signature, "signature is not 64 base64url bytes");
  }
  if (crypto_sign_verify_detached(raw->data(), message.data(), message.size(), key.data()) != 0) {
    return make_error(ErrorCode::invalid_signature, "signature does not verify");
  }
  return {};
}

Json sign_payload(const Json& payload, const KeyPair& keys) {
  Json p = payload;
  if (p.is_object()) p.erase("signature");
  const std::string msg = canonical_json(p);
  p["signature"] = keys.sign_bytes(as_bytes(msg));
  return p;
}

Result<SignedPayload> split_signed_payload(const Json& payload) {
  if (!payload.is_object()) {
    return make_error(ErrorCode::invalid_signature, "payload is not an object");
  }
  auto it = payload.find("signature");
  if (it == payload.end() || !it->is_string()) {
    return make_error(ErrorCode::invalid_signature, "payload carries no signature");
  }
  Json p = payload;
  p.erase("signature");
  auto msg = try_canonical_json(p);
  if (!msg) return make_error(ErrorCode::invalid_signature, "payload has no canonical form");
  return SignedPayload{std::move(*msg), it->get_ref<const std::string&>()};
}

Status verify_payload(const Json& payload, const PublicKey& key) {
  HN_TRY_ASSIGN(SignedPayload signed_payload, split_signed_payload(payload));
  return verify_bytes(as_bytes(signed_payload.message), signed_payload.signature, key);
}

Status verify_payload_with_node_id(const Json& payload, std::string_view node_id) {
  auto key = parse_node_id(node_id);
  if (!key) return make_error(ErrorCode::invalid_signature, key.error().message);
  return verify_payload(payload, *key);
}

Result<KeyPair> load_keys(const std::filesystem::path& keys_dir) {
  const auto seed_path = keys_dir / SIGNING_KEY_FILE;
  struct stat st {};
  if (::stat(seed_path.c_str(), &st) != 0) {
    return make_error(ErrorCode::keys_missing, "no signing key at " + seed_path.string());
  }
  if ((st.st_mode & 0077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return make_error(ErrorCode::keys_permissions,
                      seed_path.string() + " is readable by others (mode " + mode +
                          "); run: chmod 600 " + seed_path.string());
  }
  auto data = read_file(seed_path, 4096);
  if (!data) return make_error(ErrorCode::keys_invalid, data.error().message);
  auto kp = KeyPair::from_seed(as_bytes(*data));
  sodium_memzero(data->data(), data->size());
  if (!kp) return kp.take_error();
  const auto pub_path = keys_dir / VERIFY_KEY_FILE;
  auto pub = read_file(pub_path, 4096);
  if (pub.has_value()) {
    if (pub->size() != 32 || std::memcmp(pub->data(), kp->public_key().data(), 32) != 0) {
      return make_error(ErrorCode::keys_invalid, pub_path.string() + " does not match the signing key");
    }
  }
  return kp;
}

Status save_keys(const KeyPair& keys, const std::filesystem::path& keys_dir) {
  HN_TRY(ensure_directory(keys_dir, std::filesystem::perms(0700)));
  HN_TRY(atomic_write_file(keys_dir / SIGNING_KEY_FILE, as_chars(keys.seed()),
                           std::filesystem::perms(0600)));
  return atomic_write_file(keys_dir / VERIFY_KEY_FILE, as_chars(keys.public_key()),
                           std::filesystem::perms(0644));
}

Result<KeyPair> load_or_generate_keys(const std::filesystem::path& keys_dir) {
  auto loaded = load_keys(keys_dir);
  if (loaded || loaded.error().code != ErrorCode::keys_missing) return loaded;
  KeyPair kp = KeyPair::generate();
  HN_TRY(save_keys(kp, keys_dir));
  return kp;
}

}  // namespace hn::identity
