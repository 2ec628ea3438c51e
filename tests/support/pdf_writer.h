// pdf_writer.h — generates small, valid PDFs for tests: given text lines per page, one
// page each (Type1 Helvetica, uncompressed content streams, a correct xref table and a
// %%EOF trailer), so a test can put a known fact on a known page. Also the bad PDFs the
// RAG chunker must refuse: an encrypted copy (through the `qpdf` CLI), a truncated copy,
// a corrupt one, and a "scanned" one whose pages carry graphics but no text.
//
// Thread-safety: free functions over their arguments; encrypt_pdf runs a child process in
// a scratch directory of its own.
// Invariants: make_pdf's output parses with poppler and `qpdf --check`; each text line
// stays on its page (lines that do not fit 50 to a page are the caller's business —
// paginate with wrap_lines first).
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hn::test {

// One page: its text lines, top to bottom. Lines are UTF-8; characters of Latin-1 are kept
// (WinAnsiEncoding), others become '?'. An empty page draws a rectangle and has no text.
using PdfPage = std::vector<std::string>;

// Lines that fit one page at 12 pt with 14 pt leading on US Letter.
inline constexpr std::size_t PDF_LINES_PER_PAGE = 50;

// The bytes of a PDF with these pages (at least one page; none gives one empty page).
std::string make_pdf(const std::vector<PdfPage>& pages);

// Splits text into lines of at most `width` characters at spaces (a word longer than width
// stands alone), then into pages of PDF_LINES_PER_PAGE lines. Blank lines in the input
// (paragraph breaks) are kept.
std::vector<PdfPage> wrap_pages(std::string_view text, std::size_t width = 90);

// A PDF whose every page is graphics only (as a scan without OCR looks to a text
// extractor).
std::string make_textless_pdf(int page_count = 2);

// An AES-256 encrypted copy made by `qpdf --encrypt USER OWNER 256 -- in out`; "" when qpdf
// is missing or fails. Opening it needs the user password.
std::string encrypt_pdf(const std::string& pdf, const std::string& user_password = "user",
                        const std::string& owner_password = "owner");

// The first `keep_fraction` of the bytes (no xref table, no %%EOF trailer).
std::string truncate_pdf(const std::string& pdf, double keep_fraction = 0.6);

// A copy with the xref table and the objects' bodies overwritten by junk (the header and
// %%EOF stay, so only the parser can tell).
std::string corrupt_pdf(const std::string& pdf);

// Writes bytes to a file; false on failure.
bool write_bytes(const std::filesystem::path& path, std::string_view bytes);

// A view of a string's bytes, as the chunker takes them.
inline std::span<const std::byte> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace hn::test
