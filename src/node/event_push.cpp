// event_push.cpp — events reach every online member at once (issue #13 §1,
// doc/design/events.md "Push"): each event this node writes is queued for every peer in the
// peer table — discovered, static, and members that dialled us (peers.cpp
// note_inbound_peer) — (events/push.h PushOutbox) and sent by POST /sync/v1/push from the network
// thread, one batch in flight per peer, so under load the next batch carries everything
// queued meanwhile. The receiver stores a push with the sync checks (on the node's `push`
// queue) and relays what was new to it to online peers outside the push's seen_by. A push
// that fails asks for a reconciliation round soon (X02 §3.6 rounds stay the safety net); a
// peer that is offline catches up by the round that runs when it is seen again.
#include <algorithm>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include "events/push.h"
#include "node/detail/node_impl.h"

namespace hn::node {
namespace asio = boost::asio;
using detail::node_log;

namespace {
// A failed push asks for a reconciliation round this long after (failures meanwhile join it).
constexpr auto PUSH_REPAIR_DELAY = std::chrono::milliseconds(500);
constexpr auto PUSH_TIMEOUT = std::chrono::seconds(10);
}  // namespace

void Node::Impl::open_push() {
  push_queue = std::make_unique<WorkQueue>(WorkQueueOptions{"push", 2, 256, 5});
  push_outbox = std::make_unique<events::PushOutbox>();
  // Our own events, as they commit (from any queue that appends: services, admin, debug).
  push_subscription = log->subscribe([this](const events::Event& e) {
    if (e.author == keys->node_id()) push_events({e}, {}, std::nullopt);
  });
}

std::vector<std::pair<NodeId, identity::Endpoint>> Node::Impl::online_peers() const {
  std::vector<std::pair<NodeId, identity::Endpoint>> out;
  std::lock_guard lock(peers_mutex);
  for (const auto& [id, p] : peers) out.emplace_back(id, p.endpoint);
  return out;
}

void Node::Impl::push_events(std::vector<events::Event> events, std::vector<NodeId> seen_by,
                             std::optional<NodeId> sender) {
  if (stopping.load() || events.empty() || !push_outbox) return;
  if (sender) seen_by.push_back(*sender);
  std::sort(seen_by.begin(), seen_by.end());
  std::vector<NodeId> targets;
  for (const auto& [id, ep] : online_peers()) {
    if (id == keys->node_id() || std::binary_search(seen_by.begin(), seen_by.end(), id)) continue;
    targets.push_back(id);
  }
  if (targets.empty()) return;
  auto seen = std::make_shared<const std::vector<NodeId>>(
      events::merge_seen_by(std::move(seen_by), keys->node_id(), targets));
  for (auto& e : events) {
    push_outbox->add(std::make_shared<const events::Event>(std::move(e)), seen, targets);
  }
  if (sender) push_stats.relayed_events += static_cast<std::int64_t>(events.size());
  if (!push_pump_posted.exchange(true)) {
    asio::post(io, [this] {
      push_pump_posted = false;
      pump_push();
    });
  }
}

// Network thread: a batch to every peer with events queued, none in flight and its last
// batch PUSH_MIN_GAP_MS ago; a timer comes back for the ones that must wait.
void Node::Impl::pump_push() {
  if (stopping.load() || !client) return;
  const std::int64_t now = clock.now_ms();
  for (const auto& peer : push_outbox->ready()) {
    std::optional<identity::Endpoint> ep;
    {
      std::lock_guard lock(peers_mutex);
      if (auto it = peers.find(peer); it != peers.end()) ep = it->second.endpoint;
    }
    if (!ep) {  // gone: the round that runs when it is back delivers
      push_outbox->drop_peer(peer);
      continue;
    }
    auto batch = push_outbox->take(peer, now);
    if (!batch) continue;
    transport::Endpoint tep{ep->host, static_cast<std::uint16_t>(ep->port), peer};
    asio::co_spawn(io, async_push_batch(std::move(*batch), std::move(tep)), asio::detached);
  }
  const auto due = push_outbox->next_due_ms();
  if (due && *due > now && push_outbox->arm_wakeup()) {
    auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(*due - now));
    timer->async_wait([this, timer](const boost::system::error_code& ec) {
      push_outbox->wakeup_fired();
      if (!ec) pump_push();
    });
  }
}

asio::awaitable<void> Node::Impl::async_push_batch(events::PushBatch batch, transport::Endpoint ep) {
  const auto n = static_cast<std::int64_t>(batch.events.size());
  events::PushRequest request{community, std::move(batch.events), std::move(batch.seen_by)};
  transport::CallOptions co;
  co.timeout = PUSH_TIMEOUT;
  auto op = client->async_request(ep, "POST", std::string(events::SYNC_PATH_PUSH),
                                  events::to_json(request), co);
  auto r = co_await std::move(op);
  push_stats.batches_sent += 1;
  bool ok = r.has_value() && r->status / 100 == 2;
  if (ok) {
    auto reply = events::parse_events_reply(r->body);
    ok = reply.has_value() && reply->rejected == 0;
    push_stats.events_sent += n;
  }
  if (!ok) {
    push_stats.failures += 1;
    node_log().info("push failed", Json{{"peer", batch.peer.str()},
                                        {"events", n},
                                        {"error", r ? r->body.dump() : r.error().to_string()}});
    repair_after_push_failure();
  }
  push_outbox->finish(batch.peer);
  pump_push();
}

void Node::Impl::repair_after_push_failure() {
  if (push_repair_armed.exchange(true)) return;
  auto timer = std::make_shared<asio::steady_timer>(io, PUSH_REPAIR_DELAY);
  timer->async_wait([this, timer](const boost::system::error_code& ec) {
    push_repair_armed = false;
    if (ec || stopping.load()) return;
    push_stats.repairs += 1;
    schedule_sync();
  });
}

asio::awaitable<transport::Response> Node::Impl::async_serve_push(transport::Request r,
                                                                  PushRoute route) {
  // Members, and invitees while they join (as the sync routes).
  if (r.trust == TrustLevel::unknown && !is_pending_invitee(r.caller)) {
    co_return transport::Response::error(make_error(ErrorCode::unauthorized, "sync is for members"));
  }
  note_inbound_peer(r);
  const NodeId sender = r.caller;
  auto op = async_on(
      *push_queue,
      [this, sender, route](const Json& body) -> Result<Json> {
        events::PushRequest request;
        if (route == PushRoute::push) {
          HN_TRY_ASSIGN(request, events::parse_push_request(body));
        } else {  // X02 §6 /sync/v1/events: a round's push, or a joining node's join
          HN_TRY_ASSIGN(auto plain, events::parse_events_request(body));
          request.community_id = std::move(plain.community_id);
          request.events = std::move(plain.events);
        }
        HN_TRY_ASSIGN(auto outcome, events::serve_push(*sync_server, request));
        if (route == PushRoute::push) {
          push_stats.events_received += static_cast<std::int64_t>(outcome.stored.size());
        }
        // What was new here goes on to the online peers the sender did not reach.
        push_events(std::move(outcome.stored), std::move(request.seen_by), sender);
        return events::to_json(outcome.reply);
      },
      std::move(r.body));
  Result<Json> result = co_await std::move(op);
  if (!result) co_return transport::Response::error(result.error());
  co_return transport::Response::json(std::move(*result));
}

Json Node::Impl::push_status() const {
  const auto s = push_outbox ? push_outbox->stats() : events::PushOutboxStats{};
  return Json{{"events_sent", push_stats.events_sent.load()},
              {"batches_sent", push_stats.batches_sent.load()},
              {"failures", push_stats.failures.load()},
              {"repairs", push_stats.repairs.load()},
              {"events_received", push_stats.events_received.load()},
              {"events_relayed", push_stats.relayed_events.load()},
              {"queued", s.queued},
              {"dropped", s.dropped},
              {"in_flight", s.in_flight}};
}

}  // namespace hn::node
