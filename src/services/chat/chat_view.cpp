// chat_view.cpp — ChatView: apply rules, queries, snapshot state.
#include "services/chat/chat_view.h"

#include <algorithm>

namespace hn::services::chat {
using events::Event;
using events::EventType;

namespace {

Json opt(const std::optional<std::string>& s) { return s ? Json(*s) : Json(nullptr); }

Error bad_state(const std::string& what) {
  return make_error(ErrorCode::bad_request, "chat view state: " + what);
}

Result<std::string> str_field(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return bad_state(std::string(key) + " must be a string");
  return it->get<std::string>();
}

Result<std::optional<std::string>> opt_field(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return bad_state(std::string(key) + " must be a string or null");
  return std::optional<std::string>(it->get<std::string>());
}

}  // namespace

Json ChatMessage::to_json() const {
  Json list = Json::array();
  for (const auto& a : attachments) list.push_back(a.to_json());
  return Json{{"event_id", event_id.str()}, {"lamport", lamport},
              {"from", sender.str()},       {"to", recipient.str()},
              {"client_id", client_id},     {"body", body},
              {"attachments", std::move(list)}, {"created_at", created_at},
              {"delivered_at", opt(delivered_at)}, {"read_at", opt(read_at)}};
}

Json PeerSummary::to_json() const {
  return Json{{"node_id", peer.str()}, {"messages", messages}, {"unread", unread},
              {"last_lamport", last_lamport}, {"last_at", last_at}};
}

std::vector<EventType> ChatView::event_types() {
  return {EventType::chat_message_sent, EventType::chat_message_delivered,
          EventType::chat_message_read};
}

void ChatView::reset() {
  std::lock_guard lock(m_mutex);
  m_messages.clear();
  m_by_id.clear();
  m_by_client.clear();
  m_pending_delivered.clear();
  m_pending_read.clear();
}

void ChatView::apply(const Event& event) {
  std::lock_guard lock(m_mutex);
  switch (event.event_type) {
    case EventType::chat_message_sent: apply_sent_locked(event); break;
    case EventType::chat_message_delivered: apply_receipt_locked(event, false); break;
    case EventType::chat_message_read: apply_receipt_locked(event, true); break;
    default: break;
  }
}

void ChatView::apply_sent_locked(const Event& event) {
  if (event.author != m_us) {
    // Only our conversations; a message from ourselves to ourselves is never one (M10 §4.6).
    auto r = event.data.find("recipient");
    if (r == event.data.end() || !r->is_string() || r->get_ref<const std::string&>() != m_us.str()) {
      return;
    }
  }
  auto data = parse_sent_data(event.data);
  if (!data || data->recipient == event.author) return;
  if (event.author != m_us && data->recipient != m_us) return;
  if (m_by_id.count(event.event_id.str())) return;
  const std::string client_key = event.author.str() + "\n" + data->client_id;
  if (m_by_client.count(client_key)) return;  // a second event for one client_id

  ChatMessage m;
  m.event_id = event.event_id;
  m.lamport = event.lamport;
  m.sender = event.author;
  m.recipient = data->recipient;
  m.client_id = std::move(data->client_id);
  m.body = std::move(data->body);
  m.attachments = std::move(data->attachments);
  m.created_at = event.wall_clock;
  // Receipts that came first.
  for (auto* pending : {&m_pending_delivered, &m_pending_read}) {
    auto it = pending->find(m.event_id.str());
    if (it == pending->end()) continue;
    for (const auto& p : it->second) {
      apply_to_locked(m, p.author, p.at, p.receipt_id, pending == &m_pending_read);
    }
    pending->erase(it);
  }
  m_by_client.emplace(client_key, Key{m.lamport, m.event_id.str()});
  insert_locked(std::move(m));
}

void ChatView::insert_locked(ChatMessage m) {
  Key key{m.lamport, m.event_id.str()};
  m_by_id.emplace(m.event_id.str(), key);
  m_messages.emplace(std::move(key), std::move(m));
}

bool ChatView::apply_to_locked(ChatMessage& m, const NodeId& author, const std::string& at,
                               const EventId& receipt_id, bool read) {
  if (author != m.recipient) return false;  // CONTRACT §7.2: the recipient produces receipts
  auto& field = read ? m.read_at : m.delivered_at;
  if (!field || at < *field) field = at;
  // A read message was delivered, whatever order the receipts took.
  if (read && (!m.delivered_at || at < *m.delivered_at)) m.delivered_at = at;
  if (!read && author == m_us && !m.our_receipt) m.our_receipt = receipt_id;
  return true;
}

void ChatView::apply_receipt_locked(const Event& event, bool read) {
  auto data = parse_receipt_data(event.data, read ? "read_at" : "delivered_at");
  if (!data) return;
  // The receipt's own time when the data names none.
  const std::string at = data->at.empty() ? event.wall_clock : data->at;
  auto it = m_by_id.find(data->target_event_id.str());
  if (it == m_by_id.end()) {
    auto& pending = read ? m_pending_read : m_pending_delivered;
    pending[data->target_event_id.str()].push_back(PendingReceipt{event.author, at, event.event_id});
    return;
  }
  apply_to_locked(m_messages.at(it->second), event.author, at, event.event_id, read);
}

Json ChatView::snapshot_state() const {
  std::lock_guard lock(m_mutex);
  Json messages = Json::array();
  for (const auto& [key, m] : m_messages) {
    Json j = m.to_json();
    j["our_receipt"] = m.our_receipt ? Json(m.our_receipt->str()) : Json(nullptr);
    messages.push_back(std::move(j));
  }
  Json pending = Json::array();
  for (const auto* map : {&m_pending_delivered, &m_pending_read}) {
    for (const auto& [target, list] : *map) {
      for (const auto& p : list) {
        pending.push_back(Json{{"target", target}, {"author", p.author.str()}, {"at", p.at},
                               {"receipt_id", p.receipt_id.str()},
                               {"read", map == &m_pending_read}});
      }
    }
  }
  return Json{{"messages", std::move(messages)}, {"pending", std::move(pending)}};
}

Status ChatView::restore_state(const Json& state) {
  if (!state.is_object()) return bad_state("not an object");
  auto messages = state.find("messages");
  auto pending = state.find("pending");
  if (messages == state.end() || !messages->is_array()) return bad_state("messages must be an array");
  if (pending == state.end() || !pending->is_array()) return bad_state("pending must be an array");
  ChatView fresh(m_us);
  for (const auto& j : *messages) {
    if (!j.is_object()) return bad_state("a message must be an object");
    ChatMessage m;
    HN_TRY_ASSIGN(auto id, str_field(j, "event_id"));
    HN_TRY_ASSIGN(auto from, str_field(j, "from"));
    HN_TRY_ASSIGN(auto to, str_field(j, "to"));
    HN_TRY_ASSIGN(m.client_id, str_field(j, "client_id"));
    HN_TRY_ASSIGN(m.body, str_field(j, "body"));
    HN_TRY_ASSIGN(m.created_at, str_field(j, "created_at"));
    HN_TRY_ASSIGN(m.delivered_at, opt_field(j, "delivered_at"));
    HN_TRY_ASSIGN(m.read_at, opt_field(j, "read_at"));
    HN_TRY_ASSIGN(auto receipt, opt_field(j, "our_receipt"));
    auto lamport = j.find("lamport");
    if (lamport == j.end() || !lamport->is_number_integer() || lamport->get<Lamport>() < 0) {
      return bad_state("lamport must be a whole number");
    }
    auto attachments = parse_attachments(j.value("attachments", Json::array()));
    if (!attachments) return bad_state(attachments.error().message);
    m.event_id = EventId(std::move(id));
    m.lamport = lamport->get<Lamport>();
    m.sender = NodeId(std::move(from));
    m.recipient = NodeId(std::move(to));
    m.attachments = std::move(*attachments);
    if (receipt) m.our_receipt = EventId(std::move(*receipt));
    if (fresh.m_by_id.count(m.event_id.str())) return bad_state("a message twice");
    fresh.m_by_client.emplace(m.sender.str() + "\n" + m.client_id, Key{m.lamport, m.event_id.str()});
    fresh.insert_locked(std::move(m));
  }
  for (const auto& j : *pending) {
    if (!j.is_object()) return bad_state("a pending receipt must be an object");
    HN_TRY_ASSIGN(auto target, str_field(j, "target"));
    HN_TRY_ASSIGN(auto author, str_field(j, "author"));
    HN_TRY_ASSIGN(auto at, str_field(j, "at"));
    HN_TRY_ASSIGN(auto receipt_id, str_field(j, "receipt_id"));
    auto read = j.find("read");
    if (read == j.end() || !read->is_boolean()) return bad_state("read must be a boolean");
    auto& map = read->get<bool>() ? fresh.m_pending_read : fresh.m_pending_delivered;
    map[target].push_back(PendingReceipt{NodeId(std::move(author)), std::move(at), EventId(std::move(receipt_id))});
  }
  std::lock_guard lock(m_mutex);
  m_messages = std::move(fresh.m_messages);
  m_by_id = std::move(fresh.m_by_id);
  m_by_client = std::move(fresh.m_by_client);
  m_pending_delivered = std::move(fresh.m_pending_delivered);
  m_pending_read = std::move(fresh.m_pending_read);
  return {};
}

std::vector<ChatMessage> ChatView::history(const HistoryQuery& q) const {
  std::lock_guard lock(m_mutex);
  std::vector<ChatMessage> out;
  // First key after the cursor: (since_lamport, since_event_id) exclusive, or every event
  // with a greater Lamport when no event id is given.
  auto it = q.since_event_id ? m_messages.upper_bound(Key{q.since_lamport, q.since_event_id->str()})
                             : m_messages.lower_bound(Key{q.since_lamport + 1, std::string()});
  for (; it != m_messages.end() && out.size() < q.limit; ++it) {
    if (q.peer && peer_of(it->second) != *q.peer) continue;
    out.push_back(it->second);
  }
  return out;
}

std::vector<PeerSummary> ChatView::peers() const {
  std::lock_guard lock(m_mutex);
  std::map<NodeId, PeerSummary> by_peer;
  for (const auto& [key, m] : m_messages) {
    const NodeId peer = peer_of(m);
    auto& s = by_peer[peer];
    s.peer = peer;
    ++s.messages;
    if (unread_locked(m)) ++s.unread;
    s.last_lamport = m.lamport;  // replay order: the last one seen is the newest
    s.last_at = m.created_at;
  }
  std::vector<PeerSummary> out;
  for (auto& [peer, s] : by_peer) out.push_back(std::move(s));
  std::sort(out.begin(), out.end(),
            [](const PeerSummary& a, const PeerSummary& b) { return a.last_lamport > b.last_lamport; });
  return out;
}

std::size_t ChatView::unread_count(const NodeId& peer) const {
  std::lock_guard lock(m_mutex);
  std::size_t n = 0;
  for (const auto& [key, m] : m_messages) {
    if (m.sender == peer && unread_locked(m)) ++n;
  }
  return n;
}

std::optional<ChatMessage> ChatView::find(const EventId& id) const {
  std::lock_guard lock(m_mutex);
  auto it = m_by_id.find(id.str());
  if (it == m_by_id.end()) return std::nullopt;
  return m_messages.at(it->second);
}

std::optional<ChatMessage> ChatView::find_sent(const std::string& client_id) const {
  std::lock_guard lock(m_mutex);
  auto it = m_by_client.find(m_us.str() + "\n" + client_id);
  if (it == m_by_client.end()) return std::nullopt;
  return m_messages.at(it->second);
}

std::vector<ChatMessage> ChatView::unreceipted_incoming() const {
  std::lock_guard lock(m_mutex);
  std::vector<ChatMessage> out;
  for (const auto& [key, m] : m_messages) {
    if (m.recipient == m_us && !m.our_receipt) out.push_back(m);
  }
  return out;
}

std::vector<ChatMessage> ChatView::unread_from(const NodeId& peer) const {
  std::lock_guard lock(m_mutex);
  std::vector<ChatMessage> out;
  for (const auto& [key, m] : m_messages) {
    if (m.sender == peer && unread_locked(m)) out.push_back(m);
  }
  return out;
}

void ChatView::mark_read_locally(const std::vector<EventId>& ids) {
  std::lock_guard lock(m_mutex);
  for (const auto& id : ids) m_local_read.insert(id.str());
}

std::vector<std::string> ChatView::local_reads() const {
  std::lock_guard lock(m_mutex);
  std::vector<std::string> out(m_local_read.begin(), m_local_read.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t ChatView::size() const {
  std::lock_guard lock(m_mutex);
  return m_messages.size();
}

}  // namespace hn::services::chat
