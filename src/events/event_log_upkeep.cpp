// event_log_upkeep.cpp — the event log's retention side (X02 §5.4): the pruned-key ledger,
// the keys sync reconciles over, and the per-peer acknowledgements that bound pruning.
// See event_log.h ("Retention") and doc/design/events.md for the rule.
#include "core/time.h"
#include "events/event_log.h"

namespace hn::events {
namespace {

using detail::Stmt;

Status read_keys(Stmt& q, std::vector<std::pair<Lamport, EventId>>& out) {
  while (true) {
    HN_TRY_ASSIGN(bool row, q.step());
    if (!row) return {};
    out.emplace_back(q.column_int(0), EventId(q.column_text(1)));
  }
}

// " AND event_type NOT IN (?10, ?11, …)" for keep, or "" when keep is empty.
std::string keep_clause(const std::vector<EventType>& keep) {
  if (keep.empty()) return {};
  std::string sql = " AND event_type NOT IN (";
  for (std::size_t i = 0; i < keep.size(); ++i) sql += (i == 0 ? "?" : ",?") + std::to_string(10 + i);
  return sql + ")";
}

void bind_rule(Stmt& q, const CommunityId& community, const PruneRule& rule) {
  q.bind(1, community.str());
  q.bind(2, rule.max_lamport);
  q.bind(3, rule.max_seq);
  q.bind(4, format_rfc3339_ms(rule.received_before_ms));
  for (std::size_t i = 0; i < rule.keep_types.size(); ++i) {
    q.bind(static_cast<int>(10 + i), to_string(rule.keep_types[i]));
  }
}

}  // namespace

Result<SyncKeys> EventLog::sync_keys() {
  std::lock_guard lk(m_read_mutex);
  const bool outer = sqlite3_get_autocommit(m_read_db.handle()) != 0;
  if (outer) HN_TRY(m_read_db.exec("BEGIN"));
  auto result = [&]() -> Result<SyncKeys> {
    SyncKeys out;
    HN_TRY_ASSIGN(auto mq, m_read_db.prepare("SELECT COALESCE(MAX(seq), 0) FROM events"));
    HN_TRY(mq.step());
    out.max_seq = mq.column_int(0);
    HN_TRY_ASSIGN(auto q, m_read_db.prepare(
        "SELECT lamport, event_id FROM events WHERE community_id = ?1 "
        "ORDER BY lamport ASC, event_id ASC"));
    q.bind(1, m_community.str());
    HN_TRY(read_keys(q, out.stored));
    if (m_has_pruned.load()) {
      HN_TRY_ASSIGN(auto p, m_read_db.prepare(
          "SELECT lamport, event_id FROM pruned WHERE community_id = ?1 "
          "ORDER BY lamport ASC, event_id ASC"));
      p.bind(1, m_community.str());
      HN_TRY(read_keys(p, out.pruned));
    }
    return out;
  }();
  if (outer) (void)m_read_db.exec("COMMIT");
  return result;
}

Result<std::int64_t> EventLog::max_seq() {
  std::lock_guard lk(m_read_mutex);
  HN_TRY_ASSIGN(auto q, m_read_db.prepare("SELECT COALESCE(MAX(seq), 0) FROM events"));
  HN_TRY(q.step());
  return q.column_int(0);
}

Result<std::int64_t> EventLog::prune(const PruneRule& rule) {
  if (rule.keep_types.size() > EVENT_TYPE_COUNT) {
    return make_error(ErrorCode::bad_request, "prune: too many kept types");
  }
  const std::string where =
      " FROM events WHERE community_id = ?1 AND lamport <= ?2 AND seq <= ?3 AND received_at < ?4" +
      keep_clause(rule.keep_types);
  std::unique_lock lk(m_write_mutex);
  HN_TRY(begin_locked());
  auto pruned = [&]() -> Result<std::int64_t> {
    HN_TRY_ASSIGN(auto ledger, m_write_db.prepare(
        "INSERT OR IGNORE INTO pruned(event_id, community_id, lamport, event_type, pruned_at) "
        "SELECT event_id, community_id, lamport, event_type, ?5" + where));
    bind_rule(ledger, m_community, rule);
    ledger.bind(5, format_rfc3339_ms(m_clock.now_ms()));
    HN_TRY(ledger.run());
    HN_TRY_ASSIGN(auto del, m_write_db.prepare("DELETE" + where));
    bind_rule(del, m_community, rule);
    HN_TRY(del.run());
    const std::int64_t n = sqlite3_changes(m_write_db.handle());
    HN_TRY(commit_locked());
    return n;
  }();
  if (!pruned) {
    rollback_locked();
    return pruned.take_error();
  }
  if (*pruned > 0) m_has_pruned = true;
  return pruned;
}

Result<bool> EventLog::is_pruned(const EventId& id) {
  if (!m_has_pruned.load()) return false;
  std::lock_guard lk(m_read_mutex);
  m_get_pruned.reset();
  m_get_pruned.bind(1, id.str());
  m_get_pruned.bind(2, m_community.str());
  auto row = m_get_pruned.step();
  m_get_pruned.reset();
  return row;
}

Result<std::int64_t> EventLog::pruned_count() { return count_rows("pruned"); }

Status EventLog::record_peer_ack(std::string_view peer, std::int64_t seq) {
  if (peer.empty()) return make_error(ErrorCode::bad_request, "peer ack: empty peer key");
  std::lock_guard lk(m_write_mutex);
  HN_TRY_ASSIGN(auto q, m_write_db.prepare(
      "INSERT INTO peer_acks(community_id, peer, seq, acked_at) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT(community_id, peer) DO UPDATE SET seq = MAX(seq, excluded.seq), "
      "acked_at = excluded.acked_at"));
  q.bind(1, m_community.str());
  q.bind(2, peer);
  q.bind(3, seq);
  q.bind(4, format_rfc3339_ms(m_clock.now_ms()));
  return q.run();
}

Result<std::map<std::string, std::int64_t>> EventLog::peer_acks() {
  std::lock_guard lk(m_read_mutex);
  HN_TRY_ASSIGN(auto q, m_read_db.prepare("SELECT peer, seq FROM peer_acks WHERE community_id = ?1"));
  q.bind(1, m_community.str());
  std::map<std::string, std::int64_t> out;
  while (true) {
    HN_TRY_ASSIGN(bool row, q.step());
    if (!row) break;
    out[q.column_text(0)] = q.column_int(1);
  }
  return out;
}

}  // namespace hn::events
