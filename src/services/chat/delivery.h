// delivery.h — DeliveryManager (M10 §3.2, §4.1, §4.4): how a message this node wrote
// reaches its recipient.
//   direct     the recipient's node took it: a chat.deliver bus call pinned to that node
//              (CallOptions::target_node) answered with its signed delivered receipt, which
//              lands in our log at once;
//   forwarded  the recipient did not answer, and at least one online anchor holds the
//              message for it (chat.forward, up to CHAT_FORWARD_ANCHORS anchors);
//   queued     neither: the message waits in our log for sync (X02).
// Whichever way, the signed event log and sync carry the message to the recipient when it
// comes back; its node deduplicates by event id and acknowledges it once.
//
// Thread-safety: safe for concurrent use; deliver() blocks on bus calls, so it runs on the
// chat service's own queue threads, never the network thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "bus/bus.h"
#include "core/error.h"
#include "events/event_log.h"

namespace hn::services::chat {

enum class DeliveryMethod { direct, forwarded, queued };
std::string_view to_string(DeliveryMethod method);

// How many anchors are asked to hold a message (M10 §3.2 "pick 2 anchors").
inline constexpr int CHAT_FORWARD_ANCHORS = 2;
// How long a delivery attempt waits for one node.
inline constexpr int CHAT_DELIVERY_TIMEOUT_SECONDS = 3;

struct DeliveryOutcome {
  DeliveryMethod method = DeliveryMethod::queued;
  // The recipient's node refused us for good (we were revoked): the message will never be
  // accepted anywhere. chat.send reports it.
  std::optional<Error> refused;
};

class DeliveryManager {
 public:
  // `membership` tells anchors (the community view; null: the level the bus recorded from
  // the peer's manifest).
  using Membership = std::function<Result<TrustLevel>(const NodeId&)>;
  DeliveryManager(bus::CapabilityBus& bus, events::EventLog& log, bool store_and_forward,
                  Membership membership)
      : m_bus(bus), m_log(log), m_store_and_forward(store_and_forward),
        m_membership(std::move(membership)) {}

  // Delivers a chat.message.sent event we authored (see the file comment).
  DeliveryOutcome deliver(const events::Event& message);
  // Hands a receipt we wrote to the message's sender, best effort (sync carries it anyway).
  void push_receipt(const events::Event& receipt, const NodeId& sender);

 private:
  // chat.forward on up to CHAT_FORWARD_ANCHORS online anchors (not the recipient); how many
  // hold it.
  int forward(const events::Event& message, const NodeId& recipient);

  bus::CapabilityBus& m_bus;
  events::EventLog& m_log;
  const bool m_store_and_forward;
  const Membership m_membership;
};

}  // namespace hn::services::chat
