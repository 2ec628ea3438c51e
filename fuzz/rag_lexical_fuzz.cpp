// rag_lexical_fuzz.cpp — libFuzzer target for the lexical index's file body
// (services/rag/lexical_index.h, LexicalIndex::decode): lexical.idx is bytes from disk, checked
// by its BLAKE3 first, but decode must stand on its own. Must never crash or read out of
// bounds; a body it accepts must answer searches (with and without allowed ranges), take a
// write, and encode to bytes that decode to the same counts. Seeds: fuzz/corpus/rag_lexical/.
//
// Thread-safety: libFuzzer calls this from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "services/rag/lexical_index.h"

namespace {

using namespace hn::services::rag;

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto index = LexicalIndex::decode(bytes);
  if (!index) return 0;
  const std::vector<std::string> terms{"a", "b", "pump", "water", "t1", ""};
  const auto hits = index->search(terms, 10);
  check(hits.size() <= 10 && hits.size() <= index->size());
  const LexicalIndex::ChunkRanges ranges{{0, 3}, {5, 1000}};
  (void)index->search(terms, 5, &ranges);
  for (const auto& t : terms) check(index->document_frequency(t) <= static_cast<std::int64_t>(index->size()));
  std::string again;
  index->encode(again);
  auto round = LexicalIndex::decode(again);
  check(round.has_value());
  check(round->size() == index->size() && round->terms() == index->terms() &&
        round->postings() == index->postings() && round->last_chunk_id() == index->last_chunk_id());
  ChunkTerms more;
  more.terms = {{"pump", 2}, {"water", 1}};
  more.length = 3;
  index->add(index->last_chunk_id() + 1, more);
  (void)index->search(terms, 10);
  index->remove(index->last_chunk_id(), more);
  (void)index->search(terms, 10);
  return 0;
}
