// sealed_keys.cpp — Argon2id + secretbox over libsodium.
#include "cli/sealed_keys.h"

#include <sodium.h>

#include <array>

#include "core/encoding.h"

namespace hn::cli {
namespace {

using Key = std::array<std::uint8_t, crypto_secretbox_KEYBYTES>;

// Wipes the derived key when it goes out of scope.
struct KeyGuard {
  Key key{};
  ~KeyGuard() { sodium_memzero(key.data(), key.size()); }
};

Status derive_key(Key& key, std::string_view passphrase, std::span<const std::uint8_t> salt,
                  unsigned long long opslimit, std::size_t memlimit) {
  if (crypto_pwhash(key.data(), key.size(), passphrase.data(), passphrase.size(), salt.data(),
                    opslimit, memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return make_error(ErrorCode::internal_error,
                      "cannot derive the key from the passphrase (out of memory)");
  }
  return {};
}

Result<Bytes> decode_field(const Json& sealed, const char* name, std::size_t exact_size = 0) {
  HN_TRY_ASSIGN(std::string text, get_string(sealed, name));
  auto bytes = base64url_decode(text);
  if (!bytes || (exact_size != 0 && bytes->size() != exact_size)) {
    return make_error(ErrorCode::bad_request, std::string("sealed keys: malformed ") + name);
  }
  return std::move(*bytes);
}

}  // namespace

Result<Json> seal_secrets(const SecretFiles& files, std::string_view passphrase) {
  if (passphrase.size() < MIN_PASSPHRASE_CHARS) {
    return make_error(ErrorCode::bad_request, "the passphrase must have at least " +
                                                  std::to_string(MIN_PASSPHRASE_CHARS) +
                                                  " characters");
  }
  if (sodium_init() < 0) return make_error(ErrorCode::internal_error, "libsodium failed to start");
  Json plain = Json::object();
  for (const auto& [name, bytes] : files) plain[name] = base64url_encode(as_bytes(bytes));
  std::string message = canonical_json(plain);

  std::array<std::uint8_t, crypto_pwhash_SALTBYTES> salt{};
  std::array<std::uint8_t, crypto_secretbox_NONCEBYTES> nonce{};
  randombytes_buf(salt.data(), salt.size());
  randombytes_buf(nonce.data(), nonce.size());
  const unsigned long long opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
  const std::size_t memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
  KeyGuard guard;
  HN_TRY(derive_key(guard.key, passphrase, salt, opslimit, memlimit));

  Bytes cipher(message.size() + crypto_secretbox_MACBYTES);
  crypto_secretbox_easy(cipher.data(), as_bytes(message).data(), message.size(), nonce.data(),
                        guard.key.data());
  sodium_memzero(message.data(), message.size());
  return Json{{"format", SEALED_KEYS_FORMAT},
              {"kdf", "argon2id13"},
              {"opslimit", opslimit},
              {"memlimit", memlimit},
              {"salt", base64url_encode(salt)},
              {"nonce", base64url_encode(nonce)},
              {"ciphertext", base64url_encode(cipher)}};
}

Result<SecretFiles> open_secrets(const Json& sealed, std::string_view passphrase) {
  if (!sealed.is_object() || sealed.value("format", "") != SEALED_KEYS_FORMAT ||
      sealed.value("kdf", "") != "argon2id13") {
    return make_error(ErrorCode::bad_request, "not a hearthnet sealed-keys object");
  }
  HN_TRY_ASSIGN(std::int64_t opslimit, get_int(sealed, "opslimit"));
  HN_TRY_ASSIGN(std::int64_t memlimit, get_int(sealed, "memlimit"));
  // Limits from the file are bounded so a crafted archive cannot make us spin or allocate
  // without end: at most the library's SENSITIVE limits.
  if (opslimit < static_cast<std::int64_t>(crypto_pwhash_OPSLIMIT_MIN) ||
      opslimit > static_cast<std::int64_t>(crypto_pwhash_OPSLIMIT_SENSITIVE) ||
      memlimit < static_cast<std::int64_t>(crypto_pwhash_MEMLIMIT_MIN) ||
      memlimit > static_cast<std::int64_t>(crypto_pwhash_MEMLIMIT_SENSITIVE)) {
    return make_error(ErrorCode::bad_request, "sealed keys: hashing limits out of range");
  }
  HN_TRY_ASSIGN(Bytes salt, decode_field(sealed, "salt", crypto_pwhash_SALTBYTES));
  HN_TRY_ASSIGN(Bytes nonce, decode_field(sealed, "nonce", crypto_secretbox_NONCEBYTES));
  HN_TRY_ASSIGN(Bytes cipher, decode_field(sealed, "ciphertext"));
  if (cipher.size() < crypto_secretbox_MACBYTES) {
    return make_error(ErrorCode::bad_request, "sealed keys: ciphertext too short");
  }
  if (sodium_init() < 0) return make_error(ErrorCode::internal_error, "libsodium failed to start");
  KeyGuard guard;
  HN_TRY(derive_key(guard.key, passphrase, salt, static_cast<unsigned long long>(opslimit),
                    static_cast<std::size_t>(memlimit)));
  std::string message(cipher.size() - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<std::uint8_t*>(message.data()), cipher.data(),
                                 cipher.size(), nonce.data(), guard.key.data()) != 0) {
    return make_error(ErrorCode::verify_failed,
                      "the passphrase does not open the sealed keys (wrong passphrase, or the "
                      "archive was altered)",
                      Json{{"reason", "wrong_passphrase"}});
  }
  auto plain = parse_json(message);
  sodium_memzero(message.data(), message.size());
  if (!plain || !plain->is_object()) {
    return make_error(ErrorCode::bad_request, "sealed keys: the opened content is not an object");
  }
  SecretFiles files;
  for (const auto& [name, value] : plain->items()) {
    auto bytes = value.is_string() ? base64url_decode(value.get<std::string>()) : std::nullopt;
    if (!bytes) return make_error(ErrorCode::bad_request, "sealed keys: malformed entry " + name);
    files[name] = std::string(as_chars(*bytes));
  }
  return files;
}

}  // namespace hn::cli
