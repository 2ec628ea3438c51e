// chat_view.h — ChatView (M10 §3.1): this node's conversations materialised from
// chat.message.sent / .delivered / .read events. It keeps the messages this node sent or
// received (others' messages pass through the log unread — CONTRACT §7.2 "consumer: sender
// + recipient"), their delivered and read times, and per peer the unread count.
//
// Rules (doc/design/chat.md):
// - A message counts once: by event id, and by (author, client_id) — the first in replay
//   order wins, so a retried send that raced past the idempotency check still shows once.
// - A receipt counts only when its author is the message's recipient; the earliest wins.
//   A receipt seen before its message waits for it.
// - Unread: a message to us without our read receipt.
// - Malformed data makes an event a no-op (never a throw).
//
// Thread-safety: safe for concurrent use (one internal mutex; readers get copies). The
// ReplayEngine calls apply/reset/restore; handlers read from their queue threads.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/types.h"
#include "events/replay.h"
#include "services/chat/chat_message.h"

namespace hn::services::chat {

// One message as ChatView holds it (M10 §3.1 ChatMessage).
struct ChatMessage {
  EventId event_id;
  Lamport lamport = 0;
  NodeId sender;
  NodeId recipient;
  std::string client_id;
  std::string body;
  std::vector<Attachment> attachments;
  std::string created_at;                  // the event's wall_clock
  std::optional<std::string> delivered_at;
  std::optional<std::string> read_at;
  std::optional<EventId> our_receipt;      // our chat.message.delivered for it (incoming only)
  // The CONTRACT §4.16 form: {event_id, lamport, from, to, body, attachments, created_at,
  // delivered_at, read_at} (+ client_id).
  Json to_json() const;
};

// One conversation partner (CLI `chat peers`).
struct PeerSummary {
  NodeId peer;
  std::size_t messages = 0;
  std::size_t unread = 0;
  Lamport last_lamport = 0;
  std::string last_at;
  Json to_json() const;
};

// chat.history's paging (CONTRACT §4.16 since_lamport; doc/design/chat.md "Paging").
struct HistoryQuery {
  std::optional<NodeId> peer;              // one conversation, or all
  Lamport since_lamport = 0;               // after (since_lamport, since_event_id)
  std::optional<EventId> since_event_id;   // none: every message with lamport > since_lamport
  std::size_t limit = 200;
};

class ChatView final : public events::MaterialisedView {
 public:
  explicit ChatView(NodeId our_node_id) : m_us(std::move(our_node_id)) {}

  // The event types this view reads.
  static std::vector<events::EventType> event_types();

  std::string name() const override { return "chat"; }
  void reset() override;
  void apply(const events::Event& event) override;
  Json snapshot_state() const override;
  Status restore_state(const Json& state) override;

  // Messages in replay order (lamport, event_id) after the cursor, at most limit.
  std::vector<ChatMessage> history(const HistoryQuery& query) const;
  // Every peer we exchanged messages with, most recent conversation first.
  std::vector<PeerSummary> peers() const;
  std::size_t unread_count(const NodeId& peer) const;
  std::optional<ChatMessage> find(const EventId& id) const;
  // Our own message with this client_id (chat.send idempotency).
  std::optional<ChatMessage> find_sent(const std::string& client_id) const;
  // Messages to us that we have not acknowledged with a delivered receipt.
  std::vector<ChatMessage> unreceipted_incoming() const;
  // Messages from peer to us without our read receipt, in replay order.
  std::vector<ChatMessage> unread_from(const NodeId& peer) const;
  std::size_t size() const;

  // Read marks kept on this node only ([chat] read_receipts_enabled = false): they count as
  // read for unread counts, survive reset() and are not part of the snapshot state.
  void mark_read_locally(const std::vector<EventId>& ids);
  std::vector<std::string> local_reads() const;

 private:
  using Key = std::pair<Lamport, std::string>;  // replay order
  struct PendingReceipt {
    NodeId author;
    std::string at;
    EventId receipt_id;
  };

  void apply_sent_locked(const events::Event& event);
  void apply_receipt_locked(const events::Event& event, bool read);
  void insert_locked(ChatMessage m);
  // Applies a receipt to a known message; false when its author may not sign it.
  bool apply_to_locked(ChatMessage& m, const NodeId& author, const std::string& at,
                       const EventId& receipt_id, bool read);
  bool unread_locked(const ChatMessage& m) const {
    return m.recipient == m_us && !m.read_at && !m_local_read.count(m.event_id.str());
  }
  NodeId peer_of(const ChatMessage& m) const { return m.sender == m_us ? m.recipient : m.sender; }

  const NodeId m_us;
  mutable std::mutex m_mutex;
  std::map<Key, ChatMessage> m_messages;
  std::unordered_map<std::string, Key> m_by_id;
  std::unordered_map<std::string, Key> m_by_client;  // author + '\n' + client_id
  // Receipts whose message has not been seen yet: target id -> receipts.
  std::unordered_map<std::string, std::vector<PendingReceipt>> m_pending_delivered;
  std::unordered_map<std::string, std::vector<PendingReceipt>> m_pending_read;
  std::unordered_set<std::string> m_local_read;
};

}  // namespace hn::services::chat
