// sse_parse_fuzz.cpp — libFuzzer target for the incremental SSE parser (CONTRACT §5.3):
// the first byte picks a chunk size, the rest is fed in chunks of that size, and every
// dispatched event is decoded into a Frame; every line of the input also goes through the
// in-band ack parser (what a server reads from a client during a stream). Must never
// crash or grow without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "transport/sse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hn::transport;
  if (size == 0) return 0;
  const std::size_t step = 1 + data[0] % 17;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  SseParser parser(64 * 1024);
  std::vector<SseEvent> events;
  for (std::size_t i = 0; i < text.size(); i += step) {
    if (!parser.feed(text.substr(i, step), events)) break;
    for (const auto& ev : events) {
      auto frame = to_frame(ev);
      if (frame) (void)encode_frame(*frame);
    }
    events.clear();
  }
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (auto upto = parse_ack_line(text.substr(start, end - start))) (void)(*upto + 1);
    start = end + 1;
  }
  return 0;
}
