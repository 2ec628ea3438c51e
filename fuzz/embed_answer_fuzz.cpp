// embed_answer_fuzz.cpp — libFuzzer target for the HTTP embedders' answer parser
// (services/embed/http_embedders.h parse_embed_answer): the bytes an OpenAI-compatible or
// Ollama server sends back. The first byte picks the API and the number of texts asked
// for; the rest is the body. Must never crash; a success has one vector per text, all of
// one length.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "services/embed/http_embedders.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hn::services::embed;
  if (size == 0) return 0;
  const HttpEmbedApi api = (data[0] & 1) != 0 ? HttpEmbedApi::ollama : HttpEmbedApi::openai;
  const std::size_t texts = 1 + (data[0] >> 1) % 8;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  auto r = parse_embed_answer(api, body, texts);
  if (r) {
    if (r->size() != texts) std::abort();
    for (const auto& v : *r) {
      if (v.size() != r->front().size() || v.empty()) std::abort();
    }
  }
  return 0;
}
