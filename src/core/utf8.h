// utf8.h — decoding UTF-8 one code point at a time and checking well-formedness (no
// overlongs, surrogates or values above U+10FFFF): the one decoder config's value checks and
// the RAG chunkers share.
//
// Thread-safety: pure functions.
// Invariants: nothing here reads past the view it is given, whatever its bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hn {

// The code point that starts at s[i] and its length in bytes (at least 1, never past the
// end); a malformed sequence reads as U+FFFD of length 1 (a real U+FFFD is 3 bytes).
struct CodePoint {
  std::uint32_t value = 0;
  std::size_t bytes = 1;
};
CodePoint decode_at(std::string_view s, std::size_t i);

// The offset of the first byte of s that is not part of well-formed UTF-8; npos when s is
// well-formed.
std::size_t find_invalid_utf8(std::string_view s);
// Whether s is well-formed UTF-8.
inline bool is_valid_utf8(std::string_view s) {
  return find_invalid_utf8(s) == std::string_view::npos;
}

}  // namespace hn
