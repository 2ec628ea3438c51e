// event_log_read.cpp — reading the event log on its read connection: events by id, heads and
// counts, replay in CONTRACT §7.4 order, and the range fingerprints sync compares (event_log.h).
#include "events/event_log.h"

#include <array>

#include "core/encoding.h"
#include "events/detail/event_columns.h"

namespace hn::events {
namespace {

using detail::Stmt;
using detail::EVENT_COLUMNS;

}  // namespace

std::string RangeFingerprint::hex() const { return hex_encode(digest); }

Digest event_fingerprint(Lamport lamport, std::string_view event_id) {
  std::array<std::uint8_t, 8> be{};
  auto v = static_cast<std::uint64_t>(lamport);
  for (int i = 7; i >= 0; --i) {
    be[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v & 0xff);
    v >>= 8;
  }
  Blake3Hasher h;
  h.update(be);
  h.update(event_id);
  return h.digest();
}

// ---------------------------------------------------------------------------------------
// Reading

Result<Event> EventLog::row_to_event(Stmt& s, int c) {
  Event e;
  e.event_id = EventId(s.column_text(c + 0));
  e.schema_version = static_cast<int>(s.column_int(c + 1));
  e.lamport = s.column_int(c + 2);
  e.wall_clock = s.column_text(c + 3);
  e.community_id = CommunityId(s.column_text(c + 4));
  e.author = NodeId(s.column_text(c + 5));
  auto type = parse_event_type(s.column_text(c + 6));
  if (!type) return make_error(ErrorCode::db_corrupt, "stored event has an unknown event_type");
  e.event_type = *type;
  try {
    e.data = Json::parse(s.column_text(c + 7));
  } catch (const std::exception&) {
    return make_error(ErrorCode::db_corrupt, "stored event data is not JSON");
  }
  if (!e.data.is_object()) return make_error(ErrorCode::db_corrupt, "stored event data is not an object");
  e.signature = s.column_text(c + 8);
  return e;
}

Result<std::optional<Event>> EventLog::get(const EventId& id) {
  std::lock_guard lk(m_read_mutex);
  return get_locked(id);
}

Result<std::optional<Event>> EventLog::get_locked(const EventId& id) {
  m_get.reset();
  m_get.bind(1, id.str());
  m_get.bind(2, m_community.str());
  HN_TRY_ASSIGN(bool row, m_get.step());
  if (!row) return std::optional<Event>();
  auto e = row_to_event(m_get, 0);
  m_get.reset();
  if (!e) return e.take_error();
  return std::optional<Event>(std::move(*e));
}

Result<bool> EventLog::has(const EventId& id) {
  std::lock_guard lk(m_read_mutex);
  HN_TRY_ASSIGN(auto q, m_read_db.prepare(
      "SELECT 1 FROM events WHERE event_id = ?1 AND community_id = ?2"));
  q.bind(1, id.str());
  q.bind(2, m_community.str());
  return q.step();
}

Result<Head> EventLog::head() {
  std::lock_guard lk(m_read_mutex);
  HN_TRY_ASSIGN(auto q, m_read_db.prepare(
      "SELECT lamport, event_id FROM events WHERE community_id = ?1 "
      "ORDER BY lamport DESC, event_id DESC LIMIT 1"));
  q.bind(1, m_community.str());
  HN_TRY_ASSIGN(bool row, q.step());
  if (!row) return Head{};
  return Head{q.column_int(0), EventId(q.column_text(1))};
}

Lamport EventLog::clock() {
  std::lock_guard lk(m_write_mutex);
  return m_lamport->current();
}

Result<std::map<EventType, Lamport>> EventLog::heads_by_type() {
  std::lock_guard lk(m_read_mutex);
  // Pruned keys count as held (X02 §5.4): a peer sees the same heads before and after.
  HN_TRY_ASSIGN(auto q, m_read_db.prepare(
      m_has_pruned.load()
          ? "SELECT event_type, MAX(lamport) FROM (SELECT event_type, lamport FROM events WHERE "
            "community_id = ?1 UNION ALL SELECT event_type, lamport FROM pruned WHERE "
            "community_id = ?1) GROUP BY event_type"
          : "SELECT event_type, MAX(lamport) FROM events WHERE community_id = ?1 GROUP BY event_type"));
  q.bind(1, m_community.str());
  std::map<EventType, Lamport> out;
  while (true) {
    HN_TRY_ASSIGN(bool row, q.step());
    if (!row) break;
    auto type = parse_event_type(q.column_text(0));
    if (!type) return make_error(ErrorCode::db_corrupt, "stored event has an unknown event_type");
    out[*type] = q.column_int(1);
  }
  return out;
}

Result<std::int64_t> EventLog::count_rows(const char* table) {
  std::lock_guard lk(m_read_mutex);
  HN_TRY_ASSIGN(auto q, m_read_db.prepare(std::string("SELECT COUNT(*) FROM ") + table +
                                          " WHERE community_id = ?1"));
  q.bind(1, m_community.str());
  HN_TRY(q.step());
  return q.column_int(0);
}

Result<std::int64_t> EventLog::count() { return count_rows("events"); }

Result<std::int64_t> EventLog::replay_sequenced(
    const ReplayOptions& options, const std::function<bool(Event&, std::int64_t)>& visit) {
  std::lock_guard lk(m_read_mutex);
  const bool outer = sqlite3_get_autocommit(m_read_db.handle()) != 0;
  if (outer) HN_TRY(m_read_db.exec("BEGIN"));
  auto result = [&]() -> Result<std::int64_t> {
    HN_TRY_ASSIGN(auto mq, m_read_db.prepare("SELECT COALESCE(MAX(seq), 0) FROM events"));
    HN_TRY(mq.step());
    const std::int64_t max_seq = mq.column_int(0);

    std::string sql = std::string("SELECT ") + EVENT_COLUMNS +
                      " FROM events WHERE community_id = ?1 AND lamport >= ?2";
    if (options.to_lamport) sql += " AND lamport <= ?3";
    if (!options.types.empty()) {
      sql += " AND event_type IN (";
      for (std::size_t i = 0; i < options.types.size(); ++i) {
        sql += (i == 0 ? "?" : ",?") + std::to_string(10 + i);
      }
      sql += ")";
    }
    sql += " ORDER BY lamport ASC, event_id ASC";
    if (options.limit) sql += " LIMIT ?4";
    HN_TRY_ASSIGN(auto q, m_read_db.prepare(sql));
    q.bind(1, m_community.str());
    q.bind(2, options.from_lamport);
    if (options.to_lamport) q.bind(3, *options.to_lamport);
    if (options.limit) q.bind(4, static_cast<std::int64_t>(*options.limit));
    for (std::size_t i = 0; i < options.types.size(); ++i) {
      q.bind(static_cast<int>(10 + i), to_string(options.types[i]));
    }
    while (true) {
      HN_TRY_ASSIGN(bool row, q.step());
      if (!row) break;
      HN_TRY_ASSIGN(auto e, row_to_event(q, 0));
      if (!visit(e, q.column_int(9))) break;
    }
    return max_seq;
  }();
  if (outer) (void)m_read_db.exec("COMMIT");
  return result;
}

Status EventLog::replay(const ReplayOptions& options, const std::function<bool(Event&)>& visit) {
  HN_TRY(replay_sequenced(options, [&](Event& e, std::int64_t) { return visit(e); }));
  return {};
}

Result<std::vector<Event>> EventLog::read_events(const ReplayOptions& options) {
  std::vector<Event> out;
  HN_TRY(replay(options, [&](Event& e) {
    out.push_back(std::move(e));
    return true;
  }));
  return out;
}

Result<Lamport> EventLog::max_lamport_through_seq(std::int64_t seq) {
  std::lock_guard lk(m_read_mutex);
  HN_TRY_ASSIGN(auto q, m_read_db.prepare(
      "SELECT COALESCE(MAX(lamport), 0) FROM events WHERE seq <= ?1 AND community_id = ?2"));
  q.bind(1, seq);
  q.bind(2, m_community.str());
  HN_TRY(q.step());
  return q.column_int(0);
}

Result<std::vector<std::pair<Lamport, EventId>>> EventLog::ids_in_range(Lamport lo, Lamport hi) {
  std::lock_guard lk(m_read_mutex);
  HN_TRY_ASSIGN(auto q, m_read_db.prepare(
      "SELECT lamport, event_id FROM events WHERE community_id = ?1 AND lamport >= ?2 "
      "AND lamport <= ?3 ORDER BY lamport ASC, event_id ASC"));
  q.bind(1, m_community.str());
  q.bind(2, lo);
  q.bind(3, hi);
  std::vector<std::pair<Lamport, EventId>> out;
  while (true) {
    HN_TRY_ASSIGN(bool row, q.step());
    if (!row) break;
    out.emplace_back(q.column_int(0), EventId(q.column_text(1)));
  }
  return out;
}

Result<RangeFingerprint> EventLog::range_fingerprint(Lamport lo, Lamport hi) {
  HN_TRY_ASSIGN(auto ids, ids_in_range(lo, hi));
  RangeFingerprint fp;
  fp.count = static_cast<std::int64_t>(ids.size());
  for (const auto& [lamport, id] : ids) {
    const Digest d = event_fingerprint(lamport, id.str());
    for (std::size_t i = 0; i < d.size(); ++i) fp.digest[i] ^= d[i];
  }
  return fp;
}

}  // namespace hn::events
