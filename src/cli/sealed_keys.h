// sealed_keys.h — secrets sealed under a passphrase, for `hearthnet export --include-keys`
// (M12 §3.9 exports "settings (without secrets)"; the key goes in only when asked, and
// then never in the clear). The key is derived with libsodium's crypto_pwhash (Argon2id,
// the library's MODERATE limits, a random 16-byte salt) and the secrets are sealed with
// crypto_secretbox (XSalsa20-Poly1305, a random nonce).
//
// Sealed form (a JSON object, stored in the archive as keys/sealed-keys.json):
//   {"format": "hearthnet-sealed-keys/1", "kdf": "argon2id13", "opslimit": N,
//    "memlimit": N, "salt": b64url, "nonce": b64url, "ciphertext": b64url}
// The plaintext is the canonical JSON {"<file name>": "<b64url of its bytes>", ...}.
//
// Thread-safety: pure functions; no shared state.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/json.h"

namespace hn::cli {

inline constexpr const char* SEALED_KEYS_FORMAT = "hearthnet-sealed-keys/1";
// A passphrase shorter than this is refused (bad_request): it would not hold against a
// guesser who has the archive.
inline constexpr std::size_t MIN_PASSPHRASE_CHARS = 8;

// file name → its bytes.
using SecretFiles = std::map<std::string, std::string>;

// Seals files under passphrase. bad_request for a short passphrase; internal_error when
// libsodium cannot allocate the hashing memory.
Result<Json> seal_secrets(const SecretFiles& files, std::string_view passphrase);

// Opens a sealed object. verify_failed (detail {"reason": "wrong_passphrase"}) when the
// passphrase does not open it or the ciphertext was altered; bad_request when the object
// is not a sealed-keys object (unknown format, out-of-range limits, bad encodings).
Result<SecretFiles> open_secrets(const Json& sealed, std::string_view passphrase);

}  // namespace hn::cli
