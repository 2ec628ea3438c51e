// sync_payload_fuzz.cpp — libFuzzer target for the event sync wire messages (X02 §6,
// events/sync.h): outside bytes → parse_json → every request and reply decoder. Each decoder
// must reject or accept without crashing, and an accepted message must survive its own
// round trip: decode(to_json(m)) succeeds and encodes to the same JSON (the codec is a
// fixed point).
// Seeds: fuzz/corpus/sync_payload/ (a reconcile request, a reconcile reply with ids and a split).
//
// Thread-safety: libFuzzer calls this from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"
#include "events/sync.h"

namespace {

// decode(to_json(m)) must succeed and give the same JSON back.
template <typename Decode, typename Message>
void check_fixed_point(Decode decode, const Message& message) {
  const hn::Json once = hn::events::to_json(message);
  auto again = decode(once);
  if (!again) std::abort();
  if (hn::events::to_json(*again) != once) std::abort();
}

template <typename Decode>
void exercise(Decode decode, const hn::Json& json) {
  auto message = decode(json);
  if (message) check_fixed_point(decode, *message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hn::events;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = hn::parse_json(text);
  if (!json) return 0;
  exercise(parse_heads_report, *json);
  exercise(parse_reconcile_request, *json);
  exercise(parse_reconcile_reply, *json);
  exercise(parse_fetch_request, *json);
  exercise(parse_fetch_reply, *json);
  exercise(parse_events_request, *json);
  exercise(parse_events_reply, *json);
  return 0;
}
