// event_decode_fuzz.cpp — libFuzzer target for the event envelope parser (X02 §3.1,
// CONTRACT §7.1): outside bytes → parse_json → parse_event → verify_event_signature, plus
// the round-trip invariant parse_event(to_json(e)) == e for every accepted envelope.
// Seeds: fuzz/corpus/event_decode/ (a valid signed event, a tampered one, garbage).
//
// Thread-safety: libFuzzer calls this from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"
#include "events/types.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = hn::parse_json(text);
  if (!json) return 0;
  auto event = hn::events::parse_event(*json);
  if (!event) return 0;
  // Either verdict is fine; neither may crash.
  (void)hn::events::verify_event_signature(*event);
  auto again = hn::events::parse_event(hn::events::to_json(*event));
  if (!again || !(*again == *event)) std::abort();  // the parser must be a fixed point
  return 0;
}
