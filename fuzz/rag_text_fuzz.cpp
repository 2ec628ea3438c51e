// rag_text_fuzz.cpp — libFuzzer target for the RAG text chunker (services/rag/chunker.h):
// chunk_document over a plain-text or Markdown upload, and chunk_text over raw bytes
// (valid UTF-8 or not). The first byte picks the format, a small window (tokens, overlap)
// and a small character cap, so short inputs exercise every split level; the rest is the
// document. Must never crash; every chunk must be a non-empty slice of the input within
// the cap, ordinals must run 0, 1, 2…, a valid document gives valid UTF-8 chunks, and the
// chunks must hold every non-whitespace byte of the input. Seeds: fuzz/corpus/rag_text/.
//
// Thread-safety: libFuzzer calls this from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "services/rag/chunker.h"
#include "services/rag/utf8_text.h"

namespace {

using namespace hn::services::rag;

std::size_t non_space_bytes(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') ++n;
  }
  return n;
}

void check(std::string_view text, const std::vector<Chunk>& chunks, const ChunkOptions& o,
           bool valid_input) {
  std::size_t held = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const Chunk& c = chunks[i];
    if (c.text.empty() || c.ordinal != static_cast<int>(i)) std::abort();
    if (utf8_length(c.text) > o.max_chars) std::abort();
    if (text.find(c.text) == std::string_view::npos) std::abort();
    if (valid_input && !is_valid_utf8(c.text)) std::abort();
    held += non_space_bytes(c.text);
  }
  if (held < non_space_bytes(text)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  ChunkOptions o;
  o.format = (data[0] & 1) != 0 ? TextFormat::markdown : TextFormat::plain;
  o.tokens_per_chunk = 1 + ((data[0] >> 1) & 7) * 8;  // 1..57
  o.overlap_tokens = (data[0] >> 4) & 3 ? o.tokens_per_chunk / 3 : 0;
  o.max_chars = (data[0] & 0x80) != 0 ? 16 : 200;
  const std::span<const std::byte> doc(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  auto r =
      chunk_document(doc, o.format == TextFormat::markdown ? "text/markdown" : "text/plain", o);
  const bool has_bom = text.starts_with("\xEF\xBB\xBF");
  const bool valid = is_valid_utf8(text);
  if (r) {
    if (!valid) std::abort();
    check(has_bom ? text.substr(3) : text, *r, o, true);
  } else if (r.error().code != hn::ErrorCode::bad_request) {
    std::abort();
  }
  check(text, chunk_text(text, o), o, valid);
  (void)approximate_tokens(text);
  return 0;
}
