// event_log.cpp — SQLite event log (X02 §3.3, §4, §5.1, §5.2). See event_log.h for the
// durability argument and the locking rules.
#include "events/event_log.h"

#include <algorithm>
#include <atomic>
#include <bitset>

#include "core/encoding.h"
#include "core/file_util.h"
#include "core/parallel.h"
#include "core/time.h"
#include "observability/standard_metrics.h"

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

namespace {

using detail::Db;
using detail::Stmt;

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

constexpr const char* EVENT_COLUMNS =
    "event_id, schema_version, lamport, wall_clock, community_id, author, event_type, data, "
    "signature, seq";

Error bad_request(std::string msg) { return make_error(ErrorCode::bad_request, std::move(msg)); }

// Runs a statement that returns one row with one text column (PRAGMA journal_mode …).
Result<std::string> query_text(Db& db, std::string_view sql) {
  HN_TRY_ASSIGN(auto stmt, db.prepare(sql));
  HN_TRY_ASSIGN(bool row, stmt.step());
  if (!row) return std::string();
  return stmt.column_text(0);
}

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
  if (community.empty()) return bad_request("event log: empty community id");
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
// Write-side helpers (all under m_write_mutex)

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

Result<std::optional<std::int64_t>> EventLog::insert_locked(const Event& e,
                                                            std::string_view canonical_data) {
  m_insert.reset();
  m_insert.bind(1, e.event_id.str());
  m_insert.bind(2, e.community_id.str());
  m_insert.bind(3, std::int64_t{e.schema_version});
  m_insert.bind(4, e.lamport);
  m_insert.bind(5, e.wall_clock);
  m_insert.bind(6, e.author.str());
  m_insert.bind(7, to_string(e.event_type));
  m_insert.bind(8, canonical_data);
  m_insert.bind(9, e.signature);
  m_insert.bind(10, format_rfc3339_ms(m_clock.now_ms()));
  HN_TRY(m_insert.run());
  if (sqlite3_changes(m_write_db.handle()) == 0) return std::optional<std::int64_t>();  // id taken
  return std::optional<std::int64_t>(sqlite3_last_insert_rowid(m_write_db.handle()));
}

Result<std::optional<std::string>> EventLog::stored_signature_locked(const EventId& id) {
  m_select_signature.reset();
  m_select_signature.bind(1, id.str());
  HN_TRY_ASSIGN(bool row, m_select_signature.step());
  if (!row) return std::optional<std::string>();
  auto sig = m_select_signature.column_text(0);
  m_select_signature.reset();
  return std::optional<std::string>(std::move(sig));
}

// ---------------------------------------------------------------------------------------
// Local events — X02 §5.1

Result<Event> EventLog::append_local(EventType type, Json data) {
  return append_local(type, std::move(data), m_keys);
}

Result<Event> EventLog::append_local(EventType type, Json data, const identity::KeyPair& author) {
  if (!data.is_object()) return bad_request("event data must be a JSON object");
  if (static_cast<std::size_t>(type) >= EVENT_TYPE_COUNT) {
    return make_error(ErrorCode::schema_unknown, "unknown event type");
  }

  std::unique_lock lk(m_write_mutex);
  HN_TRY(begin_locked());
  Event e;
  auto seq = [&]() -> Result<std::int64_t> {
    HN_TRY_ASSIGN(e.lamport, m_lamport->tick());  // CONTRACT §7.3 on send
    e.event_id = EventId(m_ulids.next());
    e.wall_clock = format_rfc3339(m_clock.now_seconds());
    e.community_id = m_community;
    e.author = author.node_id();
    e.event_type = type;
    e.data = std::move(data);
    if (!sign_event(e, author)) return bad_request("event data holds a non-finite number");
    HN_TRY_ASSIGN(auto data, try_canonical_json(e.data));
    HN_TRY_ASSIGN(auto s, insert_locked(e, data));
    if (!s) return make_error(ErrorCode::internal_error, "fresh event id " + e.event_id.str() + " already stored");
    HN_TRY(commit_locked());
    return *s;
  }();
  if (!seq) {
    rollback_locked();
    return seq.take_error();
  }
  std::vector<Committed> committed;
  committed.push_back({e, *seq});
  enqueue_locked(std::move(committed));
  lk.unlock();
  drain();
  return e;
}

// ---------------------------------------------------------------------------------------
// Received events — X02 §5.2

// Batches at least this large verify signatures on all cores (sync delivers ~2000 a batch).
constexpr std::size_t PARALLEL_VERIFY_MIN_BATCH = 64;

Status EventLog::check_received(const Event& event, const AuthorPolicy& policy,
                                std::string& canonical_data) const {
  auto data = try_canonical_json(event.data);
  if (!data) return make_error(ErrorCode::invalid_signature, "event has no canonical form");
  canonical_data = std::move(*data);
  HN_TRY(verify_event_signature(event, canonical_data));
  HN_TRY(validate_event(event));  // schema_unknown / bad_request
  if (event.community_id != m_community) {
    return make_error(ErrorCode::wrong_community,
                      "event belongs to community " + event.community_id.str().substr(0, 64));
  }
  if (event.lamport < 1 || event.lamport > MAX_LAMPORT - 1) {
    return make_error(ErrorCode::out_of_order,
                      "Lamport " + std::to_string(event.lamport) + " outside [1, 2^53-2]");
  }
  if (policy) {
    switch (policy(event)) {
      case AuthorVerdict::ok:
        break;
      case AuthorVerdict::unknown_author:
        return make_error(ErrorCode::unknown_author, "author " + event.author.str() + " is not a member");
      case AuthorVerdict::revoked_author:
        return make_error(ErrorCode::revoked_author, "author " + event.author.str() + " is revoked");
    }
  }
  return {};
}

Result<AppendOutcome> EventLog::append_received(const Event& event) {
  HN_TRY_ASSIGN(auto batch, append_batch(std::span<const Event>(&event, 1), false));
  return std::move(batch.results.front());
}

Result<BatchResult> EventLog::append_received_batch(const std::vector<Event>& events) {
  HN_TRY_ASSIGN(auto out, append_batch(events, true));
  // An author admitted by an earlier event of this very batch (invite + join + first post
  // arriving together) was unknown to the policy when the batch was checked. Once the
  // batch committed and views saw it, retry those events until no more land.
  while (out.rejected > 0) {
    std::vector<std::size_t> retry;
    std::vector<Event> again;
    for (std::size_t i = 0; i < out.results.size(); ++i) {
      if (!out.results[i].has_value() && out.results[i].error().code == ErrorCode::unknown_author) {
        retry.push_back(i);
        again.push_back(events[i]);
      }
    }
    if (again.empty()) break;
    HN_TRY_ASSIGN(auto second, append_batch(again, true));
    if (second.accepted == 0) break;
    for (std::size_t k = 0; k < retry.size(); ++k) {
      auto& slot = out.results[retry[k]];
      if (second.results[k].has_value()) {
        --out.rejected;
        if (*second.results[k] == AppendOutcome::appended) ++out.accepted;
        else ++out.duplicates;
      }
      slot = std::move(second.results[k]);
    }
    out.new_head = second.new_head;
  }
  return out;
}

Result<BatchResult> EventLog::append_batch(std::span<const Event> events, bool want_head) {
  const std::size_t n = events.size();
  std::vector<std::optional<Result<AppendOutcome>>> decided(n);

  // 1. Cheap duplicates: an identical copy of a stored event needs no signature check.
  //    One read transaction for the whole batch (not one lock round per lookup).
  {
    std::lock_guard lk(m_read_mutex);
    const bool snapshot = n > 1 && m_read_db.exec("BEGIN").has_value();
    for (std::size_t i = 0; i < n; ++i) {
      auto stored = get_locked(events[i].event_id);
      if (!stored) {
        if (snapshot) (void)m_read_db.exec("COMMIT");
        return stored.take_error();
      }
      if (*stored && **stored == events[i]) decided[i] = AppendOutcome::duplicate;
      // A pruned event comes back from a peer that still holds it: we had it (X02 §5.4).
      if (!*stored && m_has_pruned.load()) {
        m_get_pruned.reset();
        m_get_pruned.bind(1, events[i].event_id.str());
        m_get_pruned.bind(2, m_community.str());
        auto pruned = m_get_pruned.step();
        m_get_pruned.reset();
        if (!pruned) {
          if (snapshot) (void)m_read_db.exec("COMMIT");
          return pruned.take_error();
        }
        if (*pruned) decided[i] = AppendOutcome::duplicate;
      }
    }
    if (snapshot) (void)m_read_db.exec("COMMIT");
  }
  // 2. Signature, schema, community, Lamport range, author — outside every lock. Ed25519
  //    verification dominates a sync batch, so large batches verify on every core; each
  //    worker writes only its own slots of `decided`.
  //    Workers take small chunks off a shared cursor rather than fixed halves, so a worker
  //    that shares its core with another thread (sync's fetch) does not leave the rest idle.
  //    The canonical text of each event's data, computed for its signature, is the text
  //    stored, so it is kept for the insert.
  AuthorPolicy policy;
  {
    std::lock_guard lk(m_policy_mutex);
    policy = m_policy;  // one policy for the whole batch
  }
  std::vector<std::string> data_text(n);
  constexpr std::size_t CHUNK = 16;
  std::atomic<std::size_t> cursor{0};
  auto check_chunks = [&] {
    for (std::size_t lo = cursor.fetch_add(CHUNK); lo < n; lo = cursor.fetch_add(CHUNK)) {
      for (std::size_t i = lo; i < std::min(n, lo + CHUNK); ++i) {
        if (decided[i]) continue;
        auto ok = check_received(events[i], policy, data_text[i]);
        if (!ok) decided[i] = ok.take_error();
      }
    }
  };
  // (The process's helper threads, not a thread started per batch: thread start and exit
  //  — stacks, allocator caches, TLB shoot-downs — cost a sync round ~7 % of its CPU.)
  if (n >= PARALLEL_VERIFY_MIN_BATCH) {
    run_on_all_cores(check_chunks);
  } else {
    check_chunks();
  }
  // X03 §4.2: every received event whose signature fails counts (reason "sync_event").
  const auto bad_signatures = std::count_if(decided.begin(), decided.end(), [](const auto& d) {
    return d && !d->has_value() && d->error().code == ErrorCode::invalid_signature;
  });
  if (bad_signatures > 0) {
    observability::standard_metrics().signature_failures_total->inc(
        {"sync_event"}, static_cast<double>(bad_signatures));
  }

  // 3. One transaction for everything that passed.
  std::vector<Committed> committed;
  {
    std::unique_lock lk(m_write_mutex);
    bool any = std::any_of(decided.begin(), decided.end(), [](const auto& d) { return !d; });
    if (any) {
      HN_TRY(begin_locked());
      auto applied = [&]() -> Status {
        for (std::size_t i = 0; i < n; ++i) {
          if (decided[i]) continue;
          const Event& e = events[i];
          if (!m_lamport->can_observe(e.lamport)) {
            decided[i] = make_error(ErrorCode::out_of_order, "received Lamport would exhaust the clock");
            continue;
          }
          HN_TRY_ASSIGN(auto seq, insert_locked(e, data_text[i]));
          if (!seq) {
            // The id is taken: identical (signatures are deterministic) → duplicate; else
            // a conflict. Looked up only here, so a new event costs one statement.
            HN_TRY_ASSIGN(auto sig, stored_signature_locked(e.event_id));
            if (sig && *sig == e.signature) {
              decided[i] = AppendOutcome::duplicate;
            } else {
              decided[i] = make_error(ErrorCode::out_of_order,
                                      "event_id " + e.event_id.str() + " already holds a different event");
            }
            continue;
          }
          m_lamport->observe_unsaved(e.lamport);  // CONTRACT §7.3 on receive
          committed.push_back({e, *seq});
          decided[i] = AppendOutcome::appended;
        }
        HN_TRY(m_lamport->save());  // once per batch, inside the same transaction
        return commit_locked();
      }();
      if (!applied) {
        rollback_locked();
        return applied.take_error();
      }
      if (!committed.empty()) enqueue_locked(committed);
    }
  }
  if (!committed.empty()) drain();

  BatchResult out;
  out.results.reserve(n);
  for (auto& d : decided) {
    if (d->has_value()) {
      if (d->value() == AppendOutcome::appended) ++out.accepted;
      else ++out.duplicates;
    } else {
      ++out.rejected;
    }
    out.results.push_back(std::move(*d));
  }
  if (want_head) {
    HN_TRY_ASSIGN(auto h, head());
    out.new_head = h.lamport;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Fan-out

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

Result<std::int64_t> EventLog::count() {
  std::lock_guard lk(m_read_mutex);
  HN_TRY_ASSIGN(auto q, m_read_db.prepare("SELECT COUNT(*) FROM events WHERE community_id = ?1"));
  q.bind(1, m_community.str());
  HN_TRY(q.step());
  return q.column_int(0);
}

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
