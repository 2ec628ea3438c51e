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

#include "core/utf8.h"

namespace hn::services::rag {

// Decoding and validation are core's (core/utf8.h).
using hn::CodePoint;
using hn::decode_at;
using hn::find_invalid_utf8;
using hn::is_valid_utf8;

// Characters as embed.text counts them (CONTRACT §4.3): bytes that are not continuation
// bytes (10xxxxxx).
std::size_t utf8_length(std::string_view s);

// Whether byte i of s starts a character (it is not a continuation byte); true at s.size().
inline bool is_char_start(std::string_view s, std::size_t i) {
  return i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
}

// s as valid UTF-8: malformed bytes become U+FFFD, control characters other than '\n' and
// '\t' become spaces ('\r' and '\f' included), NUL bytes are dropped.
std::string clean_text(std::string_view s);

}  // namespace hn::services::rag
