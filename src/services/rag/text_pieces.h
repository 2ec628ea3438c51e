// text_pieces.h — the first half of chunk_text: a text cut into pieces (sentences, or the
// words or character runs of a sentence too long for a chunk), each tagged with the kind of
// boundary that precedes it, so the packer (chunker.cpp) can prefer to end chunks at
// paragraph ends, then sentence ends.
//
// Thread-safety: a PieceSplitter is used by one thread; it calls the TokenCounter from it.
// Invariants: pieces are in text order, do not overlap, start and end on non-whitespace,
// and cover every non-whitespace byte of the text; each piece has at most max_chars
// characters and at most tokens_per_chunk tokens, unless it is one character.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "services/rag/chunker.h"

namespace hn::services::rag {

// What separates a piece from the one before it, weakest first. The text after a
// Markdown heading is joined to it by `word`, so chunks rarely end with a bare heading.
enum class Boundary { none = 0, word = 1, sentence = 2, paragraph = 3 };

struct Piece {
  std::size_t begin = 0;  // byte offsets into the text: [begin, end)
  std::size_t end = 0;
  int tokens = 0;
  std::size_t chars = 0;  // code points
  Boundary before = Boundary::none;
};

// ChunkOptions with their values clamped (see ChunkOptions) and a counter always set.
struct Limits {
  int tokens_per_chunk = RAG_CHUNK_TOKENS;
  int overlap_tokens = RAG_CHUNK_OVERLAP_TOKENS;
  std::size_t max_chars = EMBED_MAX_TEXT_CHARS;
  TextFormat format = TextFormat::plain;
  TokenCounter count_tokens;  // never empty; never answers below 0
};
Limits limits_of(const ChunkOptions& options);

// The pieces of `text` under `limits`.
std::vector<Piece> split_pieces(std::string_view text, const Limits& limits);

// Whether c is ASCII whitespace (the only whitespace the splitter cuts at).
inline bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace hn::services::rag
