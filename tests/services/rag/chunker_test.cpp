// chunker_test.cpp — chunk_text and chunk_document for plain text and Markdown (M05 §3.1):
// paragraph boundaries, overlap, the embed.text character limit (CONTRACT §4.3), the token
// counter hook, Markdown headings, UTF-8 and media types.
#include "services/rag/chunker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/rag/utf8_text.h"
#include "support/pdf_writer.h"

namespace hn::services::rag {
namespace {

using hn::test::as_bytes;

// Paragraph p of a test text: `sentences` sentences, each marked "P<p>S<s>".
std::string paragraph(int p, int sentences) {
  std::string out;
  for (int s = 0; s < sentences; ++s) {
    if (s > 0) out += ' ';
    out += "P" + std::to_string(p) + "S" + std::to_string(s) +
           " the allotment water rota moves to Tuesday evenings after the harvest.";
  }
  return out;
}

std::string paragraphs(int count, int sentences) {
  std::string out;
  for (int p = 0; p < count; ++p) {
    if (p > 0) out += "\n\n";
    out += paragraph(p, sentences);
  }
  return out;
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

TEST(RagApproximateTokens, CountsWordsPunctuationAndScripts) {
  EXPECT_EQ(approximate_tokens(""), 0);
  EXPECT_EQ(approximate_tokens("   \n\t "), 0);
  EXPECT_EQ(approximate_tokens("the pump"), 2);
  EXPECT_EQ(approximate_tokens("internationalization"), 5);  // 20 characters
  EXPECT_EQ(approximate_tokens("Stop."), 2);
  EXPECT_EQ(approximate_tokens("\xE6\xB0\xB4\xE6\xB3\xB5"), 2);  // two CJK characters
  EXPECT_EQ(approximate_tokens("Stra\xC3\x9F"
                               "e"),
            2);  // accented Latin: 6 chars
  // Never crashes on bytes that are not UTF-8, and counts them.
  EXPECT_GT(approximate_tokens("\xFF\xFE\x80"), 0);
}

TEST(RagChunkText, RespectsParagraphBoundaries) {
  // 30 paragraphs of ~100 tokens: every chunk ends where a paragraph ends.
  const std::string text = paragraphs(30, 6);
  const auto chunks = chunk_text(text, ChunkOptions{});
  ASSERT_GT(chunks.size(), 2u);
  for (const Chunk& c : chunks) {
    EXPECT_TRUE(c.text.ends_with("harvest.")) << c.text;
    const std::size_t last = c.text.rfind('P');
    ASSERT_NE(last, std::string::npos);
    EXPECT_TRUE(contains(c.text.substr(last), "S5 "))
        << "chunk " << c.ordinal << " ends inside a paragraph";
    EXPECT_LE(c.tokens, RAG_CHUNK_TOKENS);
  }
  // Every paragraph is whole in some chunk.
  for (int p = 0; p < 30; ++p) {
    const std::string para = paragraph(p, 6);
    bool whole = false;
    for (const Chunk& c : chunks) whole = whole || contains(c.text, para);
    EXPECT_TRUE(whole) << "paragraph " << p;
  }
}

TEST(RagChunkText, ConsecutiveChunksOverlapByUpToOverlapTokens) {
  const std::string text = paragraphs(30, 6);
  const auto chunks = chunk_text(text, ChunkOptions{});
  ASSERT_GT(chunks.size(), 2u);
  for (std::size_t i = 1; i < chunks.size(); ++i) {
    // The next chunk starts with a tail of the one before: a whole paragraph here.
    const std::string& prev = chunks[i - 1].text;
    const std::string& next = chunks[i].text;
    std::size_t shared = 0;
    for (std::size_t len = std::min(prev.size(), next.size()); len > 0; --len) {
      if (prev.ends_with(next.substr(0, len))) {
        shared = len;
        break;
      }
    }
    ASSERT_GT(shared, 0u) << "chunks " << i - 1 << " and " << i << " share nothing";
    const int overlap = approximate_tokens(next.substr(0, shared));
    EXPECT_GT(overlap, 0);
    EXPECT_LE(overlap, RAG_CHUNK_OVERLAP_TOKENS);
    EXPECT_TRUE(next.starts_with("P")) << "overlap starts mid-sentence: " << next.substr(0, 40);
  }
}

TEST(RagChunkText, NoOverlapWhenAskedForNone) {
  const std::string text = paragraphs(30, 6);
  ChunkOptions o;
  o.overlap_tokens = 0;
  const auto chunks = chunk_text(text, o);
  ASSERT_GT(chunks.size(), 2u);
  std::string joined;
  for (const Chunk& c : chunks) joined += (joined.empty() ? "" : "\n\n") + c.text;
  EXPECT_EQ(joined, text);
}

TEST(RagChunkText, ALongParagraphSplitsAtSentenceEnds) {
  const std::string text = paragraph(0, 400);
  const auto chunks = chunk_text(text, ChunkOptions{});
  ASSERT_GT(chunks.size(), 3u);
  for (const Chunk& c : chunks) {
    EXPECT_TRUE(c.text.ends_with("harvest.")) << c.text.substr(c.text.size() - 40);
    EXPECT_TRUE(c.text.starts_with("P0S")) << c.text.substr(0, 40);
    EXPECT_LE(c.tokens, RAG_CHUNK_TOKENS);
  }
  // Whole text covered: the last sentence is in the last chunk.
  EXPECT_TRUE(contains(chunks.back().text, "P0S399 "));
}

TEST(RagChunkText, ASentenceWithoutEndSplitsBetweenWords) {
  std::string text;
  for (int w = 0; w < 5000; ++w) text += "word" + std::to_string(w) + " ";
  const auto chunks = chunk_text(text, ChunkOptions{});
  ASSERT_GT(chunks.size(), 3u);
  int next_word = 0;
  for (const Chunk& c : chunks) {
    EXPECT_TRUE(c.text.starts_with("word")) << c.text.substr(0, 20);
    EXPECT_LE(c.tokens, RAG_CHUNK_TOKENS);
    // The chunk's last word is whole: the next chunk's words carry on from it.
    const std::string last = c.text.substr(c.text.rfind(' ') + 1);
    const int n = std::stoi(last.substr(4));
    EXPECT_GE(n, next_word - 1);
    next_word = n + 1;
  }
  EXPECT_EQ(next_word, 5000);
}

TEST(RagChunkText, NoChunkExceedsTheEmbedCharacterLimit) {
  // One 50 000-character "word", one of 30 000 two-byte characters, and ordinary text
  // whose counter says 1 token per 100 characters: characters bind, not tokens.
  const std::string giant(50000, 'x');
  std::string umlauts;
  for (int i = 0; i < 30000; ++i) umlauts += "\xC3\xA4";
  ChunkOptions sparse;
  sparse.count_tokens = [](std::string_view s) { return static_cast<int>(s.size() / 100); };
  struct Case {
    std::string text;
    ChunkOptions options;
  };
  const std::vector<Case> cases = {{giant, ChunkOptions{}},
                                   {umlauts, ChunkOptions{}},
                                   {paragraphs(200, 6), sparse},
                                   {giant, sparse}};
  for (const Case& k : cases) {
    const auto chunks = chunk_text(k.text, k.options);
    ASSERT_FALSE(chunks.empty());
    std::size_t chars = 0;
    for (const Chunk& c : chunks) {
      EXPECT_FALSE(c.text.empty());
      EXPECT_LE(utf8_length(c.text), EMBED_MAX_TEXT_CHARS);
      EXPECT_TRUE(is_valid_utf8(c.text)) << "a character was cut in two";
      chars += utf8_length(c.text);
    }
    EXPECT_GE(chars, utf8_length(k.text) * 9 / 10) << "text lost";
  }
}

TEST(RagChunkText, OverlapNeverTakesMoreThanHalfAChunk) {
  // Pieces that cost no tokens (a counter that says 0; ideographic spaces) would let a
  // token-measured overlap repeat almost a whole chunk, one new piece per chunk: the
  // output must stay within a small multiple of the input.
  std::string words;
  for (int w = 0; w < 20000; ++w) words += "w" + std::to_string(w % 10) + " ";
  std::string wide_spaces;
  for (int w = 0; w < 20000; ++w) wide_spaces += "\xE3\x80\x80 ";
  ChunkOptions free_tokens;
  free_tokens.count_tokens = [](std::string_view) { return 0; };
  free_tokens.max_chars = 300;
  ChunkOptions small;
  small.max_chars = 300;
  for (const auto& [text, options] : std::vector<std::pair<std::string, ChunkOptions>>{
           {words, free_tokens}, {wide_spaces, small}}) {
    const auto chunks = chunk_text(text, options);
    std::size_t out = 0;
    for (const Chunk& c : chunks) out += utf8_length(c.text);
    EXPECT_LE(out, 3 * utf8_length(text));
    EXPECT_GT(out, utf8_length(text) / 2);
  }
}

TEST(RagChunkText, ASmallerCharacterCapIsKept) {
  ChunkOptions o;
  o.max_chars = 300;
  for (const Chunk& c : chunk_text(paragraphs(10, 8), o)) EXPECT_LE(utf8_length(c.text), 300u);
}

TEST(RagChunkText, UsesTheTokenCounterWhenSet) {
  int calls = 0;
  ChunkOptions o;
  o.tokens_per_chunk = 50;
  o.overlap_tokens = 10;
  o.count_tokens = [&](std::string_view s) {  // one token per space-separated word
    ++calls;
    int words = 0;
    bool in_word = false;
    for (const char c : s) {
      const bool space = c == ' ' || c == '\n';
      if (!space && !in_word) ++words;
      in_word = !space;
    }
    return words;
  };
  const auto chunks = chunk_text(paragraphs(10, 6), o);
  EXPECT_GT(calls, 0);
  ASSERT_GT(chunks.size(), 5u);
  for (const Chunk& c : chunks) {
    EXPECT_EQ(c.tokens, o.count_tokens(c.text));
    EXPECT_LE(c.tokens, 50);
  }
}

// The embedder's tokenizer behind a batch counter: the same chunks and counts as one text
// at a time, in a handful of calls for several pages (a round per level of splitting, then
// the chunks' own counts) instead of one per piece.
TEST(RagChunkText, BatchedCountsGiveTheSameChunksInFewCalls) {
  auto words = [](std::string_view s) {  // one token per word, and a long word costs more
    int tokens = 0;
    std::size_t run = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
      if (i == s.size() || s[i] == ' ' || s[i] == '\n') {
        if (run > 0) tokens += 1 + static_cast<int>(run / 12);
        run = 0;
      } else {
        ++run;
      }
    }
    return tokens;
  };
  std::vector<PageText> pages;
  for (int p = 1; p <= 12; ++p) {
    std::string text = paragraphs(3 + p % 4, 5);
    if (p % 5 == 0) text += "\n\n" + std::string(300, 'x') + " " + std::string(40, 'y');  // cut into runs
    if (p % 3 == 0) text += " " + std::string(600, 'z');  // a sentence too long: words
    pages.push_back(PageText{p, text});
  }
  ChunkOptions one;
  one.tokens_per_chunk = 60;
  one.overlap_tokens = 12;
  int single_calls = 0;
  one.count_tokens = [&](std::string_view s) {
    ++single_calls;
    return words(s);
  };
  std::vector<Chunk> expected;
  for (const auto& page : pages) {
    auto more = chunk_text(page.text, one, page.page, static_cast<int>(expected.size()));
    expected.insert(expected.end(), more.begin(), more.end());
  }
  ChunkOptions batched = one;
  int batch_calls = 0, single_after = 0;
  batched.count_tokens = [&](std::string_view s) {
    ++single_after;
    return words(s);
  };
  batched.count_tokens_batch = [&](const std::vector<std::string_view>& texts) {
    ++batch_calls;
    std::vector<int> out;
    for (auto t : texts) out.push_back(words(t));
    return out;
  };
  const auto got = chunk_pages(pages, batched);
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].text, expected[i].text) << i;
    EXPECT_EQ(got[i].tokens, expected[i].tokens) << i;
    EXPECT_EQ(got[i].page, expected[i].page) << i;
    EXPECT_EQ(got[i].ordinal, expected[i].ordinal) << i;
  }
  EXPECT_GT(single_calls, 100);
  EXPECT_LE(batch_calls, 8);
  EXPECT_EQ(single_after, 0);
  // A batch counter that answers the wrong number of counts: approximated, never a crash.
  batched.count_tokens_batch = [](const std::vector<std::string_view>&) { return std::vector<int>{}; };
  const auto approx = chunk_pages(pages, batched);
  ASSERT_FALSE(approx.empty());
  for (const auto& c : approx) EXPECT_EQ(c.tokens, approximate_tokens(c.text));
}

TEST(RagChunkText, CarriesPageAndNumbersOrdinalsFromTheFirst) {
  const auto chunks = chunk_text(paragraphs(30, 6), ChunkOptions{}, 7, 12);
  ASSERT_GT(chunks.size(), 2u);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].page, 7);
    EXPECT_EQ(chunks[i].ordinal, 12 + static_cast<int>(i));
  }
}

TEST(RagChunkText, ShortTextIsOneTrimmedChunkAndBlankTextNone) {
  const auto one = chunk_text("\n\n  Water is off on Monday.  \n", ChunkOptions{});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].text, "Water is off on Monday.");
  EXPECT_EQ(one[0].page, 0);
  EXPECT_EQ(one[0].ordinal, 0);
  EXPECT_TRUE(chunk_text(" \n\t\r\n ", ChunkOptions{}).empty());
  EXPECT_TRUE(chunk_text("", ChunkOptions{}).empty());
}

TEST(RagChunkText, ClampsOptionsAndAlwaysProgresses) {
  const std::string text = paragraphs(5, 4);
  for (const auto& [tokens, overlap] :
       std::vector<std::pair<int, int>>{{0, 0}, {1, 5}, {-3, -3}, {10, 1000}, {2, 1}}) {
    ChunkOptions o;
    o.tokens_per_chunk = tokens;
    o.overlap_tokens = overlap;
    const auto chunks = chunk_text(text, o);
    ASSERT_FALSE(chunks.empty());
    EXPECT_TRUE(text.ends_with(chunks.back().text));
    for (const Chunk& c : chunks) EXPECT_FALSE(c.text.empty());
  }
}

TEST(RagChunkText, MarkdownHeadingsStartChunksAndStayWithTheirText) {
  std::string md;
  for (int s = 0; s < 8; ++s) {
    md += "## Section " + std::to_string(s) + "\n" + paragraph(s, 3) + "\n" +
          paragraph(100 + s, 3) + "\n";  // no blank lines: only the headings separate sections
  }
  ChunkOptions o;
  o.tokens_per_chunk = 200;  // one section (~131 tokens) a chunk
  o.overlap_tokens = 0;
  o.format = TextFormat::markdown;
  const auto chunks = chunk_text(md, o);
  ASSERT_GT(chunks.size(), 4u);
  for (const Chunk& c : chunks) {
    EXPECT_TRUE(c.text.starts_with("## Section ")) << c.text.substr(0, 60);
    EXPECT_TRUE(c.text.ends_with("harvest.")) << "a bare heading ends a chunk";
  }
  // Plain text knows no headings: the same text splits elsewhere.
  o.format = TextFormat::plain;
  bool all_headed = true;
  for (const Chunk& c : chunk_text(md, o)) all_headed = all_headed && c.text.starts_with("## ");
  EXPECT_FALSE(all_headed);
}

TEST(RagChunkText, MarkdownSetextHeadingsAndFencedCode) {
  const std::string md =
      "Intro line one is about the allotment rules and the water.\nWater Rota\n==========\n"
      "P1S0 text.\n\n```\n# not a heading\n\ncode line\n```\nAfter.";
  ChunkOptions o;
  o.tokens_per_chunk = 25;
  o.overlap_tokens = 0;
  o.format = TextFormat::markdown;
  const auto chunks = chunk_text(md, o);
  bool rota_heads = false;
  for (const Chunk& c : chunks) {
    rota_heads = rota_heads || c.text.starts_with("Water Rota\n====");
    EXPECT_FALSE(c.text.starts_with("# not a heading")) << "a '#' inside a code fence";
  }
  EXPECT_TRUE(rota_heads);
}

TEST(RagChunkDocument, RefusesInvalidUtf8WithItsOffset) {
  for (const std::string& bad :
       {std::string("ok \xFF"), std::string("over\xC0\xAFlong"),
        std::string("surrogate \xED\xA0\x80"), std::string("cut \xE2\x82")}) {
    for (const char* type : {"text/plain", "text/markdown"}) {
      auto r = chunk_document(as_bytes(bad), type, ChunkOptions{});
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, ErrorCode::bad_request);
      EXPECT_TRUE(contains(r.error().message, "UTF-8"));
      EXPECT_GE(r.error().detail.at("offset").get<std::size_t>(), 3u);
      EXPECT_NO_THROW((void)r.error().to_json().dump());
    }
  }
}

TEST(RagChunkDocument, ChunksTextAndMarkdownSkippingAByteOrderMark) {
  auto r = chunk_document(as_bytes("\xEF\xBB\xBFPump key: blue box."), "text/plain; charset=UTF-8",
                          ChunkOptions{});
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].text, "Pump key: blue box.");
  auto md = chunk_document(as_bytes("# Rota\nTuesdays."), "Text/Markdown", ChunkOptions{});
  ASSERT_TRUE(md);
  EXPECT_EQ((*md)[0].text, "# Rota\nTuesdays.");
}

TEST(RagChunkDocument, RefusesADocumentWithoutText) {
  for (const char* text : {"", "   \n\n\t "}) {
    auto r = chunk_document(as_bytes(text), "text/plain", ChunkOptions{});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::bad_request);
  }
}

TEST(RagChunkDocument, RefusesUnsupportedMediaTypes) {
  for (const char* type :
       {"image/png", "", "text/html", "application/pdfx", "text/plain; charset=latin1",
        "application/octet-stream", "text/\xFF\x01weird"}) {
    EXPECT_FALSE(supported_media_type(type)) << type;
    auto r = chunk_document(as_bytes("hello"), type, ChunkOptions{});
    ASSERT_FALSE(r) << type;
    EXPECT_EQ(r.error().code, ErrorCode::bad_request);
    EXPECT_TRUE(contains(r.error().message, "unsupported media type"));
    EXPECT_NO_THROW((void)r.error().to_json().dump());
  }
  for (const char* type : {"application/pdf", "text/plain", "text/markdown", "text/x-markdown",
                           " TEXT/PLAIN ; charset=\"utf-8\"", "text/markdown;charset=us-ascii"}) {
    EXPECT_TRUE(supported_media_type(type)) << type;
  }
}

TEST(RagChunkText, IsDeterministic) {
  const std::string text = paragraphs(40, 5);
  const auto a = chunk_text(text, ChunkOptions{});
  const auto b = chunk_text(text, ChunkOptions{});
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].text, b[i].text);
}

}  // namespace
}  // namespace hn::services::rag
