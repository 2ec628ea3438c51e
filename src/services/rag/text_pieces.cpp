// text_pieces.cpp — text to pieces: blocks (paragraphs, Markdown headings), sentences,
// words, character runs. See text_pieces.h.
#include "services/rag/text_pieces.h"

#include <algorithm>
#include <optional>

#include "services/rag/utf8_text.h"

namespace hn::services::rag {
namespace {

// A paragraph (or a Markdown heading with its underline): [begin, end) bytes.
struct Block {
  std::size_t begin = 0;
  std::size_t end = 0;
  bool heading = false;
};

bool is_blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), is_ascii_space);
}

// The line without up to three leading spaces (Markdown's indentation allowance).
std::string_view unindent(std::string_view line) {
  std::size_t i = 0;
  while (i < 3 && i < line.size() && line[i] == ' ') ++i;
  return line.substr(i);
}

bool is_fence(std::string_view t) { return t.starts_with("```") || t.starts_with("~~~"); }

// "# Title" … "###### Title", or a lone "#".
bool is_atx_heading(std::string_view t) {
  std::size_t n = 0;
  while (n < t.size() && t[n] == '#') ++n;
  return n >= 1 && n <= 6 && (n == t.size() || t[n] == ' ' || t[n] == '\t' || t[n] == '\r');
}

// "===" or "---" (at least two), the underline of a setext heading.
bool is_setext_underline(std::string_view t) {
  while (!t.empty() && is_ascii_space(t.back())) t.remove_suffix(1);
  if (t.size() < 2 || (t[0] != '=' && t[0] != '-')) return false;
  return std::all_of(t.begin(), t.end(), [&](char c) { return c == t[0]; });
}

// Splits text into blocks at blank lines; in Markdown also before headings, and never
// inside a fenced code block.
class BlockSplitter {
 public:
  BlockSplitter(std::string_view text, TextFormat format) : m_text(text), m_format(format) {}

  std::vector<Block> split() {
    std::size_t pos = 0;
    bool in_fence = false;
    while (true) {
      std::size_t nl = m_text.find('\n', pos);
      const std::size_t le = nl == std::string_view::npos ? m_text.size() : nl;
      take_line(pos, le, in_fence);
      if (nl == std::string_view::npos) break;
      pos = nl + 1;
    }
    close();
    return std::move(m_blocks);
  }

 private:
  void take_line(std::size_t ls, std::size_t le, bool& in_fence) {
    const std::string_view line = m_text.substr(ls, le - ls);
    if (m_format == TextFormat::markdown) {
      const std::string_view t = unindent(line);
      if (is_fence(t)) {
        in_fence = !in_fence;
        extend(ls, le);
        return;
      }
      if (!in_fence && is_atx_heading(t)) {
        close();
        push(ls, le, true);
        return;
      }
      if (!in_fence && m_open && is_setext_underline(t)) {
        // The block's last line is the heading's text.
        const std::size_t title = m_last_line;
        if (title > m_begin) push(m_begin, title, false);
        m_open = false;
        push(title, le, true);
        return;
      }
    }
    if (!in_fence && is_blank(line)) {
      close();
    } else {
      extend(ls, le);
    }
  }

  void extend(std::size_t ls, std::size_t le) {
    if (!m_open) {
      m_open = true;
      m_begin = ls;
    }
    m_last_line = ls;
    m_end = le;
  }

  void close() {
    if (m_open) push(m_begin, m_end, false);
    m_open = false;
  }

  // Adds [b, e) trimmed of whitespace, unless nothing is left.
  void push(std::size_t b, std::size_t e, bool heading) {
    while (b < e && is_ascii_space(m_text[b])) ++b;
    while (e > b && is_ascii_space(m_text[e - 1])) --e;
    if (b < e) m_blocks.push_back({b, e, heading});
  }

  std::string_view m_text;
  TextFormat m_format;
  std::vector<Block> m_blocks;
  bool m_open = false;
  std::size_t m_begin = 0;
  std::size_t m_end = 0;
  std::size_t m_last_line = 0;
};

// Characters that may follow a sentence's final mark and still belong to the sentence.
bool is_sentence_tail(std::uint32_t cp) {
  return cp == '.' || cp == '!' || cp == '?' || cp == '"' || cp == '\'' || cp == ')' || cp == ']' ||
         cp == 0x2019 || cp == 0x201D || cp == 0xBB || cp == 0x300D || cp == 0x300F || cp == 0xFF09;
}

// Full stops that need no space after them (CJK).
bool is_cjk_stop(std::uint32_t cp) { return cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F; }

class PieceSplitter {
 public:
  PieceSplitter(std::string_view text, const Limits& limits) : m_text(text), m_limits(limits) {}

  std::vector<Piece> split() {
    Boundary next = Boundary::paragraph;
    for (const Block& block : BlockSplitter(m_text, m_limits.format).split()) {
      if (block.heading) {
        add_sentence(block.begin, block.end, next);
        next = Boundary::word;  // a heading stays with what follows it
      } else {
        add_sentences(block, next);
        next = Boundary::paragraph;
      }
    }
    return std::move(m_pieces);
  }

 private:
  // Cuts a block after each sentence's final mark (and its closing quotes or brackets)
  // when whitespace or the block's end follows, or after a CJK full stop.
  void add_sentences(const Block& block, Boundary before) {
    const std::string_view view = m_text.substr(0, block.end);
    std::size_t start = block.begin;
    std::size_t i = block.begin;
    while (i < block.end) {
      const CodePoint cp = decode_at(view, i);
      std::size_t j = i + cp.bytes;
      bool ends = false;
      if (cp.value == '.' || cp.value == '!' || cp.value == '?' || is_cjk_stop(cp.value)) {
        while (j < block.end) {
          const CodePoint tail = decode_at(view, j);
          if (!is_sentence_tail(tail.value) && !is_cjk_stop(tail.value)) break;
          j += tail.bytes;
        }
        ends = is_cjk_stop(cp.value) || j == block.end || is_ascii_space(m_text[j]);
      }
      if (!ends) {
        i += cp.bytes;
        continue;
      }
      add_sentence(start, j, before);
      before = Boundary::sentence;
      while (j < block.end && is_ascii_space(m_text[j])) ++j;
      start = i = j;
    }
    if (start < block.end) add_sentence(start, block.end, before);
  }

  void add_sentence(std::size_t b, std::size_t e, Boundary before) {
    if (try_add(b, e, before)) return;
    std::size_t i = b;
    while (i < e) {
      while (i < e && is_ascii_space(m_text[i])) ++i;
      std::size_t j = i;
      while (j < e && !is_ascii_space(m_text[j])) ++j;
      if (j > i) {
        if (!try_add(i, j, before)) add_run(i, j, before);
        before = Boundary::word;
      }
      i = j;
    }
  }

  // A word too long for a chunk: runs of max_chars characters, each halved between
  // characters until its tokens fit.
  void add_run(std::size_t b, std::size_t e, Boundary before) {
    std::size_t start = b;
    std::size_t chars = 0;
    for (std::size_t i = b; i < e; ++i) {
      if (!is_char_start(m_text, i)) continue;
      if (chars == m_limits.max_chars) {
        add_halves(start, i, before);
        before = Boundary::none;
        start = i;
        chars = 0;
      }
      ++chars;
    }
    add_halves(start, e, before);
  }

  void add_halves(std::size_t b, std::size_t e, Boundary before) {
    if (try_add(b, e, before)) return;
    std::size_t first_end = b + 1;
    while (first_end < e && !is_char_start(m_text, first_end)) ++first_end;
    if (first_end >= e) {  // one character: it stands alone, whatever its count
      push(b, e, before);
      return;
    }
    std::size_t mid = b + (e - b) / 2;
    while (mid < e && !is_char_start(m_text, mid)) ++mid;
    if (mid <= b || mid >= e) mid = first_end;
    add_halves(b, mid, before);
    add_halves(mid, e, Boundary::none);
  }

  // Adds [b, e) when it fits a chunk (counting tokens only when the characters fit).
  bool try_add(std::size_t b, std::size_t e, Boundary before) {
    const std::string_view s = m_text.substr(b, e - b);
    const std::size_t chars = utf8_length(s);
    if (chars > m_limits.max_chars) return false;
    const int tokens = m_limits.count_tokens(s);
    if (tokens > m_limits.tokens_per_chunk) return false;
    m_pieces.push_back({b, e, tokens, chars, before});
    return true;
  }

  void push(std::size_t b, std::size_t e, Boundary before) {
    const std::string_view s = m_text.substr(b, e - b);
    m_pieces.push_back({b, e, m_limits.count_tokens(s), utf8_length(s), before});
  }

  std::string_view m_text;
  const Limits& m_limits;
  std::vector<Piece> m_pieces;
};

}  // namespace

Limits limits_of(const ChunkOptions& options) {
  Limits l;
  l.tokens_per_chunk = std::max(1, options.tokens_per_chunk);
  l.overlap_tokens = std::clamp(options.overlap_tokens, 0, l.tokens_per_chunk / 2);
  l.max_chars = std::clamp<std::size_t>(options.max_chars, 1, EMBED_MAX_TEXT_CHARS);
  l.format = options.format;
  if (options.count_tokens) {
    l.count_tokens = [counter = options.count_tokens](std::string_view s) {
      return std::max(0, counter(s));
    };
  } else {
    l.count_tokens = approximate_tokens;
  }
  return l;
}

std::vector<Piece> split_pieces(std::string_view text, const Limits& limits) {
  return PieceSplitter(text, limits).split();
}

}  // namespace hn::services::rag
