// chunker.cpp — the sliding window over a text's pieces (text_pieces.h), the token
// estimate, media types and chunk_document (M05 §3.1). PDFs: pdf_text.cpp.
#include "services/rag/chunker.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "services/rag/text_pieces.h"
#include "services/rag/utf8_text.h"

namespace hn::services::rag {
namespace {

// Scripts whose every character a BPE vocabulary spends about a token on: CJK, kana,
// Hangul, fullwidth forms, emoji and other symbols of the supplementary planes.
bool is_token_per_char(std::uint32_t cp) {
  return (cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7AF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFF00 && cp <= 0xFFEF) || cp >= 0x1F000;
}

bool is_unicode_space(std::uint32_t cp) {
  return cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200B) || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000 || cp == 0xFEFF;
}

// The windows over pieces [a, b): prefix sums make every range's tokens and characters O(1).
class Packer {
 public:
  Packer(std::string_view text, const std::vector<Piece>& pieces, const Limits& limits)
      : m_text(text), m_pieces(pieces), m_limits(limits) {
    const std::size_t n = pieces.size();
    m_tokens.assign(n + 1, 0);
    m_chars.assign(n + 1, 0);
    m_gap.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) {
        m_gap[i] = utf8_length(text.substr(pieces[i - 1].end, pieces[i].begin - pieces[i - 1].end));
      }
      m_tokens[i + 1] = m_tokens[i] + pieces[i].tokens;
      m_chars[i + 1] = m_chars[i] + m_gap[i] + pieces[i].chars;
    }
  }

  // Chunks as [first piece, end piece) ranges, in order.
  std::vector<std::pair<std::size_t, std::size_t>> windows() const {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    const std::size_t n = m_pieces.size();
    std::size_t start = 0;
    std::size_t fresh = 0;  // the first piece no earlier chunk holds
    while (fresh < n) {
      while (start < fresh && !fits(start, fresh + 1)) ++start;  // shed overlap if need be
      std::size_t end = fresh + 1;
      while (end < n && fits(start, end + 1)) ++end;
      const std::size_t cut = end < n ? choose_cut(start, fresh, end) : end;
      out.emplace_back(start, cut);
      start = cut < n ? choose_overlap(start, cut) : cut;
      fresh = cut;
    }
    return out;
  }

 private:
  std::int64_t tokens(std::size_t a, std::size_t b) const { return m_tokens[b] - m_tokens[a]; }
  std::size_t chars(std::size_t a, std::size_t b) const {
    return m_chars[b] - m_chars[a] - m_gap[a];
  }

  // One piece always fits (split_pieces made it fit, or it is a single character).
  bool fits(std::size_t a, std::size_t b) const {
    return b == a + 1 ||
           (tokens(a, b) <= m_limits.tokens_per_chunk && chars(a, b) <= m_limits.max_chars);
  }

  bool half_full(std::size_t a, std::size_t b) const {
    return tokens(a, b) * 2 >= m_limits.tokens_per_chunk || chars(a, b) * 2 >= m_limits.max_chars;
  }

  // Where to end the window [start, end) that the next piece does not fit: the last
  // paragraph boundary that leaves it half full, else the last such sentence end, else end.
  std::size_t choose_cut(std::size_t start, std::size_t fresh, std::size_t end) const {
    for (const Boundary level : {Boundary::paragraph, Boundary::sentence}) {
      for (std::size_t k = end; k > fresh; --k) {
        if (!half_full(start, k)) break;
        if (m_pieces[k].before >= level) return k;
      }
    }
    return end;
  }

  // Where the next window starts: as far back from `cut` as overlap_tokens reach, and
  // never over more than half the chunk [start, cut) in tokens or characters (so each
  // chunk brings at least about half a chunk of new text, even when pieces cost no
  // tokens), at a paragraph start when that overlaps at least half as much, else at a
  // sentence start, else anywhere.
  std::size_t choose_overlap(std::size_t start, std::size_t cut) const {
    std::size_t any = cut;
    std::size_t sentence = cut;
    std::size_t paragraph = cut;
    for (std::size_t j = cut - 1; j > start; --j) {
      if (tokens(j, cut) > m_limits.overlap_tokens || tokens(j, cut) * 2 > tokens(start, cut) ||
          chars(j, cut) * 2 > chars(start, cut)) {
        break;
      }
      any = j;
      if (m_pieces[j].before >= Boundary::sentence) sentence = j;
      if (m_pieces[j].before >= Boundary::paragraph) paragraph = j;
    }
    if (paragraph < cut && tokens(paragraph, cut) * 2 >= m_limits.overlap_tokens) return paragraph;
    if (sentence < cut) return sentence;
    return any;
  }

  std::string_view m_text;
  const std::vector<Piece>& m_pieces;
  const Limits& m_limits;
  std::vector<std::int64_t> m_tokens;
  std::vector<std::size_t> m_chars;
  std::vector<std::size_t> m_gap;
};

enum class DocumentKind { pdf, plain, markdown };

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ascii_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ascii_space(s.back())) s.remove_suffix(1);
  return s;
}

// "type/subtype; charset=utf-8" → the kind; nullopt when unsupported.
std::optional<DocumentKind> kind_of(std::string_view media_type) {
  const std::size_t semi = media_type.find(';');
  const std::string base = ascii_lower(trim(media_type.substr(0, semi)));
  std::string_view params = semi == std::string_view::npos ? "" : media_type.substr(semi + 1);
  while (!params.empty()) {
    const std::size_t next = params.find(';');
    const std::string_view param = params.substr(0, next);
    params = next == std::string_view::npos ? "" : params.substr(next + 1);
    const std::size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    if (ascii_lower(trim(param.substr(0, eq))) != "charset") continue;
    std::string_view value = trim(param.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    const std::string charset = ascii_lower(value);
    if (charset != "utf-8" && charset != "utf8" && charset != "us-ascii") return std::nullopt;
  }
  if (base == "application/pdf") return DocumentKind::pdf;
  if (base == "text/plain") return DocumentKind::plain;
  if (base == "text/markdown" || base == "text/x-markdown") return DocumentKind::markdown;
  return std::nullopt;
}

// At most 64 printable ASCII characters of s, for an error message that must stay valid
// JSON whatever the caller sent.
std::string printable(std::string_view s) {
  std::string out;
  for (const char c : s.substr(0, 64)) out += (c >= 0x20 && c < 0x7F) ? c : '?';
  if (s.size() > 64) out += "...";
  return out;
}

}  // namespace

int approximate_tokens(std::string_view text) {
  std::int64_t tokens = 0;
  std::int64_t word_weight = 0;  // ~characters of the word being read
  auto end_word = [&] {
    tokens += (word_weight + 3) / 4;
    word_weight = 0;
  };
  for (std::size_t i = 0; i < text.size();) {
    const CodePoint cp = decode_at(text, i);
    i += cp.bytes;
    const std::uint32_t v = cp.value;
    if (v < 0x80) {
      const bool word_char =
          (v >= '0' && v <= '9') || (v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z') || v == '_';
      if (word_char) {
        ++word_weight;
      } else {
        end_word();
        if (!is_ascii_space(static_cast<char>(v))) ++tokens;  // punctuation, symbols
      }
    } else if (is_unicode_space(v)) {
      end_word();
    } else if (is_token_per_char(v) || (v >= 0x2010 && v <= 0x206F) || cp.bytes == 1) {
      end_word();  // CJK, emoji, general punctuation, malformed bytes
      ++tokens;
    } else {
      // Latin letters with accents tokenise almost like ASCII; other alphabets take
      // about a token per two characters.
      word_weight += v <= 0x24F ? 1 : 2;
    }
  }
  end_word();
  return static_cast<int>(std::min<std::int64_t>(tokens, INT_MAX));
}

bool supported_media_type(std::string_view media_type) { return kind_of(media_type).has_value(); }

namespace {

// Rounds of splitting with a batch counter: a round answers every count it does not know
// yet with 0 and notes the text; the notes are then counted in one batch. A piece too long
// for a chunk shows itself only once its count is known (then its words are asked for), so
// a few rounds settle a text; what is still unknown after them is counted one by one.
class TokenMemo {
 public:
  static constexpr int MAX_ROUNDS = 6;

  explicit TokenMemo(const TokenBatchCounter& batch) : m_batch(batch) {}

  int probe(std::string_view s) {
    if (auto it = m_counts.find(std::string(s)); it != m_counts.end()) return it->second;
    m_missing.emplace(s);
    return 0;
  }
  int get(std::string_view s) {
    if (auto it = m_counts.find(std::string(s)); it != m_counts.end()) return it->second;
    m_missing.emplace(s);
    flush();
    return m_counts[std::string(s)];
  }
  // Counts the noted texts in one batch; false when there were none.
  bool flush() {
    if (m_missing.empty()) return false;
    std::vector<std::string_view> texts(m_missing.begin(), m_missing.end());
    std::vector<int> counts = m_batch(texts);
    for (std::size_t i = 0; i < texts.size(); ++i) {
      const int n = counts.size() == texts.size() ? counts[i] : approximate_tokens(texts[i]);
      m_counts[std::string(texts[i])] = std::max(0, n);
    }
    m_missing.clear();
    return true;
  }

 private:
  const TokenBatchCounter& m_batch;
  std::unordered_map<std::string, int> m_counts;
  std::set<std::string> m_missing;
};

std::vector<Chunk> chunk_many(const std::vector<std::pair<int, std::string_view>>& texts, const ChunkOptions& options,
                              int first_ordinal) {
  Limits limits = limits_of(options);
  std::optional<TokenMemo> memo;
  if (options.count_tokens_batch) {
    memo.emplace(options.count_tokens_batch);
    Limits probe = limits;
    probe.count_tokens = [&](std::string_view s) { return memo->probe(s); };
    for (int round = 0; round < TokenMemo::MAX_ROUNDS; ++round) {
      for (const auto& [page, text] : texts) (void)split_pieces(text, probe);
      if (!memo->flush()) break;
    }
    limits.count_tokens = [&](std::string_view s) { return memo->get(s); };
  }
  std::vector<Chunk> chunks;
  int ordinal = first_ordinal;
  for (const auto& [page, text] : texts) {
    const std::vector<Piece> pieces = split_pieces(text, limits);
    for (const auto& [a, b] : Packer(text, pieces, limits).windows()) {
      Chunk c;
      c.text = std::string(text.substr(pieces[a].begin, pieces[b - 1].end - pieces[a].begin));
      c.page = page;
      c.ordinal = ordinal++;
      if (!memo) c.tokens = limits.count_tokens(c.text);
      chunks.push_back(std::move(c));
    }
  }
  if (memo) {  // the chunks' own counts, in one batch
    for (const auto& c : chunks) (void)memo->probe(c.text);
    memo->flush();
    for (auto& c : chunks) c.tokens = memo->get(c.text);
  }
  return chunks;
}

}  // namespace

std::vector<Chunk> chunk_text(std::string_view text, const ChunkOptions& options, int page,
                              int first_ordinal) {
  return chunk_many({{page, text}}, options, first_ordinal);
}

std::vector<Chunk> chunk_pages(const std::vector<PageText>& pages, const ChunkOptions& options,
                               int first_ordinal) {
  std::vector<std::pair<int, std::string_view>> texts;
  texts.reserve(pages.size());
  for (const auto& p : pages) texts.emplace_back(p.page, p.text);
  return chunk_many(texts, options, first_ordinal);
}

Result<std::vector<Chunk>> chunk_document(std::span<const std::byte> bytes,
                                          std::string_view media_type,
                                          const ChunkOptions& options) {
  const std::optional<DocumentKind> kind = kind_of(media_type);
  if (!kind) {
    return make_error(ErrorCode::bad_request,
                      "unsupported media type '" + printable(media_type) +
                          "'; supported: application/pdf, text/plain, text/markdown",
                      {{"media_type", printable(media_type)}});
  }
  if (*kind == DocumentKind::pdf) return chunk_pdf(bytes, options);

  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a byte-order mark
  if (const std::size_t bad = find_invalid_utf8(text); bad != std::string_view::npos) {
    return make_error(ErrorCode::bad_request, "document is not valid UTF-8",
                      {{"offset", bad + (bytes.size() - text.size())}});
  }
  ChunkOptions text_options = options;
  text_options.format = *kind == DocumentKind::markdown ? TextFormat::markdown : TextFormat::plain;
  std::vector<Chunk> chunks = chunk_text(text, text_options);
  if (chunks.empty()) return make_error(ErrorCode::bad_request, "document has no text");
  return chunks;
}

}  // namespace hn::services::rag
