// lexical_index.h — the corpus's BM25 ranking in memory: an inverted index of the chunks'
// terms (as FTS5's tokenizer cuts them, fts_tokenizer.h) with each chunk's length in
// tokens. The corpus store rebuilds it from the database on open and updates it after each
// committed write; SQLite (chunks, and the FTS5 index chunks_fts) stays the persistent
// store and the truth. It exists because FTS5 answers a query with a common word by reading
// that word's whole doclist from disk and scoring every row it yields (doc/design/rag.md,
// "Retrieval"); here a query walks compact in-memory postings.
//
// Scoring is FTS5's bm25() over an OR of the query's terms, to the formula: k1 = 1.2,
// b = 0.75, idf = ln((N − n + 0.5) / (n + 0.5)) and at least 1e-6, N the chunks, n those
// holding the term, a chunk's length against the average length of all chunks.
//
// Postings: per term, (slot gap, term frequency) pairs as varints in slot order; a slot is
// a chunk's position in the index, given in increasing chunk-id order. A removed chunk's
// slot is marked dead (its postings skipped) and the index compacts itself when dead slots
// outnumber live ones.
//
// Persistence: `encode` writes the state as it is (slots, then per term its postings' varint
// bytes) and `decode` reads it back without tokenising anything, checking every count, slot
// and varint so that no input can make a search read out of bounds; lexical_file.h frames
// the bytes in a file with a version, the database's write stamp and a checksum.
//
// Thread-safety: none inside; the owner (CorpusStore) holds a shared lock for search and
// encode, an exclusive one for add / remove.
// Invariants: chunk ids are added in increasing order (AUTOINCREMENT) and never reused; a
// term's live document frequency counts the live chunks holding it; every live chunk's
// terms are in the postings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace hn::services::rag {

class FtsTokenizer;

// FTS5's bm25() constants (fts5_aux.c).
inline constexpr double BM25_K1 = 1.2;
inline constexpr double BM25_B = 0.75;

// A chunk's terms, each with how often it occurs, and its length in tokens.
struct ChunkTerms {
  std::vector<std::pair<std::string, std::uint32_t>> terms;  // sorted by term
  std::uint32_t length = 0;
};
// Cuts a chunk's text with the tokenizer FTS5 indexes it with.
ChunkTerms count_terms(FtsTokenizer& tokenizer, std::string_view text);

class LexicalIndex {
 public:
  struct Hit {
    std::int64_t chunk_id = 0;
    double score = 0;  // bm25, higher = better (FTS5's bm25() is its negative)
  };
  // Inclusive chunk-id ranges a search may return (a filter's allowed documents).
  using ChunkRanges = std::vector<std::pair<std::int64_t, std::int64_t>>;

  // Adds a chunk; ids must increase (an id at or below the last one added is ignored).
  void add(std::int64_t chunk_id, const ChunkTerms& terms);
  // Removes a chunk with the terms it was added with; a no-op for an unknown id.
  void remove(std::int64_t chunk_id, const ChunkTerms& terms);
  // Gives back the postings' spare capacity (after a bulk build).
  void shrink_to_fit();

  // Appends the whole state to `out` (little-endian; the layout is in lexical_index.cpp).
  void encode(std::string& out) const;
  // The index `encode` wrote; nullopt when the bytes are malformed in any way (counts past
  // the end, ids out of order, a posting's slot out of range, a bad varint, a duplicate
  // term). Derived counts (live chunks, tokens, document frequencies) are recomputed.
  static std::optional<LexicalIndex> decode(std::string_view bytes);

  // The best `n` chunks for an OR of `terms` by bm25, best first (ties: the lower id);
  // only chunks inside `allowed` when it is given.
  std::vector<Hit> search(const std::vector<std::string>& terms, std::size_t n,
                          const ChunkRanges* allowed = nullptr) const;

  std::size_t size() const { return m_live; }                    // live chunks
  std::int64_t last_chunk_id() const;                            // the highest live id, or 0
  std::int64_t document_frequency(std::string_view term) const;  // live chunks holding it
  std::size_t terms() const { return m_terms.size(); }           // distinct terms
  std::size_t postings() const { return m_postings_total; }      // including dead slots'
  std::size_t memory_bytes() const;                              // about

 private:
  struct Postings {
    std::vector<std::uint8_t> bytes;  // varint(slot gap), varint(frequency), …
    std::uint32_t last_slot = 0;      // the slot of the last posting (gaps count from it)
    std::uint32_t count = 0;          // postings, dead slots' included
    std::uint32_t live = 0;           // live chunks holding the term
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Rewrites the postings without dead slots.
  void compact();
  std::uint32_t slot_of(std::int64_t chunk_id) const;  // UINT32_MAX when absent

  std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>>
      m_terms;  // term → m_lists index
  std::vector<Postings> m_lists;
  std::vector<std::int64_t> m_chunk;    // slot → chunk id, increasing
  std::vector<std::uint32_t> m_length;  // slot → tokens
  std::vector<std::uint8_t> m_alive;    // slot → 1 while live
  std::size_t m_live = 0;
  std::uint64_t m_tokens = 0;  // of live chunks
  std::size_t m_postings_total = 0;
};

}  // namespace hn::services::rag
