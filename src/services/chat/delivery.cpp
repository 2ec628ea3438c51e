// delivery.cpp — direct delivery, anchors' store-and-forward, the log as the fallback.
#include "services/chat/delivery.h"

#include <set>

#include "services/chat/descriptors.h"

namespace hn::services::chat {
namespace {

const Version V10{1, 0};

bus::CallOptions pinned_to(const NodeId& node) {
  bus::CallOptions o;
  o.target_node = node;
  o.remote_only = true;
  o.timeout_seconds = CHAT_DELIVERY_TIMEOUT_SECONDS;
  return o;
}

// answer["output"][key], or null when the answer has no such field.
Json output_field(const Json& answer, const char* key) {
  auto out = answer.find("output");
  if (out == answer.end() || !out->is_object()) return Json();
  auto it = out->find(key);
  return it == out->end() ? Json() : *it;
}

}  // namespace

std::string_view to_string(DeliveryMethod method) {
  switch (method) {
    case DeliveryMethod::direct: return "direct";
    case DeliveryMethod::forwarded: return "forwarded";
    case DeliveryMethod::queued: return "queued";
  }
  return "queued";
}

DeliveryOutcome DeliveryManager::deliver(const events::Event& message) {
  const NodeId recipient(message.data.value("recipient", std::string()));
  const Json body{{"input", {{"event", events::to_json(message)}}}};
  auto answer = m_bus.call(CHAT_DELIVER, V10, body, pinned_to(recipient));
  if (answer) {
    // The recipient's delivered receipt: into our log now (sync would bring it later).
    const Json receipt = output_field(*answer, "receipt");
    if (receipt.is_object()) {
      if (auto event = events::parse_event(receipt); event) (void)m_log.append_received(*event);
    }
    return {DeliveryMethod::direct, std::nullopt};
  }
  if (answer.error().code == ErrorCode::revoked) {
    return {DeliveryMethod::queued, answer.error()};
  }
  if (m_store_and_forward && forward(message, recipient) > 0) {
    return {DeliveryMethod::forwarded, std::nullopt};
  }
  return {DeliveryMethod::queued, std::nullopt};
}

int DeliveryManager::forward(const events::Event& message, const NodeId& recipient) {
  // Online anchors offering chat.forward, as the bus knows them from their manifests.
  std::set<NodeId> anchors;
  for (const auto& e : m_bus.topology_snapshot().capabilities_remote) {
    if (e.descriptor.name != CHAT_FORWARD || e.node_id == recipient) continue;
    TrustLevel level = e.peer_trust;
    if (m_membership) {
      auto now = m_membership(e.node_id);
      if (!now) continue;
      level = *now;
    }
    if (level == TrustLevel::anchor) anchors.insert(e.node_id);
  }
  const Json body{{"input", {{"event", events::to_json(message)}}}};
  int held = 0;
  for (const auto& anchor : anchors) {
    if (held >= CHAT_FORWARD_ANCHORS) break;
    auto answer = m_bus.call(CHAT_FORWARD, V10, body, pinned_to(anchor));
    if (answer && output_field(*answer, "held") == true) ++held;
  }
  return held;
}

void DeliveryManager::push_receipt(const events::Event& receipt, const NodeId& sender) {
  const Json body{{"input", {{"event", events::to_json(receipt)}}}};
  (void)m_bus.call(CHAT_DELIVER, V10, body, pinned_to(sender));
}

}  // namespace hn::services::chat
