// canonical_json_fuzz.cpp — libFuzzer target: any bytes that parse as JSON must
// canonicalise, re-parse, and canonicalise to the same bytes (RFC 8785 idempotence).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parsed = hn::parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed) return 0;
  auto first = hn::try_canonical_json(*parsed);
  if (!first) return 0;
  auto reparsed = hn::parse_json(*first);
  if (!reparsed) std::abort();  // canonical output must be valid JSON
  auto second = hn::try_canonical_json(*reparsed);
  if (!second || *second != *first) std::abort();  // and a fixed point
  return 0;
}
