// query_words.cpp — see query_words.h.
#include "core/query_words.h"

#include <algorithm>

namespace hn {

std::vector<std::string> query_words(std::string_view text, std::size_t max_words) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (!word.empty() && words.size() < max_words &&
        std::find(words.begin(), words.end(), word) == words.end()) {
      words.push_back(word);
    }
    word.clear();
  };
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
    if (keep) {
      word += static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    } else {
      flush();
    }
  }
  flush();
  return words;
}

std::string fts_match_expression(const std::vector<std::string>& words) {
  std::string match;
  for (const auto& w : words) {
    if (!match.empty()) match += " OR ";
    // Words from query_words hold no '"'; double any anyway, as FTS5's string syntax wants.
    match += '"';
    for (char c : w) {
      if (c == '"') match += '"';
      match += c;
    }
    match += '"';
  }
  return match;
}

}  // namespace hn
