// pdf_text_test.cpp — pdf_pages and chunk_pdf through poppler on PDFs that pdf_writer
// generates (M05 §3.1, §4.6): text per page with 1-based page numbers, a known fact on a
// known page, and bad_request for encrypted, truncated, corrupt and text-less (scanned)
// files.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "services/rag/chunker.h"
#include "support/pdf_writer.h"
#include "support/test_support.h"

namespace hn::services::rag {
namespace {

using hn::test::as_bytes;
using hn::test::make_pdf;

const std::string FACT = "The spare key of the water pump hangs in the blue box by the gate.";

std::string three_page_pdf() {
  return make_pdf({{"Allotment handbook", "Opening hours are from dawn to dusk."},
                   {"Water", FACT, "Report leaks to the board."},
                   {"Compost", "Green waste goes to bay three."}});
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// The bad_request message a PDF gets; "" when it is accepted.
std::string refusal(const std::string& pdf) {
  auto r = pdf_pages(as_bytes(pdf));
  if (r) return "";
  EXPECT_EQ(r.error().code, ErrorCode::bad_request);
  EXPECT_NO_THROW((void)r.error().to_json().dump());
  auto chunks = chunk_document(as_bytes(pdf), "application/pdf", ChunkOptions{});
  EXPECT_FALSE(chunks);
  return r.error().message;
}

TEST(RagPdfText, ReadsTheTextOfEveryPageInOrder) {
  auto pages = pdf_pages(as_bytes(three_page_pdf()));
  ASSERT_TRUE(pages) << pages.error().to_string();
  ASSERT_EQ(pages->size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ((*pages)[static_cast<std::size_t>(i)].page, i + 1);
  EXPECT_TRUE(contains((*pages)[0].text, "Opening hours are from dawn to dusk."));
  EXPECT_TRUE(contains((*pages)[1].text, FACT)) << (*pages)[1].text;
  EXPECT_FALSE(contains((*pages)[0].text, "water pump"));
  EXPECT_TRUE(contains((*pages)[2].text, "bay three"));
}

TEST(RagPdfText, MultiPageRoundTripPutsTheFactOnItsPage) {
  auto chunks = chunk_document(as_bytes(three_page_pdf()), "application/pdf", ChunkOptions{});
  ASSERT_TRUE(chunks) << chunks.error().to_string();
  ASSERT_EQ(chunks->size(), 3u);  // one short page, one chunk
  int fact_page = 0;
  for (std::size_t i = 0; i < chunks->size(); ++i) {
    EXPECT_EQ((*chunks)[i].ordinal, static_cast<int>(i));
    if (contains((*chunks)[i].text, "blue box")) fact_page = (*chunks)[i].page;
  }
  EXPECT_EQ(fact_page, 2);
}

TEST(RagPdfText, KeepsLatin1TextAndSkipsEmptyPages) {
  auto pdf = make_pdf({{"Wasserstra\xC3\x9F"
                        "e 12, M\xC3\xBClheim"},
                       {},
                       {"Seite drei."}});
  auto pages = pdf_pages(as_bytes(pdf));
  ASSERT_TRUE(pages) << pages.error().to_string();
  ASSERT_EQ(pages->size(), 3u);
  EXPECT_TRUE(contains((*pages)[0].text,
                       "Wasserstra\xC3\x9F"
                       "e 12, M\xC3\xBClheim"));
  auto chunks = chunk_pdf(as_bytes(pdf), ChunkOptions{});
  ASSERT_TRUE(chunks);
  ASSERT_EQ(chunks->size(), 2u);
  EXPECT_EQ((*chunks)[0].page, 1);
  EXPECT_EQ((*chunks)[1].page, 3);
  EXPECT_EQ((*chunks)[1].ordinal, 1);
}

TEST(RagPdfText, ChunkPdfCarriesPageNumbers) {
  // A long document: 12 pages, each line naming its page; pages hold ~520 tokens, so
  // with 300-token chunks each page gives several chunks.
  std::vector<hn::test::PdfPage> pages;
  for (int p = 1; p <= 12; ++p) {
    hn::test::PdfPage lines;
    for (int l = 0; l < 40; ++l) {
      lines.push_back("Page" + std::to_string(p) + "marker line " + std::to_string(l) +
                      " of the emergency handbook.");
    }
    pages.push_back(lines);
  }
  ChunkOptions o;
  o.tokens_per_chunk = 300;
  o.overlap_tokens = 60;
  auto chunks = chunk_pdf(as_bytes(make_pdf(pages)), o);
  ASSERT_TRUE(chunks) << chunks.error().to_string();
  ASSERT_GE(chunks->size(), 24u);  // at least two a page
  int last_page = 1;
  for (std::size_t i = 0; i < chunks->size(); ++i) {
    const Chunk& c = (*chunks)[i];
    EXPECT_EQ(c.ordinal, static_cast<int>(i));
    EXPECT_GE(c.page, last_page);
    last_page = c.page;
    const std::string marker = "Page" + std::to_string(c.page) + "marker";
    EXPECT_TRUE(contains(c.text, marker)) << "chunk " << i << " page " << c.page;
    for (int other = 1; other <= 12; ++other) {
      if (other == c.page) continue;
      EXPECT_FALSE(contains(c.text, "Page" + std::to_string(other) + "marker "))
          << "chunk " << i << " mixes pages";
    }
  }
  EXPECT_EQ(last_page, 12);
}

TEST(RagPdfText, ParsesOnSeveralThreadsAtOnce) {
  // The service's work queue may ingest two documents at once (rag.ingest max_concurrent).
  const std::string pdf = three_page_pdf();
  const std::string bad = hn::test::corrupt_pdf(pdf);
  std::vector<std::thread> threads;
  std::vector<int> fact_pages(4, 0);
  for (std::size_t t = 0; t < fact_pages.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        (void)pdf_pages(as_bytes(bad));
        auto chunks = chunk_pdf(as_bytes(pdf), ChunkOptions{});
        if (!chunks) return;
        for (const Chunk& c : *chunks) {
          if (contains(c.text, "blue box")) fact_pages[t] = c.page;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const int page : fact_pages) EXPECT_EQ(page, 2);
}

TEST(RagPdfText, RefusesEncryptedPdfs) {
  if (hn::test::find_program("qpdf").empty()) GTEST_SKIP() << "qpdf is not installed";
  const std::string locked = hn::test::encrypt_pdf(three_page_pdf());
  ASSERT_FALSE(locked.empty());
  EXPECT_TRUE(contains(refusal(locked), "encrypted PDF"));
  // Encrypted without a user password (anyone may open it): refused all the same.
  const std::string open = hn::test::encrypt_pdf(three_page_pdf(), "", "owner");
  ASSERT_FALSE(open.empty());
  EXPECT_TRUE(contains(refusal(open), "encrypted PDF"));
}

TEST(RagPdfText, RefusesTruncatedPdfs) {
  const std::string pdf = three_page_pdf();
  for (const double keep : {0.1, 0.5, 0.9, 0.99}) {
    EXPECT_TRUE(contains(refusal(hn::test::truncate_pdf(pdf, keep)), "truncated")) << keep;
  }
}

TEST(RagPdfText, RefusesCorruptPdfsAndNonPdfs) {
  EXPECT_TRUE(contains(refusal(hn::test::corrupt_pdf(three_page_pdf())), "corrupt"));
  EXPECT_TRUE(contains(refusal(""), "empty"));
  EXPECT_TRUE(contains(refusal("hello, I am not a PDF %%EOF"), "not a PDF"));
  // A header and a trailer around nothing.
  EXPECT_FALSE(refusal("%PDF-1.4\n%%EOF\n").empty());
  // A cut-off file whose tail was patched with a trailer: poppler's own checks refuse it
  // or it has no text.
  std::string patched = hn::test::truncate_pdf(three_page_pdf(), 0.3) + "\n%%EOF\n";
  EXPECT_FALSE(refusal(patched).empty());
}

TEST(RagPdfText, RefusesScannedPdfsWithAnOcrHint) {
  auto r = pdf_pages(as_bytes(hn::test::make_textless_pdf(3)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::bad_request);
  EXPECT_TRUE(contains(r.error().message, "no extractable text"));
  EXPECT_TRUE(contains(r.error().detail.at("hint").get<std::string>(), "OCR"));
}

}  // namespace
}  // namespace hn::services::rag
