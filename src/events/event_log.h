// event_log.h — the community-wide append-only event log on SQLite (X02 §3.3, §4, §5):
// durable storage of signed events, Lamport bookkeeping, replay in the total order of
// CONTRACT §7.4, in-process fan-out, and the range queries sync needs.
//
// Durability (X02 §4): journal_mode=WAL. An append is acknowledged only after its
// transaction COMMITs. With synchronous=NORMAL (the spec's default) a commit has been
// written to the WAL file with write(2) before it returns, so a process crash (kill -9)
// after append returns loses nothing — the OS holds the pages and the next open replays
// the WAL; only an OS crash or power cut can drop the last commits since the previous
// WAL sync (the database is never corrupted, and lost events come back by sync from
// peers). Synchronous::full fsyncs the WAL on every commit and also survives power loss,
// at the cost of one fsync per transaction (batch appends amortise it). WAL checkpoints
// run on a thread of their own, never inside an append's COMMIT (detail/wal_checkpointer.h).
//
// Thread-safety: safe for concurrent use. ONE writer: every write runs on the write
// connection under m_write_mutex, so clock and event rows commit in one transaction.
// Reads use a separate read connection under its own (recursive) mutex, so they never
// wait for signature checks or commits. Signatures of received events are verified
// outside any lock. Subscribers are called after commit, in commit order, on the thread
// that committed (or on a thread already delivering), never under the write lock — so a
// subscriber may append. A Subscription's callback is never called after reset() returns.
// Invariants: events(lamport,event_id) order is the replay order; the clock row is ≥ the
// highest stored Lamport; every stored event verified against its author's key.
// Retention (X02 §5.4, event_log_upkeep.cpp): prune() moves an event's KEY to the `pruned`
// ledger when it deletes the event; a pruned id is never stored again (a peer's copy counts
// as a duplicate) and sync_keys() still lists it, so set reconciliation with peers that
// still hold it sees equal sets (doc/design/events.md "Retention").
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/ulid.h"
#include "events/detail/sqlite.h"
#include "events/detail/wal_checkpointer.h"
#include "events/lamport.h"
#include "events/types.h"
#include "identity/keys.h"

namespace hn::events {

// synchronous= for the WAL (see the durability note above).
enum class Synchronous { normal, full };

// What an injectable author check says about a received event's author (X02 §5.2).
enum class AuthorVerdict { ok, unknown_author, revoked_author };
// Decides whether event.author may write event (member list, revocation at event.lamport).
// Called outside the log's locks; must be thread-safe. The default allows every author.
using AuthorPolicy = std::function<AuthorVerdict(const Event&)>;

struct EventLogOptions {
  Synchronous synchronous = Synchronous::normal;
  // Wall clock for wall_clock, received_at and ULIDs; SystemClock when null.
  const Clock* clock = nullptr;
};

// What append_received did with an event that passed every check.
enum class AppendOutcome {
  appended,   // new: stored, clock observed, fanned out
  duplicate,  // already had it (same event_id, same content): nothing changed
};

// Per-event results of append_received_batch (one transaction for the whole batch).
struct BatchResult {
  std::vector<Result<AppendOutcome>> results;  // one per input event, same order
  std::size_t accepted = 0;                    // newly stored
  std::size_t duplicates = 0;
  std::size_t rejected = 0;                    // failed a check; see results
  Lamport new_head = 0;                        // head() after the batch
};

// The highest event in replay order.
struct Head {
  Lamport lamport = 0;  // 0 for an empty log
  EventId event_id;     // empty for an empty log
  bool operator==(const Head&) const = default;
};

// What prune() may delete (all must hold; doc/design/events.md "Retention").
struct PruneRule {
  Lamport max_lamport = 0;          // covered by a snapshot: lamport ≤ this
  std::int64_t max_seq = 0;         // acknowledged by every peer: local seq ≤ this
  std::int64_t received_before_ms = 0;  // older than the retention window (received_at)
  std::vector<EventType> keep_types;    // never pruned (the community's governance)
};

// Every key sync must account for, read in one transaction (SyncIndex::build).
struct SyncKeys {
  std::vector<std::pair<Lamport, EventId>> stored;  // events held, replay order
  std::vector<std::pair<Lamport, EventId>> pruned;  // keys of pruned events, replay order
  std::int64_t max_seq = 0;  // highest local seq committed when the read began
};

// Filters for replay / read_events.
struct ReplayOptions {
  Lamport from_lamport = 0;            // inclusive lower bound
  std::optional<Lamport> to_lamport;   // inclusive upper bound
  std::vector<EventType> types;        // empty = every type
  std::optional<std::size_t> limit;
};

// XOR of BLAKE3(lamport as 8 big-endian bytes ‖ event_id) over a range, plus its size:
// order-independent and composable (fp(A ∪ B) = fp(A) ⊕ fp(B) for disjoint A, B), for
// range-based set reconciliation (DESIGN.md "Event sync must converge").
struct RangeFingerprint {
  std::int64_t count = 0;
  Digest digest{};
  std::string hex() const;
  bool operator==(const RangeFingerprint&) const = default;
};
// The fingerprint contribution of one (lamport, event_id).
Digest event_fingerprint(Lamport lamport, std::string_view event_id);

// Keeps a subscriber registered; unsubscribes on destruction or reset().
class Subscription {
 public:
  struct Slot;
  Subscription() = default;
  explicit Subscription(std::shared_ptr<Slot> slot) : m_slot(std::move(slot)) {}
  ~Subscription() { reset(); }
  Subscription(Subscription&&) noexcept = default;
  Subscription& operator=(Subscription&& other) noexcept {
    if (this != &other) {
      reset();
      m_slot = std::move(other.m_slot);
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  // Unsubscribes; after it returns the callback is never called again.
  void reset();
  bool active() const { return m_slot != nullptr; }

 private:
  std::shared_ptr<Slot> m_slot;
};

class EventLog {
 public:
  // Called after commit with each new event and its local insertion sequence number
  // (monotonic in commit order; used by ReplayEngine to skip events a rebuild covered).
  using SequencedCallback = std::function<void(const Event&, std::int64_t seq)>;
  using Callback = std::function<void(const Event&)>;

  // Opens or creates the log of `community` at db_path (X02 §4 schema). `keys` sign local
  // events. db_corrupt when the file is not a SQLite database; storage_error otherwise.
  static Result<std::unique_ptr<EventLog>> open(const std::filesystem::path& db_path,
                                                CommunityId community, identity::KeyPair keys,
                                                EventLogOptions options = {});
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  const CommunityId& community_id() const { return m_community; }
  const NodeId& node_id() const { return m_node_id; }

  // -- writing --

  // Mints a local event (X02 §5.1): ULID, tick, sign with the node key, persist, fan out.
  // bad_request when data is not an object or holds a non-finite number.
  Result<Event> append_local(EventType type, Json data);
  // The same, signed by another key (tests, multi-identity tools).
  Result<Event> append_local(EventType type, Json data, const identity::KeyPair& author);

  // Persists an event from a peer (X02 §5.2). Checks, in order: signature
  // (invalid_signature), schema version / type (schema_unknown), field shapes as
  // parse_event checks them (bad_request), community
  // (wrong_community), Lamport range (out_of_order), author policy (unknown_author,
  // revoked_author). An event_id we already hold with the same content → duplicate (not
  // an error); with different content → out_of_order. New events observe the Lamport.
  Result<AppendOutcome> append_received(const Event& event);
  // Many received events in ONE transaction. Every event is checked as above; valid ones
  // land (and observe the clock in input order), invalid ones are reported per event and
  // never stored. The outer error (storage_error, db_corrupt) means nothing of the failing
  // transaction landed. Events rejected as unknown_author are retried (in a further
  // transaction) after the batch committed, as long as that admits more of them: the batch
  // itself may carry the invite and join that make their author a member.
  Result<BatchResult> append_received_batch(const std::vector<Event>& events);

  // Replaces the author check (default: allow all).
  void set_author_policy(AuthorPolicy policy);

  // -- reading --

  // The highest (lamport, event_id).
  Result<Head> head();
  // The current Lamport clock (≥ head().lamport).
  Lamport clock();
  // Highest Lamport per event type present in the log (X02 §3.3, used by sync).
  Result<std::map<EventType, Lamport>> heads_by_type();
  Result<std::int64_t> count();
  // WAL checkpoints the background thread has run (detail/wal_checkpointer.h).
  int wal_checkpoints() const { return m_checkpointer ? m_checkpointer->completed() : 0; }
  Result<std::optional<Event>> get(const EventId& id);
  Result<bool> has(const EventId& id);

  // Visits events in replay order (CONTRACT §7.4: lamport, then event_id); visit returns
  // false to stop. One read transaction: a consistent view of the log. The event is the
  // visitor's to keep: it may move from it.
  Status replay(const ReplayOptions& options, const std::function<bool(Event&)>& visit);
  // The same, collected.
  Result<std::vector<Event>> read_events(const ReplayOptions& options = {});
  // replay with local sequence numbers; returns the highest sequence number committed at
  // the moment the read began (every event with seq ≤ it was visited, filters aside).
  Result<std::int64_t> replay_sequenced(const ReplayOptions& options,
                                        const std::function<bool(Event&, std::int64_t)>& visit);

  // The highest Lamport among events with local sequence number ≤ seq (0 when none).
  Result<Lamport> max_lamport_through_seq(std::int64_t seq);

  // (lamport, event_id) pairs with lo ≤ lamport ≤ hi, in replay order.
  Result<std::vector<std::pair<Lamport, EventId>>> ids_in_range(Lamport lo, Lamport hi);
  // The fingerprint of the same range.
  Result<RangeFingerprint> range_fingerprint(Lamport lo, Lamport hi);

  // -- retention and peer acknowledgements (event_log_upkeep.cpp) --

  // Stored and pruned keys plus the seq high-water mark, under one read snapshot.
  Result<SyncKeys> sync_keys();
  // The highest local seq committed (0 for an empty log).
  Result<std::int64_t> max_seq();
  // Deletes the events rule allows and records their keys in the pruned ledger, in one
  // transaction. Returns how many were pruned.
  Result<std::int64_t> prune(const PruneRule& rule);
  // Whether id was pruned here.
  Result<bool> is_pruned(const EventId& id);
  // Number of pruned keys.
  Result<std::int64_t> pruned_count();
  // Records that `peer` holds every event with local seq ≤ seq (a clean sync round);
  // keeps the highest seq seen per peer. Persistent.
  Status record_peer_ack(std::string_view peer, std::int64_t seq);
  // Acknowledged seq per peer key.
  Result<std::map<std::string, std::int64_t>> peer_acks();

  // Runs PRAGMA quick_check; db_corrupt when SQLite reports damage.
  Status check_integrity();

  // -- fan-out (in-process subscribers, X02 §3.3) --

  // Calls callback after commit for each new event (of `types`, or all when empty).
  Subscription subscribe(Callback callback, std::vector<EventType> types = {});
  Subscription subscribe_sequenced(SequencedCallback callback, std::vector<EventType> types = {});

 private:
  struct Committed {
    Event event;
    std::int64_t seq;
  };

  EventLog(CommunityId community, identity::KeyPair keys, const Clock& clock);
  Status init(const std::filesystem::path& db_path, const EventLogOptions& options);
  Status prepare_statements();

  // append_received / append_received_batch; new_head only when want_head.
  Result<BatchResult> append_batch(std::span<const Event> events, bool want_head);
  // Checks that need no lock: signature, schema, community, Lamport range, author (by
  // policy, fetched once per batch). Leaves canonical_json(event.data) in canonical_data.
  Status check_received(const Event& event, const AuthorPolicy& policy,
                        std::string& canonical_data) const;

  // Under m_write_mutex inside a transaction: insert one event; returns its seq, or
  // nothing when its event_id is already stored (nothing written then).
  // canonical_data is canonical_json(event.data), the text stored.
  Result<std::optional<std::int64_t>> insert_locked(const Event& event, std::string_view canonical_data);
  // Under m_read_mutex: get().
  Result<std::optional<Event>> get_locked(const EventId& id);
  // Takes m_read_mutex: `SELECT COUNT(*) FROM <table> WHERE community_id = ?1` for this
  // log's community (count(), pruned_count()).
  Result<std::int64_t> count_rows(const char* table);
  // Under m_write_mutex: the stored signature for id, if any.
  Result<std::optional<std::string>> stored_signature_locked(const EventId& id);
  Status begin_locked();
  Status commit_locked();
  void rollback_locked();

  // Queues committed events for delivery (under m_write_mutex), then delivers them after
  // the write lock is released.
  void enqueue_locked(std::vector<Committed> committed);
  void drain();

  Result<Event> row_to_event(detail::Stmt& stmt, int first_col);

  CommunityId m_community;
  identity::KeyPair m_keys;
  NodeId m_node_id;
  const Clock& m_clock;
  UlidGenerator m_ulids;

  mutable std::mutex m_policy_mutex;
  AuthorPolicy m_policy;

  std::mutex m_write_mutex;  // guards everything below until m_read_mutex
  detail::Db m_write_db;
  std::optional<LamportClock> m_lamport;
  detail::Stmt m_insert;
  detail::Stmt m_select_signature;
  detail::Stmt m_begin;
  detail::Stmt m_commit;
  detail::Stmt m_rollback;
  // Declared after m_write_db: unhooks the writer before it closes.
  std::unique_ptr<detail::WalCheckpointer> m_checkpointer;

  std::recursive_mutex m_read_mutex;  // guards the read connection and its statements
  detail::Db m_read_db;
  detail::Stmt m_get;
  detail::Stmt m_get_pruned;
  std::atomic<bool> m_has_pruned{false};  // any key in the pruned ledger (skips lookups)

  std::mutex m_fanout_mutex;  // guards subscribers, the pending queue and m_draining
  std::vector<std::shared_ptr<Subscription::Slot>> m_subscribers;
  std::deque<Committed> m_pending;
  bool m_draining = false;
};

}  // namespace hn::events
