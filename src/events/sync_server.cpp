// sync_server.cpp — the serving side of sync: the four endpoints over one log (SyncServer),
// and the in-process peer that calls it through JSON text (InProcessSyncPeer) (sync.h).
#include "events/sync.h"

#include <algorithm>

#include "events/detail/sync_common.h"
#include "events/detail/sync_read.h"

namespace hn::events {
namespace {

using detail::bad;
using detail::MAX_COMMUNITY_ID;
using detail::read_by_keys;

}  // namespace

// ---------------------------------------------------------------------------------------
// SyncServer

SyncServer::SyncServer(EventLog& log) : m_log(log), m_cache(log) {}

Status SyncServer::check_community(const CommunityId& id) const {
  if (id != m_log.community_id()) {
    return make_error(ErrorCode::wrong_community, "sync: this node syncs community " +
                                                      m_log.community_id().str() + ", not " +
                                                      id.str().substr(0, MAX_COMMUNITY_ID));
  }
  return {};
}

Result<HeadsReport> SyncServer::serve_heads() {
  HN_TRY_ASSIGN(auto index, m_cache.get());
  HeadsReport r;
  r.community_id = m_log.community_id();
  const auto fp = index->fingerprint(0, index->size());
  r.count = fp.count;
  r.fingerprint = fp.digest;
  r.head = index->size() == 0 ? 0 : index->key(index->size() - 1).lamport;
  HN_TRY_ASSIGN(r.heads_by_type, m_log.heads_by_type());
  return r;
}

Result<ReconcileReply> SyncServer::serve_reconcile(const ReconcileRequest& request) {
  HN_TRY(check_community(request.community_id));
  if (request.ranges.empty() || request.ranges.size() > SYNC_MAX_RANGES) {
    return bad("a reconcile request carries 1.." + std::to_string(SYNC_MAX_RANGES) + " ranges");
  }
  HN_TRY_ASSIGN(auto index, m_cache.get());
  ReconcileReply reply;
  reply.answers.reserve(request.ranges.size());
  std::size_t bulk_budget = SYNC_BULK_IDS;
  for (const auto& r : request.ranges) {
    if (!(r.lo < r.hi)) return bad("a range needs lo < hi");
    const std::size_t a = index->lower_bound(r.lo);
    const std::size_t b = index->lower_bound(r.hi);
    const std::size_t n = b - a;
    RangeAnswer answer;
    if (index->fingerprint(a, b) == r.fp) {
      answer.kind = RangeAnswer::Kind::equal;
    } else if (n <= SYNC_LEAF_SIZE || (r.fp.count == 0 && n <= bulk_budget)) {
      // A small range, or one the client holds nothing of: list our keys.
      if (n > SYNC_LEAF_SIZE) bulk_budget -= n;
      answer.kind = RangeAnswer::Kind::ids;
      answer.ids.reserve(n);
      for (std::size_t p = a; p < b; ++p) answer.ids.push_back(index->key(p));
    } else {
      // Split into SYNC_SPLIT_FANOUT parts of (nearly) equal key count; n > LEAF ≥ FANOUT,
      // so every part holds at least one of our keys and every inner bound is a key > lo.
      answer.kind = RangeAnswer::Kind::split;
      SyncKey lo = r.lo;
      std::size_t begin = a;
      for (std::size_t k = 1; k <= SYNC_SPLIT_FANOUT; ++k) {
        const std::size_t end = k == SYNC_SPLIT_FANOUT ? b : a + n * k / SYNC_SPLIT_FANOUT;
        SyncKey hi = k == SYNC_SPLIT_FANOUT ? r.hi : index->key(end);
        answer.parts.push_back(SyncRange{lo, hi, index->fingerprint(begin, end)});
        lo = std::move(hi);
        begin = end;
      }
    }
    reply.answers.push_back(std::move(answer));
  }
  return reply;
}

Result<FetchReply> SyncServer::serve_fetch(const FetchRequest& request) {
  HN_TRY(check_community(request.community_id));
  if (request.ids.size() > SYNC_MAX_BATCH) {
    return bad("a fetch asks for at most " + std::to_string(SYNC_MAX_BATCH) + " events");
  }
  std::vector<SyncKey> keys = request.ids;
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  HN_TRY_ASSIGN(auto index, m_cache.get());
  HN_TRY_ASSIGN(auto batch, read_by_keys(m_log, *index, keys, SYNC_MAX_BATCH_BYTES));
  FetchReply reply;
  reply.truncated = batch.consumed < keys.size();
  // Keys answered without an event: pruned ones are said so (not_found for good).
  std::size_t e = 0;
  for (std::size_t k = 0; k < batch.consumed; ++k) {
    if (e < batch.events.size() && batch.events[e].event_id.str() == keys[k].event_id) {
      ++e;
      continue;
    }
    HN_TRY_ASSIGN(bool pruned, m_log.is_pruned(EventId(keys[k].event_id)));
    if (pruned) reply.pruned.push_back(keys[k]);
  }
  reply.events = std::move(batch.events);
  return reply;
}

Result<EventsReply> SyncServer::serve_events(const EventsRequest& request,
                                             std::vector<Event>* newly_stored) {
  HN_TRY(check_community(request.community_id));
  if (request.events.size() > SYNC_MAX_BATCH) {
    return bad("a push carries at most " + std::to_string(SYNC_MAX_BATCH) + " events");
  }
  // Replay order lets an invite and join land before the new member's own events.
  std::vector<Event> events = request.events;
  std::stable_sort(events.begin(), events.end(), replay_order_less);
  HN_TRY_ASSIGN(auto batch, m_log.append_received_batch(events));
  EventsReply reply;
  reply.accepted = static_cast<std::int64_t>(batch.accepted);
  reply.rejected = static_cast<std::int64_t>(batch.rejected);
  reply.duplicates = static_cast<std::int64_t>(batch.duplicates);
  reply.new_head_lamport = batch.new_head;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!batch.results[i].has_value()) {
      reply.rejected_reasons.push_back(
          EventRejection{events[i].event_id, batch.results[i].error().code});
    } else if (newly_stored && *batch.results[i] == AppendOutcome::appended) {
      newly_stored->push_back(events[i]);
    }
  }
  return reply;
}

Result<Json> SyncServer::handle_heads() {
  HN_TRY_ASSIGN(auto r, serve_heads());
  return to_json(r);
}

Result<Json> SyncServer::handle_reconcile(const Json& body) {
  HN_TRY_ASSIGN(auto request, parse_reconcile_request(body));
  HN_TRY_ASSIGN(auto reply, serve_reconcile(request));
  return to_json(reply);
}

Result<Json> SyncServer::handle_fetch(const Json& body) {
  HN_TRY_ASSIGN(auto request, parse_fetch_request(body));
  HN_TRY_ASSIGN(auto reply, serve_fetch(request));
  return to_json(std::move(reply));
}

Result<Json> SyncServer::handle_events(const Json& body) {
  HN_TRY_ASSIGN(auto request, parse_events_request(body));
  HN_TRY_ASSIGN(auto reply, serve_events(request));
  return to_json(reply);
}

// ---------------------------------------------------------------------------------------
// InProcessSyncPeer: JSON text both ways, as on the wire.

namespace {

Result<Json> through_text(const Json& value) {
  std::string text;
  try {
    text = value.dump();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal_error,
                      std::string("sync: cannot serialise: ") + e.what());
  }
  return parse_json(text);
}

template <typename F>
Result<Json> round_trip(const Json& request, F&& handler) {
  HN_TRY_ASSIGN(auto body, through_text(request));
  HN_TRY_ASSIGN(auto reply, handler(body));
  return through_text(reply);
}

}  // namespace

Result<Json> InProcessSyncPeer::heads() {
  HN_TRY_ASSIGN(auto reply, m_server.handle_heads());
  return through_text(reply);
}

Result<Json> InProcessSyncPeer::reconcile(const Json& request) {
  return round_trip(request, [&](const Json& body) { return m_server.handle_reconcile(body); });
}

Result<Json> InProcessSyncPeer::fetch(const Json& request) {
  return round_trip(request, [&](const Json& body) { return m_server.handle_fetch(body); });
}

Result<Json> InProcessSyncPeer::push_events(const Json& request) {
  return round_trip(request, [&](const Json& body) { return m_server.handle_events(body); });
}

}  // namespace hn::events
