// chunker.h — documents to chunks (M05 §3.1): plain text and Markdown by paragraphs, then
// sentences, then words, in a sliding window measured in tokens (RAG_CHUNK_TOKENS with
// RAG_CHUNK_OVERLAP_TOKENS of overlap); PDF text per page through poppler, each chunk
// keeping its page number.
//
// Thread-safety: free functions over their arguments; a TokenCounter given to them is
// called from the calling thread only.
// Invariants: every chunk's text is non-empty and at most EMBED_MAX_TEXT_CHARS
// characters (embed.text's limit, CONTRACT §4.3); ordinals run 0, 1, 2… across the
// document; bad input (unsupported media type, encrypted, corrupt or text-less PDF)
// is a bad_request Error, never an exception or a partial result.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/constants.h"
#include "core/error.h"

namespace hn::services::rag {

// Counts tokens in a text: the embedder's own tokenizer when one is reachable, else
// approximate_tokens.
using TokenCounter = std::function<int(std::string_view)>;

// A cheap estimate (words and punctuation, ~4 characters a token for long words).
int approximate_tokens(std::string_view text);

struct ChunkOptions {
  int tokens_per_chunk = RAG_CHUNK_TOKENS;
  int overlap_tokens = RAG_CHUNK_OVERLAP_TOKENS;
  TokenCounter count_tokens;  // empty = approximate_tokens
};

struct Chunk {
  std::string text;
  int page = 0;     // 1-based PDF page; 0 when the document has no pages
  int ordinal = 0;  // position in the document, from 0
  int tokens = 0;   // as counted by the options' counter
};

// One page (or the whole text of a non-paged document) before chunking.
struct PageText {
  int page = 0;
  std::string text;
};

// Media types the chunker takes ("application/pdf", "text/plain", "text/markdown").
bool supported_media_type(std::string_view media_type);

// Splits text into chunks; `page` is copied into each; ordinals start at `first_ordinal`.
std::vector<Chunk> chunk_text(std::string_view text, const ChunkOptions& options, int page = 0,
                              int first_ordinal = 0);

// The text of every page of a PDF (poppler). bad_request for an encrypted, corrupt or
// truncated file, or one without any extractable text (a scan: OCR is phase 2).
Result<std::vector<PageText>> pdf_pages(std::span<const std::byte> pdf);

// chunk_pdf: pdf_pages, then chunk_text per page.
Result<std::vector<Chunk>> chunk_pdf(std::span<const std::byte> pdf, const ChunkOptions& options);

// By media type: PDF, plain text or Markdown (UTF-8; invalid UTF-8 is bad_request).
Result<std::vector<Chunk>> chunk_document(std::span<const std::byte> bytes, std::string_view media_type,
                                          const ChunkOptions& options);

}  // namespace hn::services::rag
