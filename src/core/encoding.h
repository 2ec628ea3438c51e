// encoding.h — byte-string encodings used on the wire: base64url without padding
// (CONTRACT §1.1), lowercase hex, RFC 4648 base32 (short node ids, DESIGN.md) and
// Crockford base32 (ULIDs).
//
// Thread-safety: pure functions. Decoders reject any malformed input with nullopt.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hn {

using Bytes = std::vector<std::uint8_t>;

// Views a string's bytes / a byte vector's characters without copying.
inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(std::span<const std::uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::string base64url_encode(std::span<const std::uint8_t> data);
// Strict: no padding, no whitespace, only [A-Za-z0-9_-], no dangling bits.
std::optional<Bytes> base64url_decode(std::string_view text);

std::string hex_encode(std::span<const std::uint8_t> data);
std::optional<Bytes> hex_decode(std::string_view text);

// RFC 4648 base32 alphabet (A–Z, 2–7), no padding.
std::string base32_encode(std::span<const std::uint8_t> data);

}  // namespace hn
