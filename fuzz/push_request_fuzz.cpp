// push_request_fuzz.cpp — libFuzzer target for a pushed batch of events (POST /sync/v1/push,
// events/push.h): outside bytes → parse_json → parse_push_request. It must reject or accept
// without crashing; an accepted request must survive its own round trip (decode(to_json(m))
// succeeds and encodes to the same JSON), with seen_by sorted and distinct.
// Seeds: fuzz/corpus/push_request/.
//
// Thread-safety: libFuzzer calls this from one thread.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"
#include "events/push.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hn::events;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = hn::parse_json(text);
  if (!json) return 0;
  auto request = parse_push_request(*json);
  if (!request) return 0;
  if (!std::is_sorted(request->seen_by.begin(), request->seen_by.end())) std::abort();
  if (std::adjacent_find(request->seen_by.begin(), request->seen_by.end()) !=
      request->seen_by.end()) {
    std::abort();
  }
  const hn::Json once = to_json(*request);
  auto again = parse_push_request(once);
  if (!again || to_json(*again) != once) std::abort();
  return 0;
}
