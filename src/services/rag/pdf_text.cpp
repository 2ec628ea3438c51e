// pdf_text.cpp — PDF text per page through poppler-cpp, and chunk_pdf (M05 §3.1, §4.6).
// poppler is the engine behind pdftotext; its C++ binding is Debian-packaged
// (libpoppler-cpp-dev). Its error chatter on stderr is silenced: a bad PDF is an Error.
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <climits>
#include <memory>
#include <mutex>

#include "services/rag/chunker.h"
#include "services/rag/text_pieces.h"
#include "services/rag/utf8_text.h"

namespace hn::services::rag {
namespace {

// The PDF spec asks readers to look for the header in the first and the "%%EOF" marker in
// the last 1024 bytes (Acrobat's tolerance for junk around them).
constexpr std::size_t PDF_SLACK_BYTES = 1024;

void silence_poppler() {
  static std::once_flag once;
  std::call_once(
      once, [] { poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr); });
}

bool has_header(std::string_view pdf) {
  return pdf.substr(0, PDF_SLACK_BYTES).find("%PDF-") != std::string_view::npos;
}

bool has_eof_trailer(std::string_view pdf) {
  const std::size_t from = pdf.size() > PDF_SLACK_BYTES ? pdf.size() - PDF_SLACK_BYTES : 0;
  return pdf.substr(from).find("%%EOF") != std::string_view::npos;
}

bool is_blank(std::string_view s) {
  for (const char c : s) {
    if (!is_ascii_space(c)) return false;
  }
  return true;
}

Error bad_pdf(std::string message, nlohmann::json detail = nullptr) {
  return make_error(ErrorCode::bad_request, std::move(message), std::move(detail));
}

}  // namespace

Result<std::vector<PageText>> pdf_pages(std::span<const std::byte> pdf) {
  const std::string_view bytes(reinterpret_cast<const char*>(pdf.data()), pdf.size());
  if (bytes.empty()) return bad_pdf("empty PDF");
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) return bad_pdf("PDF too large");
  if (!has_header(bytes)) return bad_pdf("not a PDF: no %PDF- header");
  // poppler rebuilds a truncated file's cross-reference table and reads what is left: a
  // document cut short must not be ingested as if it were whole.
  if (!has_eof_trailer(bytes)) return bad_pdf("truncated PDF: no %%EOF trailer");
  silence_poppler();
  try {
    const std::unique_ptr<poppler::document> doc(
        poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
    if (!doc) return bad_pdf("corrupt PDF: poppler cannot read it");
    if (doc->is_locked() || doc->is_encrypted()) {
      return bad_pdf("encrypted PDF",
                     {{"hint", "remove the encryption (qpdf --decrypt) and ingest the copy"}});
    }
    const int count = doc->pages();
    if (count <= 0) return bad_pdf("corrupt PDF: no pages");
    std::vector<PageText> pages;
    bool any_text = false;
    for (int i = 0; i < count; ++i) {
      const std::unique_ptr<poppler::page> page(doc->create_page(i));
      if (!page) return bad_pdf("corrupt PDF: page " + std::to_string(i + 1) + " cannot be read");
      const poppler::byte_array utf8 =
          page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout).to_utf8();
      PageText p{i + 1, clean_text(std::string_view(utf8.data(), utf8.size()))};
      any_text = any_text || !is_blank(p.text);
      pages.push_back(std::move(p));
    }
    if (!any_text) {
      return bad_pdf("PDF has no extractable text",
                     {{"hint", "scanned PDFs need OCR, which comes in phase 2"}});
    }
    return pages;
  } catch (const std::exception& e) {
    return bad_pdf("corrupt PDF: " + clean_text(e.what()));
  }
}

Result<std::vector<Chunk>> chunk_pdf(std::span<const std::byte> pdf, const ChunkOptions& options) {
  HN_TRY_ASSIGN(std::vector<PageText> pages, pdf_pages(pdf));
  ChunkOptions page_options = options;
  page_options.format = TextFormat::plain;
  return chunk_pages(pages, page_options);
}

}  // namespace hn::services::rag
