// log_upkeep.cpp — the event log's upkeep in a running node (X02 §5.4, CONTRACT §7.5;
// events/upkeep.h holds the rules): at open, views start from the newest usable snapshot
// and replay only what follows; a snapshot is built when the head is snapshot_lag_lamport
// past the newest one and daily at snapshot_hour (local time); after each, retention prunes
// what every member acknowledged. The work runs on the node's sync queue, never on the
// network thread; the timer lives on the network thread and only posts.
#include <ctime>

#include "node/detail/node_impl.h"

namespace hn::node {
using detail::node_log;

namespace {

// Milliseconds from now_ms until the next local wall-clock hour `hour`:00 (at least 1 s).
std::int64_t ms_until_local_hour(std::int64_t now_ms, int hour) {
  const std::time_t now = static_cast<std::time_t>(now_ms / 1000);
  std::tm local{};
  localtime_r(&now, &local);
  std::tm next = local;
  next.tm_hour = hour;
  next.tm_min = 0;
  next.tm_sec = 0;
  next.tm_isdst = -1;
  std::time_t at = std::mktime(&next);
  if (at <= now) {
    next.tm_mday += 1;
    next.tm_isdst = -1;
    at = std::mktime(&next);
  }
  return std::max<std::int64_t>(1000, (static_cast<std::int64_t>(at) - now) * 1000);
}

}  // namespace

Status Node::Impl::open_views() {
  const auto& ec = home.config.events;
  events::UpkeepOptions uo;
  uo.snapshot_lag = ec.snapshot_lag_lamport;
  uo.retention_days = ec.retention_days;
  uo.keep_snapshots = static_cast<std::size_t>(ec.snapshots_kept);
  uo.keep_types = events::CommunityView::event_types();  // governance is never pruned
  replay = std::make_unique<events::ReplayEngine>(*log);
  upkeep = std::make_unique<events::LogUpkeep>(
      *log, *replay, events::SnapshotStore(home.paths.snapshots_dir, community), *keys, uo, clock);
  auto report = upkeep->choose_base();
  if (!report) {
    node_log().warning("cannot read snapshots; replaying the whole log", Json{{"error", report.error().to_string()}});
  } else {
    start_report = *report;
  }
  auto registered = replay->register_view(view, events::CommunityView::event_types());
  if (!registered && start_report.snapshot) {
    // The snapshot verified but a view refused its state: the log alone, then.
    node_log().warning("snapshot state refused; replaying the whole log", Json{{"error", registered.error().to_string()}});
    start_report.snapshot.reset();
    registered = replay->drop_base();
  }
  HN_TRY(registered);
  replayed_at_start = replay->replayed_events();
  node_log().info("views ready",
                  Json{{"snapshot", start_report.snapshot ? Json(*start_report.snapshot) : Json()},
                       {"snapshots_skipped", start_report.skipped},
                       {"replayed", replayed_at_start}});
  // Every committed event: is a snapshot due? (an atomic compare; the work is queued)
  upkeep_subscription = log->subscribe([this](const events::Event& e) {
    if (upkeep->snapshot_due(e.lamport)) schedule_upkeep(false);
  });
  return {};
}

void Node::Impl::schedule_upkeep(bool daily) {
  if (stopping.load() || !sync_queue) return;
  if (daily) upkeep_daily = true;
  if (upkeep_pending.exchange(true)) return;  // one queued at a time; it sees the flag
  const bool queued = sync_queue->try_post([this] {
    upkeep_pending = false;
    run_upkeep(upkeep_daily.exchange(false));
  });
  if (!queued) upkeep_pending = false;  // full: the next event or the timer asks again
}

void Node::Impl::run_upkeep(bool daily) {
  if (stopping.load()) return;
  auto head = log->head();
  if (!head) return;
  if (daily || upkeep->snapshot_due(head->lamport)) {
    auto snap = upkeep->build_snapshot_now();
    if (!snap) {
      node_log().warning("snapshot failed", Json{{"error", snap.error().to_string()}});
      return;
    } else if (*snap) {
      node_log().info("snapshot built", Json{{"covers", (*snap)->covers_events_up_to},
                                             {"daily", daily}});
    }
  }
  // Every member but us must have acknowledged what goes (revoked ones are no members).
  std::vector<std::string> peers;
  for (const auto& [id, member] : view.state().members) {
    if (id != keys->node_id().str()) peers.push_back(id);
  }
  auto pruned = upkeep->prune(peers);
  if (!pruned) {
    node_log().warning("retention pruning failed", Json{{"error", pruned.error().to_string()}});
  } else if (*pruned > 0) {
    node_log().info("events pruned", Json{{"count", *pruned}});
  }
}

bool Node::Impl::bootstrap_from_snapshot(events::SyncPeer& peer, const NodeId& peer_id) {
  // The signers our own community view trusts: its community.* events are never pruned,
  // so it is complete even when other events are gone.
  const auto trusted = events::peer_signers(view.state());
  auto adopted = upkeep->bootstrap_from(peer, trusted);
  if (!adopted) {
    node_log().warning("peer snapshot refused",
                       Json{{"peer", peer_id.str()}, {"error", adopted.error().to_string()}});
    return false;
  }
  if (!*adopted) return false;  // nothing newer than what the views start from
  node_log().info("peer snapshot adopted", Json{{"peer", peer_id.str()}, {"covers", **adopted}});
  return true;
}

void Node::Impl::arm_daily_snapshot() {
  if (stopping.load()) return;
  if (!snapshot_timer) snapshot_timer = std::make_unique<boost::asio::steady_timer>(io);
  const auto hour = static_cast<int>(home.config.events.snapshot_hour);
  snapshot_timer->expires_after(std::chrono::milliseconds(ms_until_local_hour(clock.now_ms(), hour)));
  snapshot_timer->async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping.load()) return;
    schedule_upkeep(true);
    arm_daily_snapshot();
  });
}

Json Node::Impl::upkeep_status() const {
  const auto stats = upkeep->stats();
  Json j{{"replayed_at_start", replayed_at_start},
         {"snapshot_restored",
          start_report.snapshot ? Json(*start_report.snapshot) : Json()},
         {"snapshots_skipped", start_report.skipped},
         {"snapshot_covers", stats.newest_covers ? Json(*stats.newest_covers) : Json()},
         {"snapshots_built", stats.built},
         {"snapshot_adopted", stats.adopted_covers ? Json(*stats.adopted_covers) : Json()},
         {"snapshots_adopted", stats.adopted},
         {"snapshot_lag_lamport", upkeep->options().snapshot_lag},
         {"retention_days", upkeep->options().retention_days}};
  if (auto n = log->pruned_count()) j["pruned"] = *n;
  return j;
}

}  // namespace hn::node
