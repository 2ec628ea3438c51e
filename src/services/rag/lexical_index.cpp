// lexical_index.cpp — the in-memory BM25 index (see lexical_index.h).
#include "services/rag/lexical_index.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "services/rag/fts_tokenizer.h"

namespace hn::services::rag {

namespace {

constexpr std::uint32_t NO_SLOT = std::numeric_limits<std::uint32_t>::max();

void put_varint(std::vector<std::uint8_t>& out, std::uint32_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

std::uint32_t get_varint(const std::uint8_t*& p) {
  std::uint32_t v = 0;
  for (int shift = 0;; shift += 7) {
    const std::uint8_t b = *p++;
    v |= static_cast<std::uint32_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return v;
  }
}

}  // namespace

ChunkTerms count_terms(FtsTokenizer& tokenizer, std::string_view text) {
  std::vector<std::string> tokens;
  tokenizer.tokenize(text, [&](std::string_view t) { tokens.emplace_back(t); });
  std::sort(tokens.begin(), tokens.end());
  ChunkTerms out;
  out.length = static_cast<std::uint32_t>(tokens.size());
  for (auto& t : tokens) {
    if (!out.terms.empty() && out.terms.back().first == t) {
      ++out.terms.back().second;
    } else {
      out.terms.emplace_back(std::move(t), 1);
    }
  }
  return out;
}

std::uint32_t LexicalIndex::slot_of(std::int64_t chunk_id) const {
  auto it = std::lower_bound(m_chunk.begin(), m_chunk.end(), chunk_id);
  if (it == m_chunk.end() || *it != chunk_id) return NO_SLOT;
  return static_cast<std::uint32_t>(it - m_chunk.begin());
}

void LexicalIndex::add(std::int64_t chunk_id, const ChunkTerms& terms) {
  if (!m_chunk.empty() && chunk_id <= m_chunk.back()) return;
  const auto slot = static_cast<std::uint32_t>(m_chunk.size());
  m_chunk.push_back(chunk_id);
  m_length.push_back(terms.length);
  m_alive.push_back(1);
  ++m_live;
  m_tokens += terms.length;
  for (const auto& [term, frequency] : terms.terms) {
    auto it = m_terms.find(std::string_view(term));
    if (it == m_terms.end()) {
      it = m_terms.emplace(term, static_cast<std::uint32_t>(m_lists.size())).first;
      m_lists.emplace_back();
    }
    Postings& p = m_lists[it->second];
    put_varint(p.bytes, p.count == 0 ? slot : slot - p.last_slot);
    put_varint(p.bytes, frequency);
    p.last_slot = slot;
    ++p.count;
    ++p.live;
    ++m_postings_total;
  }
}

void LexicalIndex::remove(std::int64_t chunk_id, const ChunkTerms& terms) {
  const std::uint32_t slot = slot_of(chunk_id);
  if (slot == NO_SLOT || m_alive[slot] == 0) return;
  m_alive[slot] = 0;
  --m_live;
  m_tokens -= m_length[slot];
  for (const auto& [term, frequency] : terms.terms) {
    auto it = m_terms.find(std::string_view(term));
    if (it != m_terms.end() && m_lists[it->second].live > 0) --m_lists[it->second].live;
  }
  const std::size_t dead = m_chunk.size() - m_live;
  if (dead > std::max<std::size_t>(1024, m_live)) compact();
}

void LexicalIndex::shrink_to_fit() {
  for (auto& p : m_lists) p.bytes.shrink_to_fit();
  m_lists.shrink_to_fit();
  m_chunk.shrink_to_fit();
  m_length.shrink_to_fit();
  m_alive.shrink_to_fit();
}

void LexicalIndex::compact() {
  std::vector<std::uint32_t> renumber(m_chunk.size(), NO_SLOT);
  std::vector<std::int64_t> chunk;
  std::vector<std::uint32_t> length;
  for (std::size_t s = 0; s < m_chunk.size(); ++s) {
    if (m_alive[s] == 0) continue;
    renumber[s] = static_cast<std::uint32_t>(chunk.size());
    chunk.push_back(m_chunk[s]);
    length.push_back(m_length[s]);
  }
  decltype(m_terms) terms;
  std::vector<Postings> lists;
  m_postings_total = 0;
  for (const auto& [term, index] : m_terms) {
    const Postings& old = m_lists[index];
    if (old.live == 0) continue;
    Postings p;
    const std::uint8_t* at = old.bytes.data();
    std::uint32_t slot = 0;
    for (std::uint32_t i = 0; i < old.count; ++i) {
      slot += get_varint(at);
      const std::uint32_t frequency = get_varint(at);
      if (renumber[slot] == NO_SLOT) continue;
      put_varint(p.bytes, p.count == 0 ? renumber[slot] : renumber[slot] - p.last_slot);
      put_varint(p.bytes, frequency);
      p.last_slot = renumber[slot];
      ++p.count;
    }
    p.live = p.count;
    p.bytes.shrink_to_fit();
    m_postings_total += p.count;
    terms.emplace(term, static_cast<std::uint32_t>(lists.size()));
    lists.push_back(std::move(p));
  }
  m_terms = std::move(terms);
  m_lists = std::move(lists);
  m_chunk = std::move(chunk);
  m_length = std::move(length);
  m_alive.assign(m_chunk.size(), 1);
}

std::vector<LexicalIndex::Hit> LexicalIndex::search(const std::vector<std::string>& terms,
                                                    std::size_t n,
                                                    const ChunkRanges* allowed) const {
  if (m_live == 0 || m_tokens == 0 || n == 0 || terms.empty()) return {};
  std::vector<std::uint8_t> mask;
  if (allowed != nullptr) {
    mask.assign(m_chunk.size(), 0);
    for (const auto& [first, last] : *allowed) {
      auto lo = std::lower_bound(m_chunk.begin(), m_chunk.end(), first);
      auto hi = std::upper_bound(lo, m_chunk.end(), last);
      std::fill(mask.begin() + (lo - m_chunk.begin()), mask.begin() + (hi - m_chunk.begin()), 1);
    }
  }
  // As fts5_aux.c's bm25(): the same operations in the same order.
  const double rows = static_cast<double>(m_live);
  const double avgdl = static_cast<double>(m_tokens) / rows;
  std::vector<double> score(m_chunk.size(), 0.0);
  std::vector<std::uint32_t> touched;
  for (const auto& term : terms) {
    auto it = m_terms.find(std::string_view(term));
    if (it == m_terms.end()) continue;
    const Postings& p = m_lists[it->second];
    if (p.live == 0) continue;
    const double hits = static_cast<double>(p.live);
    double idf = std::log((rows - hits + 0.5) / (hits + 0.5));
    if (idf <= 0.0) idf = 1e-6;
    const std::uint8_t* at = p.bytes.data();
    std::uint32_t slot = 0;
    for (std::uint32_t i = 0; i < p.count; ++i) {
      slot += get_varint(at);
      const double frequency = get_varint(at);
      if (m_alive[slot] == 0 || (!mask.empty() && mask[slot] == 0)) continue;
      const double length = m_length[slot];
      const double s = idf * ((frequency * (BM25_K1 + 1.0)) /
                              (frequency + BM25_K1 * (1 - BM25_B + BM25_B * length / avgdl)));
      if (score[slot] == 0.0) touched.push_back(slot);
      score[slot] += s;
    }
  }
  auto better = [&](std::uint32_t a, std::uint32_t b) {
    return score[a] != score[b] ? score[a] > score[b] : m_chunk[a] < m_chunk[b];
  };
  if (touched.size() > n) {
    std::nth_element(touched.begin(), touched.begin() + static_cast<std::ptrdiff_t>(n),
                     touched.end(), better);
    touched.resize(n);
  }
  std::sort(touched.begin(), touched.end(), better);
  std::vector<Hit> out;
  out.reserve(touched.size());
  for (std::uint32_t s : touched) out.push_back(Hit{m_chunk[s], score[s]});
  return out;
}

std::int64_t LexicalIndex::document_frequency(std::string_view term) const {
  auto it = m_terms.find(term);
  return it == m_terms.end() ? 0 : m_lists[it->second].live;
}

std::int64_t LexicalIndex::last_chunk_id() const {
  for (std::size_t s = m_chunk.size(); s > 0; --s)
    if (m_alive[s - 1] != 0) return m_chunk[s - 1];
  return 0;
}

std::size_t LexicalIndex::memory_bytes() const {
  std::size_t bytes = m_chunk.capacity() * sizeof(std::int64_t) +
                      m_length.capacity() * sizeof(std::uint32_t) + m_alive.capacity() +
                      m_lists.capacity() * sizeof(Postings);
  for (const auto& p : m_lists) bytes += p.bytes.capacity();
  // A hash node: the string (and its heap text past the small-string buffer), the index,
  // the next pointer and the cached hash, plus a bucket pointer.
  for (const auto& [term, index] : m_terms)
    bytes += sizeof(std::string) + 3 * sizeof(void*) + (term.size() > 15 ? term.size() + 1 : 0);
  return bytes;
}

// The encoding, all integers little-endian:
//   u64 slots; slots × i64 chunk id; slots × u32 length; slots × u8 alive (0 or 1);
//   u64 terms; per term: u32 size, its bytes, u32 postings, u64 byte count, the varint bytes.
namespace {

template <typename T>
void put_fixed(std::string& out, T v) {
  using U = std::make_unsigned_t<T>;
  auto u = static_cast<U>(v);
  for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
}

// Reads what encode wrote; every read is bounds-checked and reports failure instead.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : m_at(bytes.data()), m_end(bytes.data() + bytes.size()) {}
  template <typename T>
  bool fixed(T& v) {
    using U = std::make_unsigned_t<T>;
    if (left() < sizeof(T)) return false;
    U u = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
      u |= static_cast<U>(static_cast<U>(static_cast<unsigned char>(m_at[i])) << (8 * i));
    m_at += sizeof(T);
    v = static_cast<T>(u);
    return true;
  }
  bool bytes(std::size_t n, std::string_view& out) {
    if (left() < n) return false;
    out = std::string_view(m_at, n);
    m_at += n;
    return true;
  }
  std::size_t left() const { return static_cast<std::size_t>(m_end - m_at); }

 private:
  const char* m_at;
  const char* m_end;
};

// A varint of at most 5 bytes that fits 32 bits, inside [p, end); false otherwise.
bool get_varint_checked(const std::uint8_t*& p, const std::uint8_t* end, std::uint32_t& v) {
  v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (p == end) return false;
    const std::uint8_t b = *p++;
    if (shift == 28 && (b & 0xF0) != 0) return false;
    v |= static_cast<std::uint32_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

void LexicalIndex::encode(std::string& out) const {
  std::size_t bytes = 16 + m_chunk.size() * 13;
  for (const auto& [term, index] : m_terms) bytes += 16 + term.size() + m_lists[index].bytes.size();
  out.reserve(out.size() + bytes);
  put_fixed<std::uint64_t>(out, m_chunk.size());
  for (std::int64_t id : m_chunk) put_fixed(out, id);
  for (std::uint32_t length : m_length) put_fixed(out, length);
  for (std::uint8_t alive : m_alive) out.push_back(static_cast<char>(alive));
  put_fixed<std::uint64_t>(out, m_terms.size());
  for (const auto& [term, index] : m_terms) {
    const Postings& p = m_lists[index];
    put_fixed(out, static_cast<std::uint32_t>(term.size()));
    out += term;
    put_fixed(out, p.count);
    put_fixed<std::uint64_t>(out, p.bytes.size());
    out.append(reinterpret_cast<const char*>(p.bytes.data()), p.bytes.size());
  }
}

std::optional<LexicalIndex> LexicalIndex::decode(std::string_view bytes) {
  Reader in(bytes);
  LexicalIndex out;
  std::uint64_t slots = 0;
  if (!in.fixed(slots) || slots > in.left() / 13 || slots >= NO_SLOT) return std::nullopt;
  out.m_chunk.resize(slots);
  out.m_length.resize(slots);
  out.m_alive.resize(slots);
  for (auto& id : out.m_chunk) {
    if (!in.fixed(id)) return std::nullopt;
  }
  for (std::size_t s = 1; s < out.m_chunk.size(); ++s)
    if (out.m_chunk[s] <= out.m_chunk[s - 1]) return std::nullopt;
  for (auto& length : out.m_length) {
    if (!in.fixed(length)) return std::nullopt;
  }
  for (std::size_t s = 0; s < slots; ++s) {
    std::uint8_t alive = 0;
    if (!in.fixed(alive) || alive > 1) return std::nullopt;
    out.m_alive[s] = alive;
    if (alive != 0) {
      ++out.m_live;
      out.m_tokens += out.m_length[s];
    }
  }
  std::uint64_t terms = 0;
  if (!in.fixed(terms) || terms > in.left() / 16) return std::nullopt;
  out.m_terms.reserve(terms);
  out.m_lists.reserve(terms);
  for (std::uint64_t t = 0; t < terms; ++t) {
    std::uint32_t size = 0;
    std::string_view term;
    std::uint32_t count = 0;
    std::uint64_t length = 0;
    std::string_view data;
    if (!in.fixed(size) || !in.bytes(size, term) || !in.fixed(count) || !in.fixed(length) ||
        !in.bytes(length, data) || count == 0 || count > slots)
      return std::nullopt;
    if (!out.m_terms.emplace(std::string(term), static_cast<std::uint32_t>(out.m_lists.size())).second)
      return std::nullopt;  // a term twice
    Postings p;
    p.bytes.assign(reinterpret_cast<const std::uint8_t*>(data.data()),
                   reinterpret_cast<const std::uint8_t*>(data.data()) + data.size());
    const std::uint8_t* at = p.bytes.data();
    const std::uint8_t* end = at + p.bytes.size();
    std::uint64_t slot = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
      std::uint32_t gap = 0;
      std::uint32_t frequency = 0;
      if (!get_varint_checked(at, end, gap) || !get_varint_checked(at, end, frequency)) return std::nullopt;
      if ((i > 0 && gap == 0) || frequency == 0) return std::nullopt;
      slot += gap;
      if (slot >= slots) return std::nullopt;
      if (out.m_alive[slot] != 0) ++p.live;
    }
    if (at != end) return std::nullopt;
    p.last_slot = static_cast<std::uint32_t>(slot);
    p.count = count;
    out.m_postings_total += count;
    out.m_lists.push_back(std::move(p));
  }
  if (in.left() != 0) return std::nullopt;
  return out;
}

}  // namespace hn::services::rag
