// chat_service.cpp — ChatService: the handlers, receipts, the log subscription.
#include "services/chat/chat_service.h"

#include "core/file_util.h"
#include "core/time.h"
#include "core/ulid.h"
#include "identity/keys.h"
#include "services/chat/descriptors.h"

namespace hn::services::chat {
using events::Event;
using events::EventType;

namespace {

constexpr const char* LOCAL_READS_FILE = "local_reads.json";

Error bad(std::string message) { return make_error(ErrorCode::bad_request, std::move(message)); }

const Json& input_of(const Json& body) {
  static const Json empty = Json::object();
  auto it = body.find("input");
  return it != body.end() && it->is_object() ? *it : empty;
}

Error only_self(const char* capability) {
  return make_error(ErrorCode::unauthorized,
                    std::string(capability) + " serves only this node itself (its CLI and UI)");
}

// A full node id from input[key]; bad_request naming the field.
Result<NodeId> node_id_field(const Json& input, const char* key) {
  auto it = input.find(key);
  if (it == input.end() || !it->is_string() || !is_node_id(it->get_ref<const std::string&>())) {
    return bad(std::string(key) + " must be a full node id \"ed25519:<base64url>\"");
  }
  return NodeId(it->get<std::string>());
}

// The signed event of a chat.deliver / chat.forward input (peer bytes).
Result<Event> event_field(const Json& input) {
  auto it = input.find("event");
  if (it == input.end()) return bad("event is required");
  auto event = events::parse_event(*it);
  if (!event) return bad("event: " + event.error().message);
  return event;
}

Json answer(Json output) { return Json{{"output", std::move(output)}}; }

}  // namespace

ChatService::ChatService(const service::ServiceContext& ctx)
    : m_us(ctx.node_id),
      m_log(ctx.log),
      m_replay(ctx.replay),
      m_bus(ctx.bus),
      m_publisher(ctx.publisher),
      m_config(ctx.config.chat),
      m_membership(ctx.membership),
      m_manifest(ctx.community_manifest),
      m_clock(ctx.clock),
      m_data_dir(ctx.data_dir),
      m_view(ctx.node_id),
      m_delivery(ctx.bus, ctx.log, ctx.config.chat.store_and_forward, ctx.membership) {}

ChatService::~ChatService() { stop(); }

std::vector<bus::LocalCapability> ChatService::capabilities() {
  auto make = [](bus::CapabilityDescriptor d, bus::CallHandler h) {
    bus::LocalCapability c;
    c.descriptor = std::move(d);
    c.handler = std::move(h);
    return c;
  };
  using C = const bus::CallContext&;
  std::vector<bus::LocalCapability> caps;
  caps.push_back(make(chat_send_descriptor(), [this](C c, const Json& b) { return send(c, b); }));
  caps.push_back(make(chat_history_descriptor(), [this](C c, const Json& b) { return history(c, b); }));
  caps.push_back(make(chat_peers_descriptor(), [this](C c, const Json& b) { return peers(c, b); }));
  caps.push_back(make(chat_read_descriptor(), [this](C c, const Json& b) { return read(c, b); }));
  caps.push_back(make(chat_deliver_descriptor(), [this](C c, const Json& b) { return deliver(c, b); }));
  if (m_config.store_and_forward) {
    caps.push_back(make(chat_forward_descriptor(), [this](C c, const Json& b) { return forward(c, b); }));
  }
  return caps;
}

Status ChatService::start() {
  load_local_reads();
  HN_TRY(m_replay.register_view(m_view, ChatView::event_types()));
  m_background = std::make_unique<WorkQueue>(WorkQueueOptions{"chat-push", 1, 1024, 5});
  m_subscription = m_log.subscribe([this](const Event& e) { on_message(e); },
                                   {EventType::chat_message_sent});
  // Messages that reached us while the node was down (or before a crash let us answer).
  for (const auto& m : m_view.unreceipted_incoming()) {
    auto receipt = ensure_receipt(m.event_id);
    if (receipt) push_later(std::move(*receipt), m.sender);
  }
  return {};
}

void ChatService::stop() {
  m_subscription.reset();
  if (m_background) m_background->stop();
}

Json ChatService::health() const {
  Json h{{"messages", m_view.size()}, {"peers", m_view.peers().size()},
         {"store_and_forward", m_config.store_and_forward}};
  if (m_background) {
    const auto q = m_background->stats();
    h["background_queue"] = Json{{"threads", q.threads}, {"queued", q.queued}, {"rejected", q.rejected}};
  }
  return h;
}

// --- chat.send (CONTRACT §4.15) ---

Result<Json> ChatService::send(const bus::CallContext& ctx, const Json& body) {
  // The message is signed by this node: only the node itself may send as it.
  if (ctx.request.caller != m_us) return only_self(CHAT_SEND);
  Json data = input_of(body);
  if (!data.contains("client_id")) data["client_id"] = new_ulid();
  HN_TRY_ASSIGN(auto parsed, parse_sent_data(data));
  if (parsed.recipient == m_us) return bad("no chat with oneself (M10 §4.6)");
  HN_TRY(check_recipient(parsed.recipient));

  std::optional<Event> message;
  bool repeat = false;
  {
    std::lock_guard lock(m_send_mutex);
    std::optional<EventId> known;
    if (auto it = m_sent_by_client.find(parsed.client_id); it != m_sent_by_client.end()) {
      known = it->second;
    } else if (auto m = m_view.find_sent(parsed.client_id)) {
      known = m->event_id;
    }
    if (known) {
      HN_TRY_ASSIGN(auto stored, m_log.get(*known));
      if (!stored) return make_error(ErrorCode::internal_error, "chat.send: a sent message left the log");
      message = std::move(*stored);
      repeat = true;
    } else {
      HN_TRY_ASSIGN(auto appended, m_log.append_local(EventType::chat_message_sent, parsed.to_json()));
      m_sent_by_client.emplace(parsed.client_id, appended.event_id);
      message = std::move(appended);
    }
  }
  const auto shown = m_view.find(message->event_id);
  DeliveryMethod method = DeliveryMethod::queued;
  if (repeat && shown && shown->delivered_at) {
    // Delivered already: answer as the first time, deliver nothing again.
    std::lock_guard lock(m_send_mutex);
    auto it = m_methods.find(message->event_id.str());
    method = it != m_methods.end() ? it->second : DeliveryMethod::direct;
  } else {
    const auto outcome = m_delivery.deliver(*message);
    if (outcome.refused) {
      return make_error(outcome.refused->code,
                        "the recipient's node refused this node's message: " + outcome.refused->message);
    }
    method = outcome.method;
    std::lock_guard lock(m_send_mutex);
    m_methods[message->event_id.str()] = method;
  }
  if (!repeat) m_publisher.publish(topic_for(parsed.recipient), events::to_json(*message));
  Json out{{"event_id", message->event_id.str()},
           {"lamport", message->lamport},
           {"delivered", std::string(to_string(method))}};
  if (repeat) out["duplicate"] = true;
  return answer(std::move(out));
}

Status ChatService::check_recipient(const NodeId& recipient) const {
  bool revoked = false;
  bool member = false;
  if (m_membership) {
    auto level = m_membership(recipient);
    member = level.has_value();
    revoked = !level && level.error().code == ErrorCode::revoked;
  } else if (auto manifest = m_manifest ? m_manifest() : std::nullopt) {
    revoked = manifest->is_revoked(recipient);
    member = manifest->is_member(recipient);
  }
  if (revoked) {
    return make_error(ErrorCode::not_found, "recipient " + recipient.str() + " was revoked",
                      Json{{"reason", "revoked"}});
  }
  if (!member) {
    return make_error(ErrorCode::not_found,
                      "recipient " + recipient.str() + " is not a member of this community",
                      Json{{"reason", "not_member"}});
  }
  return {};
}

std::optional<TrustLevel> ChatService::our_level() const {
  if (m_membership) {
    auto level = m_membership(m_us);
    if (level) return *level;
    return std::nullopt;
  }
  if (auto manifest = m_manifest ? m_manifest() : std::nullopt) return manifest->level_of(m_us);
  return std::nullopt;
}

// --- chat.history (CONTRACT §4.16), chat.peers, chat.read ---

Result<Json> ChatService::history(const bus::CallContext& ctx, const Json& body) const {
  if (ctx.request.caller != m_us) return only_self(CHAT_HISTORY);
  const Json& input = input_of(body);
  HistoryQuery q;
  if (input.contains("peer")) {
    HN_TRY_ASSIGN(auto peer, node_id_field(input, "peer"));
    q.peer = std::move(peer);
  }
  q.since_lamport = input.value("since_lamport", Lamport{0});
  if (auto it = input.find("since_event_id"); it != input.end()) {
    if (!it->is_string() || !is_valid_ulid(it->get_ref<const std::string&>())) {
      return bad("since_event_id must be an event id (ULID)");
    }
    q.since_event_id = EventId(it->get<std::string>());
  }
  q.limit = static_cast<std::size_t>(input.value("limit", std::int64_t{200}));
  const auto messages = m_view.history(q);
  Json list = Json::array();
  for (const auto& m : messages) list.push_back(m.to_json());
  Json out{{"messages", std::move(list)}};
  if (messages.size() == q.limit && !messages.empty()) {
    out["next"] = Json{{"since_lamport", messages.back().lamport},
                       {"since_event_id", messages.back().event_id.str()}};
  }
  return answer(std::move(out));
}

Result<Json> ChatService::peers(const bus::CallContext& ctx, const Json&) const {
  if (ctx.request.caller != m_us) return only_self(CHAT_PEERS);
  Json list = Json::array();
  for (const auto& p : m_view.peers()) list.push_back(p.to_json());
  return answer(Json{{"peers", std::move(list)}});
}

Result<Json> ChatService::read(const bus::CallContext& ctx, const Json& body) {
  if (ctx.request.caller != m_us) return only_self(CHAT_READ);
  HN_TRY_ASSIGN(auto peer, node_id_field(input_of(body), "peer"));
  const auto unread = m_view.unread_from(peer);
  if (!m_config.read_receipts_enabled) {
    std::vector<EventId> ids;
    for (const auto& m : unread) ids.push_back(m.event_id);
    std::lock_guard lock(m_read_mutex);
    m_view.mark_read_locally(ids);
    HN_TRY(save_local_reads_locked());
    return answer(Json{{"marked", ids.size()}, {"receipts", false}});
  }
  const std::string now = format_rfc3339_ms(m_clock.now_ms());
  std::size_t marked = 0;
  for (const auto& m : unread) {
    HN_TRY_ASSIGN(auto receipt,
                  m_log.append_local(EventType::chat_message_read,
                                     Json{{"target_event_id", m.event_id.str()}, {"read_at", now}}));
    push_later(std::move(receipt), m.sender);
    ++marked;
  }
  return answer(Json{{"marked", marked}, {"receipts", true}});
}

// --- chat.deliver, chat.forward: signed events from peers ---

Result<Json> ChatService::deliver(const bus::CallContext&, const Json& body) {
  HN_TRY_ASSIGN(auto event, event_field(input_of(body)));
  switch (event.event_type) {
    case EventType::chat_message_sent: {
      HN_TRY_ASSIGN(auto data, parse_sent_data(event.data));
      if (data.recipient != m_us || event.author == m_us) {
        return bad("chat.deliver: this node is not the message's recipient");
      }
      {
        std::lock_guard<std::recursive_mutex> lock(m_receipt_mutex);
        m_in_delivery.insert(event.event_id.str());
      }
      auto stored = m_log.append_received(event);
      {
        std::lock_guard<std::recursive_mutex> lock(m_receipt_mutex);
        m_in_delivery.erase(event.event_id.str());
      }
      if (!stored) return stored.take_error();
      HN_TRY_ASSIGN(auto receipt, ensure_receipt(event.event_id));
      return answer(Json{{"receipt", events::to_json(receipt)}});
    }
    case EventType::chat_message_delivered:
    case EventType::chat_message_read: {
      const bool read = event.event_type == EventType::chat_message_read;
      HN_TRY(parse_receipt_data(event.data, read ? "read_at" : "delivered_at"));
      HN_TRY(m_log.append_received(event));
      return answer(Json{{"receipt", nullptr}});
    }
    default:
      return bad("chat.deliver takes chat.message.* events only");
  }
}

Result<Json> ChatService::forward(const bus::CallContext&, const Json& body) {
  if (our_level() != TrustLevel::anchor) {
    return make_error(ErrorCode::unauthorized, "only an anchor holds messages for others (M10 §4.4)");
  }
  HN_TRY_ASSIGN(auto event, event_field(input_of(body)));
  if (event.event_type != EventType::chat_message_sent) {
    return bad("chat.forward takes chat.message.sent events only");
  }
  HN_TRY(parse_sent_data(event.data));
  HN_TRY(m_log.append_received(event));
  return answer(Json{{"held", true}});
}

// --- receipts ---

Result<Event> ChatService::ensure_receipt(const EventId& id) {
  std::lock_guard<std::recursive_mutex> lock(m_receipt_mutex);
  std::optional<EventId> existing;
  if (auto it = m_receipts.find(id.str()); it != m_receipts.end()) {
    existing = it->second;
  } else if (auto m = m_view.find(id); m && m->our_receipt) {
    existing = m->our_receipt;
  }
  if (existing) {
    HN_TRY_ASSIGN(auto stored, m_log.get(*existing));
    if (stored) return std::move(*stored);
  }
  HN_TRY_ASSIGN(auto receipt,
                m_log.append_local(EventType::chat_message_delivered,
                                   Json{{"target_event_id", id.str()},
                                        {"delivered_at", format_rfc3339_ms(m_clock.now_ms())}}));
  m_receipts.emplace(id.str(), receipt.event_id);
  return receipt;
}

void ChatService::on_message(const Event& event) {
  if (event.author == m_us) return;
  auto r = event.data.find("recipient");
  if (r == event.data.end() || !r->is_string() || r->get_ref<const std::string&>() != m_us.str()) return;
  if (!parse_sent_data(event.data)) return;
  // CONTRACT §8: the recipient's UI hears of it on chat.message.<short id>.
  m_publisher.publish(topic_for(m_us), events::to_json(event));
  bool direct = false;
  {
    std::lock_guard<std::recursive_mutex> lock(m_receipt_mutex);
    direct = m_in_delivery.count(event.event_id.str()) > 0;
  }
  auto receipt = ensure_receipt(event.event_id);
  // A direct delivery answers with the receipt; anything else hands it over separately.
  if (receipt && !direct) push_later(std::move(*receipt), event.author);
}

void ChatService::push_later(Event receipt, NodeId sender) {
  if (!m_background) return;
  (void)m_background->try_post([this, receipt = std::move(receipt), sender = std::move(sender)] {
    m_delivery.push_receipt(receipt, sender);
  });
}

std::string ChatService::topic_for(const NodeId& node) const {
  auto key = identity::parse_node_id(node.str());
  return "chat.message." + (key ? identity::short_node_id(*key) : node.str());
}

// --- local read marks ---

void ChatService::load_local_reads() {
  if (m_data_dir.empty()) return;
  std::error_code ec;
  if (!std::filesystem::exists(m_data_dir / LOCAL_READS_FILE, ec)) return;
  auto text = read_file(m_data_dir / LOCAL_READS_FILE);
  if (!text) return;
  auto json = parse_json(*text);
  if (!json || !json->is_array()) return;
  std::vector<EventId> ids;
  for (const auto& id : *json) {
    if (id.is_string()) ids.emplace_back(id.get<std::string>());
  }
  m_view.mark_read_locally(ids);
}

Status ChatService::save_local_reads_locked() {
  if (m_data_dir.empty()) return {};
  return atomic_write_file(m_data_dir / LOCAL_READS_FILE, Json(m_view.local_reads()).dump(),
                           std::filesystem::perms(0600));
}

std::unique_ptr<bus::Service> make_service(const service::ServiceContext& ctx) {
  return std::make_unique<ChatService>(ctx);
}

}  // namespace hn::services::chat
