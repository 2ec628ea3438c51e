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
// Counts many texts at once (one answer per text, in order): the embedder's tokenizer
// behind one call (embed.tokenize takes a list), where one call per text would cost a bus
// round trip each. An answer of another length counts as a failure (approximated).
using TokenBatchCounter = std::function<std::vector<int>(const std::vector<std::string_view>&)>;

// A cheap estimate: a word is one token per 4 characters (at least one), each
// punctuation mark or symbol one, each CJK ideograph, kana or emoji one, whitespace none.
// Errs high for English prose (BPE vocabularies hold most short words whole), so windows
// measured with it stay within an embedder's context.
int approximate_tokens(std::string_view text);

// How a text marks its structure: plain text has paragraphs (blank lines); Markdown also
// has headings (ATX "# …" and setext underlines), which start a paragraph and stay with
// the text that follows them, and fenced code blocks, inside which nothing splits them.
enum class TextFormat { plain, markdown };

// Out-of-range values are clamped: tokens_per_chunk to at least 1, overlap_tokens to
// 0..tokens_per_chunk/2, max_chars to 1..EMBED_MAX_TEXT_CHARS.
struct ChunkOptions {
  int tokens_per_chunk = RAG_CHUNK_TOKENS;
  int overlap_tokens = RAG_CHUNK_OVERLAP_TOKENS;
  TokenCounter count_tokens;              // empty = approximate_tokens
  // When set, used instead of count_tokens: the pieces the window weighs are counted in a
  // few batches (a round per level of splitting), the same counts as one by one.
  TokenBatchCounter count_tokens_batch;
  TextFormat format = TextFormat::plain;  // chunk_document sets it from the media type
  // The hard cap on a chunk, in characters (Unicode code points): embed.text's limit.
  std::size_t max_chars = EMBED_MAX_TEXT_CHARS;
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

// Media types the chunker takes ("application/pdf", "text/plain", "text/markdown" and its
// older name "text/x-markdown"), with or without parameters.
bool supported_media_type(std::string_view media_type);

// Splits text into chunks; `page` is copied into each; ordinals start at `first_ordinal`.
// Chunks end at paragraph boundaries where that keeps them at least half full, else at
// sentence ends, else between words (a word too long for a chunk is cut between
// characters). Each chunk after the first starts with the previous chunk's last
// paragraphs or sentences, up to overlap_tokens. A chunk's text is a slice of `text`
// without leading or trailing whitespace. Text with nothing but whitespace gives no
// chunks. Expects UTF-8 (chunk_document checks it); other bytes are never split inside a
// sequence that looks like a character, and never crash it.
std::vector<Chunk> chunk_text(std::string_view text, const ChunkOptions& options, int page = 0,
                              int first_ordinal = 0);

// chunk_text over several pages at once (ordinals run on across them from first_ordinal),
// with one round of batched counts for all of them when options.count_tokens_batch is set.
std::vector<Chunk> chunk_pages(const std::vector<PageText>& pages, const ChunkOptions& options,
                               int first_ordinal = 0);

// The text of every page of a PDF (poppler), in page order, pages without text included
// (with empty text); the text is valid UTF-8 with control characters other than newline
// and tab turned into spaces. bad_request for an encrypted (even without a user
// password), corrupt or truncated file (no "%PDF-" header, no "%%EOF" trailer in its last
// 1024 bytes, or poppler cannot read it), or one without any extractable text (a scan:
// OCR is phase 2).
Result<std::vector<PageText>> pdf_pages(std::span<const std::byte> pdf);

// chunk_pdf: pdf_pages, then chunk_text per page.
Result<std::vector<Chunk>> chunk_pdf(std::span<const std::byte> pdf, const ChunkOptions& options);

// By media type: PDF, plain text or Markdown (UTF-8; invalid UTF-8 is bad_request; a
// leading byte-order mark is skipped). A media type may carry parameters ("; charset=…"),
// compared case-insensitively; a charset other than UTF-8 or US-ASCII is unsupported. An
// unsupported media type, and a document without any text, are bad_request.
Result<std::vector<Chunk>> chunk_document(std::span<const std::byte> bytes,
                                          std::string_view media_type, const ChunkOptions& options);

}  // namespace hn::services::rag
