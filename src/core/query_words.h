// query_words.h — the words of a search query, and their FTS5 MATCH expression: what the
// marketplace's and the knowledge base's lexical searches both rank by.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace hn {

// The query's words: runs of ASCII letters, digits and any non-ASCII byte (ASCII
// lower-cased), de-duplicated in order of appearance, at most `max_words`. They hold none
// of FTS5's query syntax (quotes, operators, `*`, `^`, parentheses).
std::vector<std::string> query_words(std::string_view text, std::size_t max_words);

// `"w1" OR "w2" …` for FTS5 MATCH; "" when there is no word.
std::string fts_match_expression(const std::vector<std::string>& words);

}  // namespace hn
