// chat_service.h — the chat service (M10): direct messages between two members as signed
// chat.message.* events, materialised by ChatView, delivered by DeliveryManager.
//
// chat.send (idempotent on client_id; recipient a current member, not ourselves) appends
// chat.message.sent and delivers it (direct | forwarded | queued). A message to us —
// whichever way it arrived: chat.deliver, chat.forward at an anchor, sync — is published on
// chat.message.<our short id> for the UI and acknowledged with exactly one
// chat.message.delivered; chat.read appends chat.message.read for a peer's unread messages
// (or marks them locally when [chat] read_receipts_enabled is false). Receipts written for
// messages that did not come in by chat.deliver are handed to their sender in the
// background (a queue of its own), best effort: sync carries them anyway.
//
// Thread-safety: handlers run concurrently on the service's queue threads; the log
// subscription runs on whichever thread committed. Sends are serialised (the idempotency
// check and the append are one step); receipts are written once per message under their
// own mutex.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bus/service.h"
#include "core/work_queue.h"
#include "events/event_log.h"
#include "service/context.h"
#include "services/chat/chat_view.h"
#include "services/chat/delivery.h"

namespace hn::services::chat {

class ChatService final : public bus::Service {
 public:
  explicit ChatService(const service::ServiceContext& ctx);
  ~ChatService() override;

  std::string name() const override { return "chat"; }
  std::string version() const override { return "1.0.0"; }
  std::vector<std::string> namespace_prefixes() const override { return {"chat"}; }
  std::vector<bus::LocalCapability> capabilities() override;
  // 4 threads (a send waits on its delivery), room for a burst of 256 calls.
  bus::ExecutionSpec execution() const override { return {4, 256}; }
  Status start() override;
  void stop() override;
  Json health() const override;

  // The handlers (CONTRACT §4.15, §4.16; doc/design/chat.md), public for unit tests.
  Result<Json> send(const bus::CallContext& ctx, const Json& body);
  Result<Json> history(const bus::CallContext& ctx, const Json& body) const;
  Result<Json> peers(const bus::CallContext& ctx, const Json& body) const;
  Result<Json> read(const bus::CallContext& ctx, const Json& body);
  Result<Json> deliver(const bus::CallContext& ctx, const Json& body);
  Result<Json> forward(const bus::CallContext& ctx, const Json& body);

  const ChatView& view() const { return m_view; }

 private:
  // Recipient checks of chat.send: a current member (not_found otherwise, detail.reason
  // "revoked" or "not_member").
  Status check_recipient(const NodeId& recipient) const;
  std::optional<TrustLevel> our_level() const;
  // Our delivered receipt for message `id` (from `sender`), appended once.
  Result<events::Event> ensure_receipt(const EventId& id);
  // Log subscription: a new chat.message.sent to us.
  void on_message(const events::Event& event);
  // Background: hand a receipt to the message's sender.
  void push_later(events::Event receipt, NodeId sender);
  void load_local_reads();
  Status save_local_reads_locked();
  std::string topic_for(const NodeId& node) const;

  const NodeId m_us;
  events::EventLog& m_log;
  events::ReplayEngine& m_replay;
  bus::CapabilityBus& m_bus;
  service::Publisher& m_publisher;
  const config::ChatConfig m_config;
  std::function<Result<TrustLevel>(const NodeId&)> m_membership;
  std::function<std::optional<identity::CommunityManifest>()> m_manifest;
  const Clock& m_clock;
  const std::filesystem::path m_data_dir;

  ChatView m_view;
  DeliveryManager m_delivery;
  std::unique_ptr<WorkQueue> m_background;  // receipt pushes
  events::Subscription m_subscription;

  std::mutex m_send_mutex;  // check client_id + append, as one step
  std::unordered_map<std::string, EventId> m_sent_by_client;
  std::unordered_map<std::string, DeliveryMethod> m_methods;  // event id -> how it went

  // Recursive: appending a receipt under it may deliver, on this thread, another thread's
  // new message to on_message, which takes it again.
  std::recursive_mutex m_receipt_mutex;
  std::unordered_map<std::string, EventId> m_receipts;  // message id -> our receipt
  std::unordered_set<std::string> m_in_delivery;        // messages a chat.deliver is taking

  std::mutex m_read_mutex;  // local read marks (read receipts disabled)
};

// The service host's factory (src/node/service_list.cpp).
std::unique_ptr<bus::Service> make_service(const service::ServiceContext& ctx);

}  // namespace hn::services::chat
