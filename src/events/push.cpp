// push.cpp — the push wire form, the receiving side and the sender's outbox (push.h).
#include "events/push.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

#include "identity/keys.h"

namespace hn::events {
namespace {

Error bad(std::string msg) { return make_error(ErrorCode::bad_request, "push: " + std::move(msg)); }

void sort_unique(std::vector<NodeId>& ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

}  // namespace

Json to_json(const PushRequest& request) {
  Json out = to_json(EventsRequest{request.community_id, request.events});
  Json seen = Json::array();
  for (const auto& id : request.seen_by) seen.push_back(id.str());
  out["seen_by"] = std::move(seen);
  return out;
}

Result<PushRequest> parse_push_request(Json json) {
  if (!json.is_object()) return bad("the request must be an object");
  PushRequest r;
  auto seen = json.find("seen_by");
  if (seen == json.end()) return bad("missing field 'seen_by'");
  if (!seen->is_array()) return bad("field 'seen_by' must be an array");
  if (seen->size() > PUSH_MAX_SEEN_BY) {
    return bad("field 'seen_by' has more than " + std::to_string(PUSH_MAX_SEEN_BY) + " entries");
  }
  for (const auto& item : *seen) {
    if (!item.is_string() || !identity::parse_node_id(item.get_ref<const std::string&>())) {
      return bad("seen_by entries must be full node ids (ed25519:…)");
    }
    r.seen_by.emplace_back(item.get<std::string>());
  }
  sort_unique(r.seen_by);
  json.erase("seen_by");
  HN_TRY_ASSIGN(auto events, parse_events_request(std::move(json)));
  if (events.events.empty()) return bad("a push carries at least one event");
  r.community_id = std::move(events.community_id);
  r.events = std::move(events.events);
  return r;
}

Result<PushOutcome> serve_push(SyncServer& server, const PushRequest& request) {
  PushOutcome out;
  HN_TRY_ASSIGN(out.reply,
                server.serve_events(EventsRequest{request.community_id, request.events},
                                    &out.stored));
  return out;
}

std::vector<NodeId> merge_seen_by(std::vector<NodeId> seen, const NodeId& self,
                                  const std::vector<NodeId>& targets) {
  seen.push_back(self);
  seen.insert(seen.end(), targets.begin(), targets.end());
  sort_unique(seen);
  return seen;
}

void PushOutbox::add(std::shared_ptr<const Event> event,
                     std::shared_ptr<const std::vector<NodeId>> seen_by,
                     const std::vector<NodeId>& targets) {
  std::lock_guard lock(m_mutex);
  for (const auto& peer : targets) {
    auto& q = m_peers[peer];
    if (q.items.size() >= m_max_queued) {
      q.items.pop_front();
      ++m_dropped;
    }
    q.items.push_back(Item{event, seen_by});
  }
}

std::vector<NodeId> PushOutbox::ready() const {
  std::lock_guard lock(m_mutex);
  std::vector<NodeId> out;
  for (const auto& [peer, q] : m_peers) {
    if (!q.in_flight && !q.items.empty()) out.push_back(peer);
  }
  return out;
}

std::optional<PushBatch> PushOutbox::take(const NodeId& peer, std::int64_t now_ms) {
  std::lock_guard lock(m_mutex);
  auto it = m_peers.find(peer);
  if (it == m_peers.end() || it->second.in_flight || it->second.items.empty()) return std::nullopt;
  auto& q = it->second;
  if (q.last_sent_ms >= 0 && now_ms < q.last_sent_ms + m_min_gap_ms) return std::nullopt;
  q.last_sent_ms = now_ms;
  PushBatch batch;
  batch.peer = peer;
  const std::size_t n = std::min(m_max_batch, q.items.size());
  const std::vector<NodeId>* last = nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    Item item = std::move(q.items.front());
    q.items.pop_front();
    batch.events.push_back(*item.event);
    // A receiver relays to peers outside seen_by: the intersection never claims a node
    // saw an event it was not sent.
    const auto& seen = item.seen_by ? *item.seen_by : std::vector<NodeId>{};
    if (i == 0) {
      batch.seen_by = seen;
    } else if (last != item.seen_by.get()) {
      std::vector<NodeId> both;
      std::set_intersection(batch.seen_by.begin(), batch.seen_by.end(), seen.begin(), seen.end(),
                            std::back_inserter(both));
      batch.seen_by = std::move(both);
    }
    last = item.seen_by.get();
  }
  q.in_flight = true;
  return batch;
}

void PushOutbox::finish(const NodeId& peer) {
  std::lock_guard lock(m_mutex);
  auto it = m_peers.find(peer);
  if (it == m_peers.end()) return;
  it->second.in_flight = false;  // kept while empty: its last_sent_ms paces the next batch
}

std::optional<std::int64_t> PushOutbox::next_due_ms() const {
  std::lock_guard lock(m_mutex);
  std::optional<std::int64_t> due;
  for (const auto& [peer, q] : m_peers) {
    if (q.in_flight || q.items.empty()) continue;
    const std::int64_t at = q.last_sent_ms < 0 ? 0 : q.last_sent_ms + m_min_gap_ms;
    if (!due || at < *due) due = at;
  }
  return due;
}

bool PushOutbox::arm_wakeup() {
  std::lock_guard lock(m_mutex);
  if (m_wakeup_armed) return false;
  m_wakeup_armed = true;
  return true;
}

void PushOutbox::wakeup_fired() {
  std::lock_guard lock(m_mutex);
  m_wakeup_armed = false;
}

void PushOutbox::drop_peer(const NodeId& peer) {
  std::lock_guard lock(m_mutex);
  auto it = m_peers.find(peer);
  if (it == m_peers.end()) return;
  m_dropped += static_cast<std::int64_t>(it->second.items.size());
  it->second.items.clear();
  if (!it->second.in_flight) m_peers.erase(it);
}

PushOutboxStats PushOutbox::stats() const {
  std::lock_guard lock(m_mutex);
  PushOutboxStats s;
  s.dropped = m_dropped;
  for (const auto& [peer, q] : m_peers) {
    s.queued += static_cast<std::int64_t>(q.items.size());
    if (q.in_flight) ++s.in_flight;
  }
  return s;
}

}  // namespace hn::events
