// utf8_text.cpp — UTF-8 validation, counting and cleaning for the chunkers.
#include "services/rag/utf8_text.h"

#include <algorithm>

namespace hn::services::rag {


std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string clean_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const CodePoint cp = decode_at(s, i);
    if (cp.value == 0xFFFD && cp.bytes == 1) {
      out += "\xEF\xBF\xBD";
    } else if (cp.value == 0) {
      // dropped
    } else if ((cp.value < 0x20 && cp.value != '\n' && cp.value != '\t') || cp.value == 0x7F) {
      out += ' ';
    } else {
      out.append(s.substr(i, cp.bytes));
    }
    i += cp.bytes;
  }
  return out;
}

}  // namespace hn::services::rag
