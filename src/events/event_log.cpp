// event_log.cpp — opening the SQLite event log (X02 §4 schema, WAL, statements), its
// transactions and integrity check. See event_log.h for the durability argument and the
// locking rules; appends, reads and fan-out live in event_log_{append,read,fanout}.cpp.
#include "events/event_log.h"

#include "core/file_util.h"
#include "events/detail/event_columns.h"

namespace hn::events {
namespace {

using detail::Db;
using detail::EVENT_COLUMNS;

// X02 §4, with `seq` added: the local insertion order (AUTOINCREMENT, never reused), which
// ReplayEngine uses to tell events a rebuild already covered from live ones.
constexpr const char* SCHEMA = R"sql(
CREATE TABLE IF NOT EXISTS events (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id        TEXT NOT NULL UNIQUE,
  community_id    TEXT NOT NULL,
  schema_version  INTEGER NOT NULL DEFAULT 1,
  lamport         INTEGER NOT NULL,
  wall_clock      TEXT NOT NULL,
  author          TEXT NOT NULL,
  event_type      TEXT NOT NULL,
  data            TEXT NOT NULL,
  signature       TEXT NOT NULL,
  received_at     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_events_lamport ON events(community_id, lamport, event_id);
CREATE INDEX IF NOT EXISTS idx_events_type ON events(community_id, event_type, lamport);
CREATE TABLE IF NOT EXISTS clock (
  community_id TEXT PRIMARY KEY,
  lamport      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pruned (
  event_id     TEXT PRIMARY KEY,
  community_id TEXT NOT NULL,
  lamport      INTEGER NOT NULL,
  event_type   TEXT NOT NULL,
  pruned_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_pruned_lamport ON pruned(community_id, lamport, event_id);
CREATE TABLE IF NOT EXISTS peer_acks (
  community_id TEXT NOT NULL,
  peer         TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  acked_at     TEXT NOT NULL,
  PRIMARY KEY (community_id, peer)
);
)sql";

// Runs a statement that returns one row with one text column (PRAGMA journal_mode …).
Result<std::string> query_text(Db& db, std::string_view sql) {
  HN_TRY_ASSIGN(auto stmt, db.prepare(sql));
  HN_TRY_ASSIGN(bool row, stmt.step());
  if (!row) return std::string();
  return stmt.column_text(0);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Opening

EventLog::EventLog(CommunityId community, identity::KeyPair keys, const Clock& clock)
    : m_community(std::move(community)),
      m_keys(std::move(keys)),
      m_node_id(m_keys.node_id()),
      m_clock(clock),
      m_ulids(clock) {}

EventLog::~EventLog() = default;

Result<std::unique_ptr<EventLog>> EventLog::open(const std::filesystem::path& db_path,
                                                 CommunityId community, identity::KeyPair keys,
                                                 EventLogOptions options) {
  if (community.empty()) return make_error(ErrorCode::bad_request, "event log: empty community id");
  const Clock& clock = options.clock != nullptr ? *options.clock : SystemClock::instance();
  std::unique_ptr<EventLog> log(new EventLog(std::move(community), std::move(keys), clock));
  HN_TRY(log->init(db_path, options));
  return log;
}

Status EventLog::init(const std::filesystem::path& db_path, const EventLogOptions& options) {
  if (db_path.has_parent_path()) HN_TRY(ensure_directory(db_path.parent_path()));
  HN_TRY_ASSIGN(m_write_db, Db::open(db_path.string(), true));
  // The first statement reads the header: a file that is not SQLite fails here (NOTADB).
  HN_TRY_ASSIGN(auto mode, query_text(m_write_db, "PRAGMA journal_mode=WAL"));
  if (mode != "wal") {
    return make_error(ErrorCode::storage_error, "event log: cannot enable WAL (got '" + mode + "')");
  }
  HN_TRY(m_write_db.exec(options.synchronous == Synchronous::full ? "PRAGMA synchronous=FULL"
                                                                  : "PRAGMA synchronous=NORMAL"));
  HN_TRY(m_write_db.exec(SCHEMA));
  HN_TRY_ASSIGN(m_checkpointer, detail::WalCheckpointer::start(m_write_db.handle(), db_path.string()));
  HN_TRY_ASSIGN(auto clock, LamportClock::load(m_write_db, m_community));
  m_lamport.emplace(std::move(clock));

  HN_TRY_ASSIGN(m_read_db, Db::open(db_path.string(), false));
  HN_TRY(m_read_db.exec("PRAGMA query_only=1"));
  HN_TRY(prepare_statements());
  HN_TRY_ASSIGN(auto pruned, pruned_count());
  m_has_pruned = pruned > 0;
  return {};
}

Status EventLog::prepare_statements() {
  HN_TRY_ASSIGN(m_insert, m_write_db.prepare(
      "INSERT INTO events(event_id, community_id, schema_version, lamport, wall_clock, author,"
      " event_type, data, signature, received_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
      " ON CONFLICT(event_id) DO NOTHING"));
  HN_TRY_ASSIGN(m_select_signature,
                m_write_db.prepare("SELECT signature FROM events WHERE event_id = ?1"));
  HN_TRY_ASSIGN(m_begin, m_write_db.prepare("BEGIN IMMEDIATE"));
  HN_TRY_ASSIGN(m_commit, m_write_db.prepare("COMMIT"));
  HN_TRY_ASSIGN(m_rollback, m_write_db.prepare("ROLLBACK"));
  HN_TRY_ASSIGN(m_get, m_read_db.prepare(std::string("SELECT ") + EVENT_COLUMNS +
                                         " FROM events WHERE event_id = ?1 AND community_id = ?2"));
  HN_TRY_ASSIGN(m_get_pruned, m_read_db.prepare(
      "SELECT 1 FROM pruned WHERE event_id = ?1 AND community_id = ?2"));
  return {};
}

void EventLog::set_author_policy(AuthorPolicy policy) {
  std::lock_guard lk(m_policy_mutex);
  m_policy = std::move(policy);
}

// ---------------------------------------------------------------------------------------
// Transactions on the write connection (under m_write_mutex)

Status EventLog::begin_locked() {
  m_begin.reset();
  return m_begin.run();
}

Status EventLog::commit_locked() {
  m_commit.reset();
  return m_commit.run();
}

void EventLog::rollback_locked() {
  m_rollback.reset();
  (void)m_rollback.run();  // no transaction open is fine
  (void)m_lamport->reload();
}

// ---------------------------------------------------------------------------------------
// Integrity

Status EventLog::check_integrity() {
  std::lock_guard lk(m_read_mutex);
  auto text = query_text(m_read_db, "PRAGMA quick_check");
  if (!text) {
    return make_error(ErrorCode::db_corrupt, "integrity check failed: " + text.error().message);
  }
  if (*text != "ok") return make_error(ErrorCode::db_corrupt, "integrity check: " + *text);
  return {};
}

}  // namespace hn::events
