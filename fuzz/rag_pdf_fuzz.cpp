// rag_pdf_fuzz.cpp — libFuzzer target for the RAG PDF chunker (services/rag/chunker.h
// pdf_pages, chunk_pdf): the bytes of an uploaded PDF, through our checks and poppler.
// Must never crash; a refusal is bad_request; a success has pages numbered 1, 2, 3… and
// chunks that are non-empty, valid UTF-8, within embed.text's character limit, numbered
// 0, 1, 2… and on an existing page. Seeds: fuzz/corpus/rag_pdf/ (pdf_writer's output).
//
// Thread-safety: libFuzzer calls this from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "services/rag/chunker.h"
#include "services/rag/utf8_text.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hn::services::rag;
  const std::span<const std::byte> pdf(reinterpret_cast<const std::byte*>(data), size);
  auto pages = pdf_pages(pdf);
  if (!pages) {
    if (pages.error().code != hn::ErrorCode::bad_request) std::abort();
    return 0;
  }
  for (std::size_t i = 0; i < pages->size(); ++i) {
    const PageText& p = (*pages)[i];
    if (p.page != static_cast<int>(i) + 1 || !is_valid_utf8(p.text)) std::abort();
  }
  ChunkOptions o;
  o.tokens_per_chunk = 40;
  o.overlap_tokens = 10;
  auto chunks = chunk_pdf(pdf, o);
  if (!chunks) std::abort();  // pdf_pages took it, so chunk_pdf must
  for (std::size_t i = 0; i < chunks->size(); ++i) {
    const Chunk& c = (*chunks)[i];
    if (c.text.empty() || c.ordinal != static_cast<int>(i) || !is_valid_utf8(c.text) ||
        utf8_length(c.text) > hn::EMBED_MAX_TEXT_CHARS || c.page < 1 ||
        c.page > static_cast<int>(pages->size())) {
      std::abort();
    }
  }
  return 0;
}
