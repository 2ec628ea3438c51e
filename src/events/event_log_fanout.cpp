// event_log_fanout.cpp — in-process subscribers of the event log (X02 §3.3): called after
// commit, in commit order, never under the write lock (event_log.h).
#include "events/event_log.h"

#include <atomic>
#include <bitset>

namespace hn::events {

// A registered subscriber. `mutex` is held while the callback runs, so reset() waits for a
// running call on another thread; it is recursive so a callback may unsubscribe itself.
struct Subscription::Slot {
  std::recursive_mutex mutex;
  std::atomic<bool> active{true};
  EventLog::SequencedCallback callback;
  std::bitset<EVENT_TYPE_COUNT> types;  // all set = every type
};

void Subscription::reset() {
  if (!m_slot) return;
  {
    std::lock_guard lk(m_slot->mutex);
    m_slot->active = false;
  }
  m_slot.reset();
}

Subscription EventLog::subscribe(Callback callback, std::vector<EventType> types) {
  return subscribe_sequenced(
      [cb = std::move(callback)](const Event& e, std::int64_t) { cb(e); }, std::move(types));
}

Subscription EventLog::subscribe_sequenced(SequencedCallback callback, std::vector<EventType> types) {
  auto slot = std::make_shared<Subscription::Slot>();
  slot->callback = std::move(callback);
  if (types.empty()) {
    slot->types.set();
  } else {
    for (auto t : types) {
      if (static_cast<std::size_t>(t) < EVENT_TYPE_COUNT) slot->types.set(static_cast<std::size_t>(t));
    }
  }
  std::lock_guard lk(m_fanout_mutex);
  m_subscribers.push_back(slot);
  return Subscription(std::move(slot));
}

void EventLog::enqueue_locked(std::vector<Committed> committed) {
  std::lock_guard lk(m_fanout_mutex);
  for (auto& c : committed) m_pending.push_back(std::move(c));
}

void EventLog::drain() {
  {
    std::lock_guard lk(m_fanout_mutex);
    if (m_draining) return;  // the delivering thread will pick our events up, in order
    m_draining = true;
  }
  while (true) {
    std::deque<Committed> batch;
    std::vector<std::shared_ptr<Subscription::Slot>> subs;
    {
      std::lock_guard lk(m_fanout_mutex);
      std::erase_if(m_subscribers, [](const auto& s) { return !s->active.load(); });
      if (m_pending.empty()) {
        m_draining = false;
        return;
      }
      batch.swap(m_pending);
      subs = m_subscribers;
    }
    for (const auto& c : batch) {
      for (const auto& s : subs) {
        if (!s->types.test(static_cast<std::size_t>(c.event.event_type))) continue;
        std::lock_guard slk(s->mutex);
        if (!s->active.load()) continue;
        try {
          s->callback(c.event, c.seq);
        } catch (...) {
          // A subscriber's failure must not stop delivery to the others.
        }
      }
    }
  }
}

}  // namespace hn::events
