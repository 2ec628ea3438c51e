// market_post_fuzz.cpp — libFuzzer target for the marketplace's parsers of outside bytes
// (services/market/post.h): a market.post / market.expire input from a caller, and the
// data of market.post.created|updated|expired events a peer signed, applied to a
// MarketView (SQLite + FTS5), plus a snapshot state read back. None may crash; a view
// that took an event must still snapshot and restore to the same state.
// Input: JSON {"type": "created"|"updated"|"expired"|"input"|"expire"|"state", "data": …}
// or any JSON (tried as every kind). Seeds: fuzz/corpus/market_post/.
//
// Thread-safety: libFuzzer calls this from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"
#include "services/market/market_view.h"
#include "services/market/post.h"

namespace {

using namespace hn::services::market;

hn::events::Event event_of(hn::events::EventType type, const hn::Json& data, std::int64_t lamport) {
  hn::events::Event e;
  e.event_id =
      hn::EventId(lamport % 2 ? "01HXR0000000000000000000AA" : "01HXR0000000000000000000AB");
  e.lamport = lamport;
  e.wall_clock = "2026-05-26T08:14:22Z";
  e.author = hn::NodeId("ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  e.event_type = type;
  e.data = data;
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = hn::parse_json(text);
  if (!json) return 0;
  const hn::Json& j = *json;
  const hn::Json body = j.is_object() && j.contains("data") ? j["data"] : j;

  (void)parse_post_input(body, 86400, 30 * 86400);
  (void)parse_expire_input(body);
  (void)parse_updated_data(body);
  (void)post_from_state(body);
  (void)query_words(body.is_string() ? body.get<std::string>() : std::string(text));
  if (auto d = parse_created_data(body)) {
    auto again = parse_created_data(to_event_data(*d));
    if (!again || !(*again == *d)) std::abort();  // what we write, we read back the same
  }

  static auto view = MarketView::open(nullptr).value();
  view->reset();
  // A valid post first, so updates and expiries have a target.
  const hn::Json seed_post = {
      {"client_id", "seed"}, {"category", "offer"},       {"title", "t"},
      {"body", "b"},         {"tags", hn::Json::array()}, {"ttl_seconds", 60}};
  view->apply(event_of(hn::events::EventType::market_post_created, seed_post, 1));
  view->apply(event_of(hn::events::EventType::market_post_created, body, 2));
  view->apply(event_of(hn::events::EventType::market_post_updated, body, 3));
  view->apply(event_of(hn::events::EventType::market_post_expired, body, 5));
  const hn::Json state = view->snapshot_state();
  auto other = MarketView::open(nullptr).value();
  if (!other->restore_state(state) || other->snapshot_state() != state) std::abort();
  (void)other->restore_state(body);
  return 0;
}
