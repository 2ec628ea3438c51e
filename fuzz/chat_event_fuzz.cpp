// chat_event_fuzz.cpp — libFuzzer target for the chat service's parsers of peer bytes
// (services/chat/chat_message.h, chat_view.h): outside bytes → parse_json → the data of
// chat.message.sent / .delivered / .read, ChatView::apply of an event carrying that data,
// and ChatView::restore_state (a peer's snapshot may carry the view's state). Invariants:
// nothing crashes; parse_sent_data(to_json(s)) accepts and equals s.
// Seeds: fuzz/corpus/chat_event/ (a message, receipts, a view state, garbage).
//
// Thread-safety: libFuzzer calls this from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"
#include "services/chat/chat_message.h"
#include "services/chat/chat_view.h"

namespace {
const hn::NodeId US("ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
const hn::NodeId PEER("ed25519:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE");
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hn::services::chat;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = hn::parse_json(text);
  if (!json) return 0;
  if (auto sent = parse_sent_data(*json)) {
    auto again = parse_sent_data(sent->to_json());
    if (!again || again->client_id != sent->client_id || again->recipient != sent->recipient ||
        again->body != sent->body || again->attachments != sent->attachments) {
      std::abort();
    }
  }
  (void)parse_receipt_data(*json, "delivered_at");
  (void)parse_receipt_data(*json, "read_at");
  (void)parse_attachments(*json);

  ChatView view(US);
  for (auto type : ChatView::event_types()) {
    hn::events::Event e;
    e.event_id = hn::EventId("01HXR0000000000000000000" + std::to_string(static_cast<int>(type)) + "A");
    e.lamport = 1 + static_cast<int>(type);
    e.wall_clock = "2026-05-26T08:14:22Z";
    e.author = PEER;
    e.event_type = type;
    e.data = *json;
    view.apply(e);
  }
  (void)view.history({});
  (void)view.peers();
  (void)view.restore_state(*json);
  (void)view.snapshot_state();
  return 0;
}
