// llm_stream_fuzz.cpp — the parsers of an inference backend's streamed answer (bytes from
// a server on the LAN or the internet): SSE and NDJSON framing fed in arbitrary pieces, and
// each event through the OpenAI-compatible chunk reader. Must never crash, hang or grow
// without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "services/llm/http/openai_backend.h"
#include "services/llm/http/stream_parsers.h"

using namespace hn::services::llm;  // NOLINT: a fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 17;
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  TokenSink sink = [](const Token&) -> hn::Status { return {}; };
  http::GenerationState state(sink);
  http::SseParser sse([&](const http::SseEvent& ev) -> hn::Status {
    (void)http::read_openai_chunk(ev, (data[0] & 1) != 0, state, "fuzz");
    return {};
  }, 4096);
  http::LineSplitter lines([](std::string_view line) -> hn::Status {
    (void)http::parse_backend_json(line, "fuzz");
    return {};
  }, 4096);
  for (std::size_t i = 0; i < bytes.size(); i += piece) {
    (void)sse.feed(bytes.substr(i, piece));
    (void)lines.feed(bytes.substr(i, piece));
  }
  (void)sse.finish();
  (void)lines.finish();
  return 0;
}
