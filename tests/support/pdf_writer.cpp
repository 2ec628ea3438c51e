// pdf_writer.cpp — small valid PDFs (and broken ones) for tests; see pdf_writer.h.
#include "support/pdf_writer.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>

#include "support/test_support.h"

namespace hn::test {
namespace {

// Decodes one UTF-8 sequence at s[i] (advancing i); U+FFFD for a bad byte.
std::uint32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i++]);
  if (b0 < 0x80) return b0;
  int extra = b0 >= 0xF0 ? 3 : b0 >= 0xE0 ? 2 : b0 >= 0xC0 ? 1 : -1;
  if (extra < 0) return 0xFFFD;
  std::uint32_t cp = b0 & (0x3F >> extra);
  for (int k = 0; k < extra; ++k) {
    if (i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  }
  return cp;
}

// A PDF literal string "(...)" in WinAnsiEncoding: Latin-1 kept (octal escapes above
// ASCII), everything else '?'.
std::string pdf_literal(std::string_view utf8) {
  std::string out = "(";
  for (std::size_t i = 0; i < utf8.size();) {
    const std::uint32_t cp = next_code_point(utf8, i);
    if (cp == '(' || cp == ')' || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp >= 0x20 && cp < 0x7F) {
      out += static_cast<char>(cp);
    } else if (cp >= 0xA0 && cp <= 0xFF) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out += '?';
    }
  }
  out += ')';
  return out;
}

std::string text_content(const PdfPage& lines) {
  if (lines.empty()) return "0.5 w 72 72 468 648 re S\n";  // a frame, no text
  std::string s = "BT\n/F1 12 Tf\n14 TL\n72 720 Td\n";
  for (const auto& line : lines) s += pdf_literal(line) + " Tj T*\n";
  s += "ET\n";
  return s;
}

// Objects 1 (catalog), 2 (pages), 3 (font), then per page a page object and its content.
std::string assemble(const std::vector<std::string>& contents) {
  std::vector<std::string> objects;
  const std::size_t n = contents.size();
  objects.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  std::string kids;
  for (std::size_t p = 0; p < n; ++p) kids += std::to_string(4 + 2 * p) + " 0 R ";
  objects.push_back("<< /Type /Pages /Kids [ " + kids + "] /Count " + std::to_string(n) + " >>");
  objects.push_back(
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  for (std::size_t p = 0; p < n; ++p) {
    objects.push_back(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font "
        "<< /F1 3 0 R >> >> /Contents " +
        std::to_string(5 + 2 * p) + " 0 R >>");
    objects.push_back("<< /Length " + std::to_string(contents[p].size()) + " >>\nstream\n" +
                      contents[p] + "endstream");
  }
  std::string pdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (const std::size_t off : offsets) {
    char entry[32];
    std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", off);
    pdf += entry;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) +
         " /Root 1 0 R >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

}  // namespace

std::string make_pdf(const std::vector<PdfPage>& pages) {
  std::vector<std::string> contents;
  for (const auto& page : pages) contents.push_back(text_content(page));
  if (contents.empty()) contents.push_back(text_content({}));
  return assemble(contents);
}

std::vector<PdfPage> wrap_pages(std::string_view text, std::size_t width) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view para = text.substr(start, nl - start);
    std::string line;
    std::size_t i = 0;
    bool any = false;
    while (i < para.size()) {
      while (i < para.size() && para[i] == ' ') ++i;
      std::size_t j = para.find(' ', i);
      if (j == std::string_view::npos) j = para.size();
      if (j > i) {
        const std::string_view word = para.substr(i, j - i);
        if (!line.empty() && line.size() + 1 + word.size() > width) {
          lines.push_back(line);
          line.clear();
        }
        if (!line.empty()) line += ' ';
        line += word;
        any = true;
      }
      i = j;
    }
    if (any)
      lines.push_back(line);
    else if (nl < text.size())
      lines.emplace_back();  // a blank line: a paragraph break
    start = nl + 1;
  }
  std::vector<PdfPage> pages;
  for (std::size_t i = 0; i < lines.size(); i += PDF_LINES_PER_PAGE) {
    const std::size_t end = std::min(lines.size(), i + PDF_LINES_PER_PAGE);
    pages.emplace_back(lines.begin() + static_cast<std::ptrdiff_t>(i),
                       lines.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return pages;
}

std::string make_textless_pdf(int page_count) {
  std::vector<std::string> contents;
  for (int p = 0; p < std::max(1, page_count); ++p) {
    // A grey "scan": filled rectangles, as an image-only page looks to a text extractor.
    contents.push_back("0.8 g 72 " + std::to_string(100 + 10 * p) + " 468 600 re f\n");
  }
  return assemble(contents);
}

std::string encrypt_pdf(const std::string& pdf, const std::string& user_password,
                        const std::string& owner_password) {
  const std::string qpdf = find_program("qpdf");
  if (qpdf.empty()) return "";
  TempDir dir;
  const auto in = dir / "in.pdf";
  const auto out = dir / "out.pdf";
  if (!write_bytes(in, pdf)) return "";
  const auto r = run_process(
      {qpdf, "--encrypt", user_password, owner_password, "256", "--", in.string(), out.string()});
  if (r.exit_code != 0) return "";
  return read_text(out);
}

std::string truncate_pdf(const std::string& pdf, double keep_fraction) {
  const auto keep = static_cast<std::size_t>(static_cast<double>(pdf.size()) * keep_fraction);
  return pdf.substr(0, std::min(keep, pdf.size()));
}

std::string corrupt_pdf(const std::string& pdf) {
  std::string out = pdf;
  const std::size_t header = out.find('\n', out.find('\n') + 1) + 1;  // after the 2 header lines
  const std::string trailer = "\n%%EOF\n";
  if (out.size() < header + trailer.size()) return out;
  std::uint32_t x = 2463534242u;  // xorshift: deterministic junk without "obj" or "xref"
  for (std::size_t i = header; i < out.size() - trailer.size(); ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<char>('A' + x % 26);
  }
  out.replace(out.size() - trailer.size(), trailer.size(), trailer);
  return out;
}

bool write_bytes(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(f);
}

}  // namespace hn::test
