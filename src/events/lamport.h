// lamport.h — the per-community Lamport clock (CONTRACT §7.3, X02 §3.2), persisted in the
// `clock` table of the event log's database.
//
//   on send:    lamport_send = ++lamport              (tick)
//   on receive: lamport = max(lamport, received) + 1  (observe)
//
// Thread-safety: none of its own; the EventLog calls it only under its writer mutex and
// inside the write transaction that inserts the event, so clock and event commit together.
// Invariants: current() never decreases while the transaction commits; after a rollback
// the owner calls reload() so memory matches disk again. current() ≤ MAX_LAMPORT.
#pragma once

#include <algorithm>

#include "core/error.h"
#include "core/types.h"
#include "events/detail/sqlite.h"
#include "events/types.h"

namespace hn::events {

class LamportClock {
 public:
  // Loads the clock of community from db (schema must exist): the stored value, raised to
  // the highest Lamport in the events table if that is larger (X02 §3.2).
  static Result<LamportClock> load(detail::Db& db, const CommunityId& community);

  // The current value (0 for a fresh log).
  Lamport current() const { return m_current; }
  // ++current, persisted; returns the new value (X02 §3.2 tick_for_send).
  Result<Lamport> tick();
  // current = max(current, received) + 1, persisted; returns the new value.
  // out_of_order when the result would leave the 53-bit range.
  Result<Lamport> observe(Lamport received);
  // Whether observe(received) would succeed.
  bool can_observe(Lamport received) const { return std::max(m_current, received) < MAX_LAMPORT; }
  // observe() in memory only, for a batch in one transaction; save() persists it before
  // the commit. Precondition: can_observe(received).
  Lamport observe_unsaved(Lamport received);
  // Persists the value observe_unsaved left in memory (no-op when nothing is pending).
  Status save();
  // Re-reads the stored value (after a rolled-back transaction).
  Status reload();

 private:
  LamportClock(detail::Db& db, CommunityId community) : m_db(&db), m_community(std::move(community)) {}
  Status store(Lamport value);

  detail::Db* m_db;
  CommunityId m_community;
  detail::Stmt m_update;
  Lamport m_current = 0;
  bool m_unsaved = false;
};

}  // namespace hn::events
