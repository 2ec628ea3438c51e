// llama_text_test.cpp — Utf8Assembler and StopMatcher (services/llm/llama_text.h).
#include "services/llm/llama_text.h"

#include <gtest/gtest.h>

namespace hn::services::llm {
namespace {

TEST(Utf8Assembler, HoldsACharacterSplitAcrossPieces) {
  Utf8Assembler a;
  EXPECT_EQ(a.push("ab\xC3"), "ab");  // 'é' = C3 A9, cut after its lead byte
  EXPECT_EQ(a.push("\xA9z"), "\xC3\xA9z");
  EXPECT_EQ(a.push("\xF0\x9F"), "");  // half of U+1F600
  EXPECT_EQ(a.push("\x98\x80"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(a.finish(), "");
}

TEST(Utf8Assembler, ReplacesInvalidBytes) {
  Utf8Assembler a;
  EXPECT_EQ(a.push("a\xFF"
                   "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(a.push("\x80"), "\xEF\xBF\xBD");                  // a lone continuation byte
  EXPECT_EQ(a.push("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  EXPECT_EQ(a.push("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(a.push("\xE2\x82"), "");
  EXPECT_EQ(a.finish(), "\xEF\xBF\xBD");  // an unfinished character at the end
}

TEST(StopMatcher, PassesTextThroughWithoutStops) {
  StopMatcher m({});
  EXPECT_EQ(m.push("hello"), "hello");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.finish(), "");
}

TEST(StopMatcher, CutsAtAStopSpanningPieces) {
  StopMatcher m({"</s>"});
  EXPECT_EQ(m.push("one <"), "one ");  // "<" could start the stop: held back
  EXPECT_EQ(m.push("/"), "");
  EXPECT_EQ(m.push("s> two"), "");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.push("more"), "");
  EXPECT_EQ(m.finish(), "");
}

TEST(StopMatcher, ReleasesHeldTextThatDidNotStop) {
  StopMatcher m({"END"});
  EXPECT_EQ(m.push("the E"), "the ");
  EXPECT_EQ(m.push("ND"), "");
  EXPECT_TRUE(m.stopped());

  StopMatcher n({"END"});
  EXPECT_EQ(n.push("an EN"), "an ");
  EXPECT_EQ(n.push("try"), "ENtry");
  EXPECT_EQ(n.push("xE"), "x");
  EXPECT_EQ(n.finish(), "E");
  EXPECT_FALSE(n.stopped());
}

TEST(StopMatcher, TheEarliestOfSeveralStopsWins) {
  StopMatcher m({"world", "lo"});
  EXPECT_EQ(m.push("hello world"), "hel");
  EXPECT_TRUE(m.stopped());
}

TEST(StopMatcher, EmptyStopStringsAreIgnored) {
  StopMatcher m({"", "x"});
  EXPECT_EQ(m.push("abc"), "abc");
  EXPECT_FALSE(m.stopped());
}

}  // namespace
}  // namespace hn::services::llm
