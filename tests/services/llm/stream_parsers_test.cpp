// Tests for the SSE and NDJSON stream parsers (services/llm/http/stream_parsers.h).
#include "services/llm/http/stream_parsers.h"

#include <gtest/gtest.h>

namespace hn::services::llm::http {
namespace {

std::vector<SseEvent> parse_in_pieces(std::string_view text, std::size_t piece) {
  std::vector<SseEvent> out;
  SseParser p([&](const SseEvent& e) -> Status {
    out.push_back(e);
    return {};
  });
  for (std::size_t i = 0; i < text.size(); i += piece) EXPECT_TRUE(p.feed(text.substr(i, piece)));
  EXPECT_TRUE(p.finish());
  return out;
}

TEST(SseParser, EventsSplitAnywhereComeOutWhole) {
  const std::string text =
      ": keep-alive\r\nevent: message_start\r\ndata: {\"a\":1}\r\n\r\n"
      "data: line1\ndata: line2\n\nid: 7\nretry: 10\ndata:[DONE]\n\n";
  for (std::size_t piece : {1u, 2u, 3u, 7u, 1000u}) {
    auto events = parse_in_pieces(text, piece);
    ASSERT_EQ(events.size(), 3u) << piece;
    EXPECT_EQ(events[0].event, "message_start");
    EXPECT_EQ(events[0].data, "{\"a\":1}");
    EXPECT_EQ(events[1].event, "");
    EXPECT_EQ(events[1].data, "line1\nline2");
    EXPECT_EQ(events[2].data, "[DONE]");
  }
}

TEST(SseParser, ALastEventWithoutBlankLineIsDispatchedAtFinish) {
  auto events = parse_in_pieces("data: x", 100);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "x");
}

TEST(SseParser, AnOverlongLineIsAnErrorNotMemory) {
  SseParser p([](const SseEvent&) -> Status { return {}; }, 16);
  auto s = p.feed(std::string(64, 'x'));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::internal_error);
  EXPECT_FALSE(p.feed("\n\n"));  // stays failed
}

TEST(SseParser, ASinkErrorStopsParsing) {
  int calls = 0;
  SseParser p([&](const SseEvent&) -> Status {
    ++calls;
    return make_error(ErrorCode::timeout, "stop");
  });
  EXPECT_FALSE(p.feed("data: a\n\ndata: b\n\n"));
  EXPECT_EQ(calls, 1);
}

TEST(LineSplitter, NdjsonLinesSplitAnywhere) {
  const std::string text = "{\"a\":1}\r\n\n{\"b\":2}\n{\"c\":3}";
  for (std::size_t piece : {1u, 4u, 100u}) {
    std::vector<std::string> lines;
    LineSplitter s([&](std::string_view l) -> Status {
      lines.emplace_back(l);
      return {};
    });
    for (std::size_t i = 0; i < text.size(); i += piece) ASSERT_TRUE(s.feed(std::string_view(text).substr(i, piece)));
    ASSERT_TRUE(s.finish());
    EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"}));
  }
}

}  // namespace
}  // namespace hn::services::llm::http
