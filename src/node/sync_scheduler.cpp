// sync_scheduler.cpp — event sync (X02 §3.6): the served sync requests run on the node's
// sync queue; rounds with every peer (events/sync.h SyncClient, one at a time on that
// queue, I/O posted to the network thread) run when a peer appears, when asked, and every
// SYNC_INTERVAL_SECONDS — SYNC_INTERVAL_OFFLINE_SECONDS in emergency mode (M09, X02 §5.5).
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <cstdlib>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/time.h"
#include "node/detail/node_impl.h"
#include "node/detail/parse.h"
#include "node/detail/sync_peer.h"
#include "transport/completion.h"

namespace hn::node {
namespace asio = boost::asio;
using detail::node_log;

Status Node::Impl::open_sync() {
  sync_server = std::make_unique<events::SyncServer>(*log);
  sync_client = std::make_unique<events::SyncClient>(*log);
  // Test hook (doc: tests/functional): a shorter period; a malformed value is a config_error.
  HN_TRY_ASSIGN(auto interval, detail::parse_sync_interval_override(
                                   std::getenv("HEARTHNET_SYNC_INTERVAL_SECONDS")));
  if (interval) sync_interval = *interval;
  // The same for the static peers' re-poll (peers.cpp).
  HN_TRY_ASSIGN(auto poll, detail::parse_static_peer_interval_override(
                               std::getenv("HEARTHNET_STATIC_PEER_INTERVAL_SECONDS")));
  if (poll) static_peer_interval = *poll;
  return {};
}

std::chrono::milliseconds Node::Impl::current_sync_interval() const {
  return offline.load() ? std::min(sync_interval, std::chrono::milliseconds(std::chrono::seconds(
                                                      SYNC_INTERVAL_OFFLINE_SECONDS)))
                        : sync_interval;
}

asio::awaitable<Result<Json>> Node::Impl::async_on(WorkQueue& queue, JsonJob fn, Json body) {
  // Hands fn(body) to `queue` and resumes this coroutine with its result by one post back:
  // no thread waits in between. A full queue answers capacity_exceeded at once.
  return transport::async_completion<Result<Json>>(
      [&queue, fn = std::move(fn), body = std::move(body)](auto reply) mutable {
        const bool queued = queue.try_post([fn = std::move(fn), body = std::move(body), reply]() {
          Result<Json> r = make_error(ErrorCode::internal_error, "request failed");
          // Third-party exceptions stop here (STYLE: never across our API).
          try {
            r = fn(body);
          } catch (const std::exception& e) {
            r = make_error(ErrorCode::internal_error, std::string("request failed: ") + e.what());
          }
          reply(std::move(r));
        });
        if (!queued) {
          Error e = make_error(ErrorCode::capacity_exceeded, "the node's " + queue.name() + " queue is full");
          e.retry_after_ms = 1000;
          reply(std::move(e));
        }
      });
}

asio::awaitable<transport::Response> Node::Impl::async_sync(transport::Request r, JsonJob fn) {
  // Members, and invitees while they join; the transport refused revoked callers.
  if (r.trust == TrustLevel::unknown && !is_pending_invitee(r.caller)) {
    co_return transport::Response::error(
        make_error(ErrorCode::unauthorized, "sync is for members"));
  }
  note_inbound_peer(r);
  auto op = async_on(*sync_queue, std::move(fn), std::move(r.body));
  Result<Json> result = co_await std::move(op);
  if (!result) co_return transport::Response::error(result.error());
  co_return transport::Response::json(std::move(*result));
}

asio::awaitable<void> Node::Impl::async_sync_request(transport::Endpoint ep, std::string method,
                                                    std::string path, Json body, bus::CallDone done) {
  if (stopping.load() || !client) {
    done(make_error(ErrorCode::partition, "node is stopping"));
    co_return;
  }
  transport::CallOptions co;
  co.timeout = std::chrono::seconds(30);
  auto op = client->async_request(ep, method, path, std::move(body), co);
  auto r = co_await std::move(op);
  if (!r) {
    done(r.take_error());
  } else if (r->status / 100 != 2) {
    done(transport::parse_error_response(r->status, r->body));
  } else {
    done(std::move(r->body));
  }
}

// On the sync queue: one request to a peer, run on the network thread; this thread waits
// for the answer (a sync round is sequential) — woken by the answer or by shutdown, never
// by polling.
Result<Json> Node::Impl::sync_request(const transport::Endpoint& ep, const std::string& method,
                                      std::string_view path, Json body) {
  struct Waiter {
    std::mutex mutex;
    std::condition_variable cv;
    std::optional<Result<Json>> result;
    void set(Result<Json> r) {
      {
        std::lock_guard lock(mutex);
        if (result) return;
        result.emplace(std::move(r));
      }
      cv.notify_all();
    }
  };
  auto waiter = std::make_shared<Waiter>();
  const auto stop_id = stop_token.on_cancel(
      [waiter] { waiter->set(make_error(ErrorCode::partition, "node is stopping")); });
  bus::CallDone done = [waiter](Result<Json> r) { waiter->set(std::move(r)); };
  asio::post(io, [this, ep, method, p = std::string(path), body = std::move(body), done]() mutable {
    asio::co_spawn(io, async_sync_request(ep, method, std::move(p), std::move(body), done),
                   asio::detached);
  });
  std::unique_lock lock(waiter->mutex);
  waiter->cv.wait(lock, [&] { return waiter->result.has_value(); });
  stop_token.forget(stop_id);
  return std::move(*waiter->result);
}

// One sync pass at a time; a request made during a pass runs another after it.
void Node::Impl::schedule_sync() {
  if (stopping.load() || !sync_queue) return;
  if (sync_busy.exchange(true)) {
    sync_again = true;
    return;
  }
  const bool queued = sync_queue->try_post([this] {
    do {
      sync_again = false;
      run_sync_rounds();
    } while (sync_again.load() && !stopping.load());
    sync_busy = false;
  });
  if (!queued) sync_busy = false;  // full (peers' requests fill it): the timer tries again
}

void Node::Impl::run_sync_rounds() {
  std::vector<std::pair<NodeId, identity::Endpoint>> targets;
  {
    std::lock_guard lock(peers_mutex);
    for (const auto& [id, p] : peers) targets.emplace_back(id, p.endpoint);
  }
  bool community_changed = false;
  for (const auto& [id, ep] : targets) {
    if (stopping.load()) return;
    transport::Endpoint tep{ep.host, static_cast<std::uint16_t>(ep.port), id};
    detail::TransportSyncPeer peer(
        [this, tep](const std::string& m, std::string_view path, Json body) {
          return sync_request(tep, m, path, std::move(body));
        },
        id.str());
    auto r = sync_client->run_round(peer);
    if (!r) {
      node_log().info("sync round failed",
                      Json{{"peer", id.str()}, {"error", r.error().to_string()}});
      continue;
    }
    last_sync_ok_ms.store(clock.now_ms());
    if (r->received_count > 0 || r->sent_count > 0 || r->rejected_count > 0) {
      node_log().info("sync round", Json{{"peer", id.str()},
                                         {"received", r->received_count},
                                         {"sent", r->sent_count},
                                         {"rejected", r->rejected_count},
                                         {"peer_accepted", r->peer_accepted_count},
                                         {"ms", r->duration_ms}});
    }
    if (r->received_count > 0) community_changed = true;
    // Events the peer pruned will never come: their effects come with its snapshot.
    if (r->pruned_count > 0 && bootstrap_from_snapshot(peer, id)) community_changed = true;
  }
  // New community.* events: the manifest (and with it membership) follows the log.
  if (community_changed) refresh_community_manifest();
}

void Node::Impl::start_sync_timer() {
  sync_timer = std::make_unique<asio::steady_timer>(io);
  arm_sync_timer();
}

void Node::Impl::arm_sync_timer() {
  if (!sync_timer || stopping.load()) return;
  sync_timer->expires_after(current_sync_interval());
  sync_timer->async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping.load()) return;
    schedule_sync();
    arm_sync_timer();
  });
}

}  // namespace hn::node
