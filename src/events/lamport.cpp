// lamport.cpp — persisted Lamport clock (CONTRACT §7.3, X02 §3.2).
#include "events/lamport.h"

#include <algorithm>

#include "events/types.h"

namespace hn::events {

Result<LamportClock> LamportClock::load(detail::Db& db, const CommunityId& community) {
  LamportClock clock(db, community);
  HN_TRY_ASSIGN(clock.m_update, db.prepare("UPDATE clock SET lamport = ?1 WHERE community_id = ?2"));
  HN_TRY(clock.reload());
  return clock;
}

Status LamportClock::reload() {
  HN_TRY_ASSIGN(auto seed, m_db->prepare(
      "INSERT OR IGNORE INTO clock(community_id, lamport) VALUES (?1, 0)"));
  seed.bind(1, m_community.str());
  HN_TRY(seed.run());
  HN_TRY_ASSIGN(auto q, m_db->prepare(
      "SELECT (SELECT lamport FROM clock WHERE community_id = ?1),"
      "       (SELECT COALESCE(MAX(lamport), 0) FROM events WHERE community_id = ?1)"));
  q.bind(1, m_community.str());
  HN_TRY_ASSIGN(bool row, q.step());
  if (!row) return make_error(ErrorCode::db_corrupt, "clock row missing");
  m_current = std::max(q.column_int(0), q.column_int(1));
  m_unsaved = false;
  return {};
}

Lamport LamportClock::observe_unsaved(Lamport received) {
  m_current = std::max(m_current, received) + 1;
  m_unsaved = true;
  return m_current;
}

Status LamportClock::save() {
  if (!m_unsaved) return {};
  return store(m_current);
}

Status LamportClock::store(Lamport value) {
  m_update.reset();
  m_update.bind(1, value);
  m_update.bind(2, m_community.str());
  HN_TRY(m_update.run());
  m_current = value;
  m_unsaved = false;
  return {};
}

Result<Lamport> LamportClock::tick() {
  if (m_current >= MAX_LAMPORT) return make_error(ErrorCode::out_of_order, "Lamport clock exhausted");
  HN_TRY(store(m_current + 1));
  return m_current;
}

Result<Lamport> LamportClock::observe(Lamport received) {
  const Lamport base = std::max(m_current, received);
  if (base >= MAX_LAMPORT) {
    return make_error(ErrorCode::out_of_order, "received Lamport would exhaust the clock");
  }
  HN_TRY(store(base + 1));
  return m_current;
}

}  // namespace hn::events
