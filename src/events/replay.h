// replay.h — materialised views over the event log (X02 §3.4, §5.3): a view derives its
// state from the ordered event stream; the ReplayEngine rebuilds views from the log in the
// total order of CONTRACT §7.4 and feeds them live events after commit.
//
// Thread-safety: ReplayEngine is safe for concurrent use (one internal mutex; views are
// only touched under it, so a view needs no lock for apply/reset/restore — but a view
// that others READ from other threads must guard its own state, as CommunityView does).
// Invariants: a view has seen exactly the events of its types in replay order — when a
// live event sorts before the last one it applied (a late arrival from a partition), the
// engine rebuilds that view instead of applying out of order; an event a rebuild already
// covered is never applied twice (tracked with the log's local sequence numbers). A live
// event at or below a restored snapshot's coverage invalidates the snapshot: the engine
// drops it and rebuilds the views that take the event from the log alone.
// Lifetime: views and the log must outlive the engine.
#pragma once

#include <bitset>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "events/event_log.h"
#include "events/types.h"

namespace hn::events {

// A consumer's derived state (X02 §3.4 MaterialisedView).
class MaterialisedView {
 public:
  virtual ~MaterialisedView() = default;
  // A stable name; the key of this view's state inside a snapshot.
  virtual std::string name() const = 0;
  // Back to the empty state (before any event).
  virtual void reset() = 0;
  // Applies one event; events arrive in replay order. Must not throw.
  virtual void apply(const Event& event) = 0;
  // The whole state as JSON (for snapshots, CONTRACT §7.5).
  virtual Json snapshot_state() const = 0;
  // Replaces the state from snapshot_state() output; all-or-nothing: on error the view is
  // unchanged. bad_request for malformed state.
  virtual Status restore_state(const Json& state) = 0;
};

// The state of every view and the Lamport it covers (input of build_snapshot).
struct EngineCapture {
  Json state = Json::object();  // {view name: view state}
  Lamport covers_events_up_to = 0;
};

class ReplayEngine {
 public:
  // Subscribes to log for live events.
  explicit ReplayEngine(EventLog& log);
  ~ReplayEngine();
  ReplayEngine(const ReplayEngine&) = delete;
  ReplayEngine& operator=(const ReplayEngine&) = delete;

  // Start-up from a snapshot (X02 §5.4): views registered after this start from their
  // entry in `state` (when present) and replay only events with lamport >
  // covers_events_up_to. The state must be verified by the caller. bad_request when state
  // is not an object or views are already registered.
  Status set_base(Json state, Lamport covers_events_up_to);
  // Forgets the snapshot base and rebuilds every view from the whole log (a base a view
  // could not restore from).
  Status drop_base();
  // The Lamport the current snapshot base covers, if any.
  std::optional<Lamport> base_covers();
  // Events applied by rebuilds (register, rebuild, restore) since construction: what a
  // start-up replayed.
  std::int64_t replayed_events();

  // Registers view for events of `types` (all when empty) and rebuilds it from the log.
  // bad_request when a view of that name exists.
  Status register_view(MaterialisedView& view, std::vector<EventType> types = {});
  // Forgets the view named `name` (a service that stops before the engine goes); it gets
  // no further events and leaves the snapshots. No-op when none is registered.
  void unregister_view(std::string_view name);
  // Resets the view and replays every relevant event (from the restored snapshot, if any).
  Status rebuild(std::string_view name);
  Status rebuild_all();

  // Applies one committed event (wired to the log; public for tests and tools).
  void on_event(const Event& event, std::int64_t seq);

  // Every view's state plus the highest Lamport all of them reflect.
  Result<EngineCapture> capture();
  // Restores every view from a (verified) snapshot state, then replays the log's events
  // with lamport > covers_events_up_to. All-or-nothing: on any error every view is rebuilt
  // from what it had before (previous snapshot base + log), never left half-restored.
  Status restore(const Json& state, Lamport covers_events_up_to);

  // Whether a view missed an update because of a storage error (rebuild clears it).
  bool is_stale(std::string_view name);

 private:
  struct Entry {
    MaterialisedView* view;
    std::bitset<EVENT_TYPE_COUNT> types;
    std::optional<std::pair<Lamport, std::string>> last_key;
    std::int64_t covered_seq = 0;
    bool stale = false;
  };
  struct Base {
    Json state;
    Lamport covers = 0;
  };

  Entry* find_locked(std::string_view name);
  Status rebuild_locked(Entry& entry);

  EventLog& m_log;
  std::mutex m_mutex;
  std::vector<Entry> m_entries;
  std::optional<Base> m_base;       // the snapshot the views were restored from, if any
  std::int64_t m_delivered_seq = 0;  // highest seq delivered by the log
  std::int64_t m_replayed = 0;       // events applied by rebuild_locked
  Subscription m_subscription;      // last member: unsubscribed first on destruction
};

}  // namespace hn::events
