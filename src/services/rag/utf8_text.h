// utf8_text.h — the UTF-8 chores of the chunkers: validating a document, counting
// characters (code points) against embed.text's limit, stepping over whole characters,
// and cleaning text a PDF gave us.
//
// Thread-safety: pure functions.
// Invariants: none of them read past the view they are given, whatever its bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hn::services::rag {

// The offset of the first byte of s that is not part of well-formed UTF-8 (overlongs,
// surrogates and values above U+10FFFF are not); npos when s is well-formed.
std::size_t find_invalid_utf8(std::string_view s);
// Whether s is well-formed UTF-8.
inline bool is_valid_utf8(std::string_view s) {
  return find_invalid_utf8(s) == std::string_view::npos;
}

// Characters as embed.text counts them (CONTRACT §4.3): bytes that are not continuation
// bytes (10xxxxxx).
std::size_t utf8_length(std::string_view s);

// Whether byte i of s starts a character (it is not a continuation byte); true at s.size().
inline bool is_char_start(std::string_view s, std::size_t i) {
  return i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
}

// The code point that starts at s[i] and its length in bytes (at least 1, never past the
// end); a malformed sequence reads as U+FFFD of length 1.
struct CodePoint {
  std::uint32_t value = 0;
  std::size_t bytes = 1;
};
CodePoint decode_at(std::string_view s, std::size_t i);

// s as valid UTF-8: malformed bytes become U+FFFD, control characters other than '\n' and
// '\t' become spaces ('\r' and '\f' included), NUL bytes are dropped.
std::string clean_text(std::string_view s);

}  // namespace hn::services::rag
