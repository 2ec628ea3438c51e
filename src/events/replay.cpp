// replay.cpp — ReplayEngine (X02 §3.4, §5.3).
#include "events/replay.h"

#include <algorithm>

namespace hn::events {

ReplayEngine::ReplayEngine(EventLog& log) : m_log(log) {
  m_subscription = m_log.subscribe_sequenced(
      [this](const Event& e, std::int64_t seq) { on_event(e, seq); });
}

ReplayEngine::~ReplayEngine() { m_subscription.reset(); }

ReplayEngine::Entry* ReplayEngine::find_locked(std::string_view name) {
  for (auto& e : m_entries) {
    if (e.view->name() == name) return &e;
  }
  return nullptr;
}

Status ReplayEngine::register_view(MaterialisedView& view, std::vector<EventType> types) {
  std::lock_guard lk(m_mutex);
  if (find_locked(view.name()) != nullptr) {
    return make_error(ErrorCode::bad_request, "a view named '" + view.name() + "' is registered");
  }
  Entry entry{&view, {}, std::nullopt, 0, false};
  if (types.empty()) {
    entry.types.set();
  } else {
    for (auto t : types) entry.types.set(static_cast<std::size_t>(t));
  }
  m_entries.push_back(std::move(entry));
  return rebuild_locked(m_entries.back());
}

void ReplayEngine::unregister_view(std::string_view name) {
  std::lock_guard lk(m_mutex);
  std::erase_if(m_entries, [&](const Entry& e) { return e.view->name() == name; });
}

Status ReplayEngine::rebuild(std::string_view name) {
  std::lock_guard lk(m_mutex);
  Entry* entry = find_locked(name);
  if (entry == nullptr) return make_error(ErrorCode::not_found, "no view named '" + std::string(name) + "'");
  return rebuild_locked(*entry);
}

Status ReplayEngine::rebuild_all() {
  std::lock_guard lk(m_mutex);
  Status first;
  for (auto& e : m_entries) {
    auto st = rebuild_locked(e);
    if (!st && first.has_value()) first = std::move(st);
  }
  return first;
}

Status ReplayEngine::rebuild_locked(Entry& entry) {
  entry.stale = true;
  entry.view->reset();
  entry.last_key.reset();
  ReplayOptions options;
  if (m_base) {
    auto it = m_base->state.find(entry.view->name());
    if (it != m_base->state.end()) {
      HN_TRY(entry.view->restore_state(*it));
      options.from_lamport = m_base->covers + 1;
      entry.last_key = std::make_pair(m_base->covers, std::string("\x7f"));  // after every id at L
    }
  }
  for (std::size_t i = 0; i < EVENT_TYPE_COUNT; ++i) {
    if (entry.types.test(i) && !entry.types.all()) options.types.push_back(static_cast<EventType>(i));
  }
  HN_TRY_ASSIGN(auto max_seq, m_log.replay_sequenced(options, [&](const Event& e, std::int64_t) {
    entry.view->apply(e);
    entry.last_key = std::make_pair(e.lamport, e.event_id.str());
    ++m_replayed;
    return true;
  }));
  entry.covered_seq = max_seq;
  entry.stale = false;
  return {};
}

void ReplayEngine::on_event(const Event& event, std::int64_t seq) {
  std::lock_guard lk(m_mutex);
  m_delivered_seq = std::max(m_delivered_seq, seq);
  const auto type = static_cast<std::size_t>(event.event_type);
  for (auto& entry : m_entries) {
    if (entry.stale) {
      (void)rebuild_locked(entry);  // retry; stays stale on failure
      continue;
    }
    if (!entry.types.test(type)) continue;
    if (seq <= entry.covered_seq) continue;  // a rebuild already included it
    auto key = std::make_pair(event.lamport, event.event_id.str());
    if (!entry.last_key || key > *entry.last_key) {
      entry.view->apply(event);
      entry.last_key = std::move(key);
      entry.covered_seq = seq;
    } else {
      // A late arrival sorts earlier: replay in order. One at or below the snapshot base
      // is missing from the base's state, so the base goes and the log alone is replayed.
      if (m_base && event.lamport <= m_base->covers) m_base.reset();
      (void)rebuild_locked(entry);
    }
  }
}

Status ReplayEngine::set_base(Json state, Lamport covers_events_up_to) {
  std::lock_guard lk(m_mutex);
  if (!state.is_object()) return make_error(ErrorCode::bad_request, "snapshot state is not an object");
  if (!m_entries.empty()) {
    return make_error(ErrorCode::bad_request, "set_base before any view is registered");
  }
  m_base = Base{std::move(state), covers_events_up_to};
  return {};
}

Status ReplayEngine::drop_base() {
  std::lock_guard lk(m_mutex);
  m_base.reset();
  Status first;
  for (auto& e : m_entries) {
    auto st = rebuild_locked(e);
    if (!st && first.has_value()) first = std::move(st);
  }
  return first;
}

std::optional<Lamport> ReplayEngine::base_covers() {
  std::lock_guard lk(m_mutex);
  if (!m_base) return std::nullopt;
  return m_base->covers;
}

std::int64_t ReplayEngine::replayed_events() {
  std::lock_guard lk(m_mutex);
  return m_replayed;
}

Result<EngineCapture> ReplayEngine::capture() {
  std::lock_guard lk(m_mutex);
  EngineCapture out;
  std::int64_t covered = INT64_MAX;
  for (auto& entry : m_entries) {
    if (entry.stale) HN_TRY(rebuild_locked(entry));
    covered = std::min(covered, std::max(entry.covered_seq, m_delivered_seq));
    out.state[entry.view->name()] = entry.view->snapshot_state();
  }
  if (m_entries.empty()) covered = m_delivered_seq;
  // The highest Lamport among the events every view reflects.
  Lamport covers = m_base ? m_base->covers : 0;
  HN_TRY_ASSIGN(Lamport reflected, m_log.max_lamport_through_seq(covered));
  out.covers_events_up_to = std::max(covers, reflected);
  return out;
}

Status ReplayEngine::restore(const Json& state, Lamport covers_events_up_to) {
  std::lock_guard lk(m_mutex);
  if (!state.is_object()) return make_error(ErrorCode::bad_request, "snapshot state is not an object");
  for (auto& entry : m_entries) {
    if (!state.contains(entry.view->name())) {
      return make_error(ErrorCode::bad_request, "snapshot has no state for view '" + entry.view->name() + "'");
    }
  }
  std::optional<Base> previous = m_base;
  m_base = Base{state, covers_events_up_to};
  for (auto& entry : m_entries) {
    auto st = rebuild_locked(entry);
    if (!st) {
      m_base = std::move(previous);
      for (auto& e : m_entries) (void)rebuild_locked(e);
      return st;
    }
  }
  return {};
}

bool ReplayEngine::is_stale(std::string_view name) {
  std::lock_guard lk(m_mutex);
  Entry* entry = find_locked(name);
  return entry != nullptr && entry->stale;
}

}  // namespace hn::events
