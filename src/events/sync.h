// sync.h — event sync between two nodes (X02 §3.6, §6; CONTRACT §7.6), transport-free.
//
// The spec's "send everything above the peer's max Lamport" loses events a partitioned peer
// wrote with lower Lamports, so we reconcile SETS instead (DESIGN.md "Event sync must
// converge"): range-based set reconciliation (A. Meyer, "Range-Based Set Reconciliation")
// over the keys (lamport, event_id) in replay order. Both sides compare XOR fingerprints of
// key ranges (event_log.h RangeFingerprint), recurse only into ranges that differ, and list
// the keys of small ranges; each side then pushes what the other lacks and pulls what it
// lacks. Rounds are O(log n) and only differing keys and events travel.
//
// Wire (JSON bodies; the node puts them on the transport — events never includes transport):
//   GET  /sync/v1/heads      → HeadsReport
//   POST /sync/v1/reconcile  ReconcileRequest → ReconcileReply
//   POST /sync/v1/fetch      FetchRequest → FetchReply
//   POST /sync/v1/events     EventsRequest → EventsReply   (X02 §6)
// A key travels as [lamport, "event_id"]; a range as {"lo","hi","count","fp"} with lo
// inclusive and hi exclusive; "fp" is the 64-hex XOR digest.
//
// Thread-safety: SyncIndex is immutable. SyncIndexCache, SyncServer are safe for concurrent
// use. SyncClient runs one round at a time (run_round serialises itself); it calls a
// SyncPeer from one thread at a time, though not always the same thread (the pull pipeline
// fetches the next batch on a helper thread while the current one is appended). The
// EventLog must outlive every SyncIndexCache, SyncServer and SyncClient built on it (each
// keeps an in-memory key index, about 100 bytes per event, refreshed after commits).
// Invariants: every decoder rejects malformed input with bad_request and never throws; a
// peer's reply is validated completely before anything is stored; a round never stores an
// event its log would not accept from append_received_batch.
#pragma once

#include <atomic>
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/types.h"
#include "events/event_log.h"
#include "events/types.h"

namespace hn::events {

// -- wire paths (X02 §6; reconcile and fetch added for set reconciliation) --
inline constexpr std::string_view SYNC_PATH_HEADS = "/sync/v1/heads";
inline constexpr std::string_view SYNC_PATH_RECONCILE = "/sync/v1/reconcile";
inline constexpr std::string_view SYNC_PATH_FETCH = "/sync/v1/fetch";
inline constexpr std::string_view SYNC_PATH_EVENTS = "/sync/v1/events";
// The serving node's newest snapshot (CONTRACT §7.5) for snapshot-assisted bootstrap; the
// path is ours (X02 names the feature, not a route): doc/design/events.md "Bootstrap".
inline constexpr std::string_view SYNC_PATH_SNAPSHOT = "/sync/v1/snapshot";

// -- protocol limits --
// A range whose holder has at most this many keys is answered with its key list.
inline constexpr std::size_t SYNC_LEAF_SIZE = 64;
// A larger differing range is split into this many parts of equal key count.
inline constexpr std::size_t SYNC_SPLIT_FANOUT = 16;
// Most parts a peer's split may have.
inline constexpr std::size_t SYNC_MAX_SPLIT_PARTS = 64;
// Most ranges in one reconcile request.
inline constexpr std::size_t SYNC_MAX_RANGES = 512;
// Keys a server lists for ranges the client holds nothing of, per reply (beyond leaves).
inline constexpr std::size_t SYNC_BULK_IDS = 32768;
// Most keys in one reconcile reply: leaves of every range plus the bulk budget.
inline constexpr std::size_t SYNC_MAX_REPLY_IDS = SYNC_MAX_RANGES * SYNC_LEAF_SIZE + SYNC_BULK_IDS;
// Most keys per fetch request and events per push request accepted.
inline constexpr std::size_t SYNC_MAX_BATCH = 5000;
// Keys per fetch / events per push the client sends.
inline constexpr std::size_t SYNC_BATCH = 2000;
// Approximate JSON bytes of events per fetch reply or push request (transport bodies ≤ 8 MiB).
inline constexpr std::size_t SYNC_MAX_BATCH_BYTES = 4u << 20;
// Most reconcile round trips (levels) in one sync round.
inline constexpr int SYNC_MAX_ROUNDS = 48;
// Most reconcile requests in one sync round.
inline constexpr int SYNC_MAX_RECONCILE_MESSAGES = 1024;
// Most keys a peer may list in one sync round (beyond its claimed count, which also bounds it).
inline constexpr std::size_t SYNC_MAX_ROUND_IDS = std::size_t{1} << 24;
// The exclusive upper end of the key space: above every storable Lamport (≤ MAX_LAMPORT).
inline constexpr Lamport SYNC_TOP_LAMPORT = MAX_LAMPORT + 1;

// A point in the key space: (lamport, event_id) in replay order (CONTRACT §7.4). A stored
// event's key has a ULID; a range bound may have an empty event_id (before every id).
struct SyncKey {
  Lamport lamport = 0;
  std::string event_id;
  auto operator<=>(const SyncKey&) const = default;
  bool operator==(const SyncKey&) const = default;
};
// (0, "") — the start of the key space.
SyncKey sync_key_min();
// (SYNC_TOP_LAMPORT, "") — the exclusive end of the key space.
SyncKey sync_key_top();

// [lo, hi) with its holder's fingerprint (fp.count = number of keys).
struct SyncRange {
  SyncKey lo;
  SyncKey hi;
  RangeFingerprint fp;
  bool operator==(const SyncRange&) const = default;
};

// GET /sync/v1/heads — X02 §3.6 HeadsReport, plus the count and the fingerprint of the
// whole log so identical logs are recognised without a reconcile round trip.
struct HeadsReport {
  CommunityId community_id;
  Lamport head = 0;                            // highest Lamport held
  std::map<EventType, Lamport> heads_by_type;  // highest Lamport per type present
  std::int64_t count = 0;                      // events held
  Digest fingerprint{};                        // XOR fingerprint of every key
  bool operator==(const HeadsReport&) const = default;
};

// POST /sync/v1/reconcile — the client's fingerprints of the ranges it wants compared.
struct ReconcileRequest {
  CommunityId community_id;
  std::vector<SyncRange> ranges;  // 1..SYNC_MAX_RANGES, each lo < hi
};

// The server's answer for one requested range.
struct RangeAnswer {
  enum class Kind { equal, ids, split };
  Kind kind = Kind::equal;
  std::vector<SyncKey> ids;      // kind == ids: every key the server holds in the range, sorted
  std::vector<SyncRange> parts;  // kind == split: contiguous parts covering the range, server fps
  bool operator==(const RangeAnswer&) const = default;
};

// One answer per requested range, in request order.
struct ReconcileReply {
  std::vector<RangeAnswer> answers;
};

// POST /sync/v1/fetch — events by key.
struct FetchRequest {
  CommunityId community_id;
  std::vector<SyncKey> ids;  // 1..SYNC_MAX_BATCH keys of stored events
};

// The events the server holds among those asked for, in replay order. truncated: the byte
// budget ran out; ask again for the ones not returned. pruned: keys asked for whose events
// the server deleted under retention (X02 §5.4) — not_found for good; a node that needs
// them bootstraps from a snapshot (doc/design/events.md "Retention"). On the wire only
// when non-empty.
struct FetchReply {
  std::vector<Event> events;
  bool truncated = false;
  std::vector<SyncKey> pruned;
};

// POST /sync/v1/events — X02 §6 body.
struct EventsRequest {
  CommunityId community_id;
  std::vector<Event> events;  // ≤ SYNC_MAX_BATCH
};

// Why the receiver refused one event (X02 §6 rejected_reasons).
struct EventRejection {
  EventId event_id;
  ErrorCode reason = ErrorCode::bad_request;  // an unknown name decodes as internal_error
  bool operator==(const EventRejection&) const = default;
};

// X02 §6 / CONTRACT §7.6 response.
struct EventsReply {
  std::int64_t accepted = 0;    // newly stored
  std::int64_t rejected = 0;    // refused (see rejected_reasons)
  std::int64_t duplicates = 0;  // already held
  Lamport new_head_lamport = 0;
  std::vector<EventRejection> rejected_reasons;
  bool operator==(const EventsReply&) const = default;
};

// -- JSON codec: to_json for the wire, parse_* for outside bytes (bad_request on anything
// malformed, never a throw) --
Json to_json(const SyncKey& key);
Json to_json(const SyncRange& range);
Json to_json(const HeadsReport& report);
Json to_json(const ReconcileRequest& request);
Json to_json(const ReconcileReply& reply);
Json to_json(const FetchRequest& request);
Json to_json(const FetchReply& reply);
Json to_json(FetchReply&& reply);
Json to_json(const EventsRequest& request);
Json to_json(const EventsReply& reply);
Result<HeadsReport> parse_heads_report(const Json& json);
Result<ReconcileRequest> parse_reconcile_request(const Json& json);
Result<ReconcileReply> parse_reconcile_reply(const Json& json);
Result<FetchRequest> parse_fetch_request(const Json& json);
// (by value: the events' data is moved out of json, so pass an rvalue where you can)
Result<FetchReply> parse_fetch_reply(Json json);
Result<EventsRequest> parse_events_request(Json json);
Result<EventsReply> parse_events_reply(const Json& json);

// Every key of a log in replay order with prefix-XOR fingerprints: any range's fingerprint
// in O(log n), built from ONE ordered scan of the log's keys. The keys of pruned events
// count as held (EventLog::sync_keys), so retention never shows as a difference.
class SyncIndex {
 public:
  SyncIndex() = default;
  static Result<SyncIndex> build(EventLog& log);
  // From keys already in replay order (strictly ascending).
  static SyncIndex from_sorted_keys(std::vector<SyncKey> keys);

  std::size_t size() const { return m_keys.size(); }
  // Every event with local seq ≤ covered_seq() is in the index (build() only).
  std::int64_t covered_seq() const { return m_covered_seq; }
  const SyncKey& key(std::size_t i) const { return m_keys[i]; }
  // The first position whose key is ≥ k.
  std::size_t lower_bound(const SyncKey& k) const;
  // The fingerprint of positions [begin, end).
  RangeFingerprint fingerprint(std::size_t begin, std::size_t end) const;
  // Fingerprint of the keys in [lo, hi).
  RangeFingerprint fingerprint(const SyncKey& lo, const SyncKey& hi) const;
  // Position of exactly k, or size() when absent.
  std::size_t find(const SyncKey& k) const;

 private:
  std::vector<SyncKey> m_keys;
  std::vector<Digest> m_prefix;  // m_prefix[i] = XOR of the first i key digests
  std::int64_t m_covered_seq = 0;
};

// The SyncIndex of one log, rebuilt only after the log changed (it subscribes to commits).
// The log must outlive the cache. An index may be a moment stale (an event committed but
// not yet fanned out); a stale index is still self-consistent and the next round sees it.
class SyncIndexCache {
 public:
  explicit SyncIndexCache(EventLog& log);
  Result<std::shared_ptr<const SyncIndex>> get();

 private:
  EventLog& m_log;
  std::atomic<std::uint64_t> m_generation{1};
  std::mutex m_mutex;  // guards the two below
  std::uint64_t m_built_generation = 0;
  std::shared_ptr<const SyncIndex> m_index;
  Subscription m_subscription;
};

// Answers the four sync endpoints for one log. Typed serve_* and JSON handle_* (decode,
// serve, encode) — the node routes handle_* onto the transport. Errors: wrong_community when
// a request names another community, bad_request for malformed or oversized requests,
// storage errors from the log.
class SyncServer {
 public:
  explicit SyncServer(EventLog& log);

  Result<HeadsReport> serve_heads();
  Result<ReconcileReply> serve_reconcile(const ReconcileRequest& request);
  Result<FetchReply> serve_fetch(const FetchRequest& request);
  // newly_stored (optional) receives the events that were new here, in replay order.
  Result<EventsReply> serve_events(const EventsRequest& request,
                                   std::vector<Event>* newly_stored = nullptr);

  Result<Json> handle_heads();
  Result<Json> handle_reconcile(const Json& body);
  Result<Json> handle_fetch(const Json& body);
  Result<Json> handle_events(const Json& body);

 private:
  Status check_community(const CommunityId& id) const;

  EventLog& m_log;
  SyncIndexCache m_cache;
};

// One peer's sync endpoints, as the client sees them. The node implements it over the
// transport client (signed requests); an error is the peer's error envelope or a transport
// failure. Replies are untrusted.
class SyncPeer {
 public:
  virtual ~SyncPeer() = default;
  virtual Result<Json> heads() = 0;                           // GET  /sync/v1/heads
  virtual Result<Json> reconcile(const Json& request) = 0;    // POST /sync/v1/reconcile
  virtual Result<Json> fetch(const Json& request) = 0;        // POST /sync/v1/fetch
  virtual Result<Json> push_events(const Json& request) = 0;  // POST /sync/v1/events
  // GET /sync/v1/snapshot: the peer's newest snapshot (untrusted); not_found by default.
  virtual Result<Json> snapshot() { return make_error(ErrorCode::not_found, "peer serves no snapshot"); }
  // A stable name for the peer (its node id) for per-peer bookkeeping; "" when unknown.
  virtual std::string peer_key() const { return {}; }
};

// A SyncPeer that calls a SyncServer in process through a JSON text round trip (tests,
// benchmarks, loopback).
class InProcessSyncPeer : public SyncPeer {
 public:
  explicit InProcessSyncPeer(SyncServer& server, std::string key = {})
      : m_server(server), m_key(std::move(key)) {}
  Result<Json> heads() override;
  Result<Json> reconcile(const Json& request) override;
  Result<Json> fetch(const Json& request) override;
  Result<Json> push_events(const Json& request) override;
  std::string peer_key() const override { return m_key; }

 private:
  SyncServer& m_server;
  std::string m_key;
};

struct SyncOptions {
  std::size_t batch_size = SYNC_BATCH;  // keys per fetch, events per push
  std::size_t max_batch_bytes = SYNC_MAX_BATCH_BYTES;
  bool pipeline = true;  // fetch the next batch while the current one is appended
};

// X02 §3.6 SyncResult, with the detail a caller needs to judge a round.
struct SyncResult {
  std::int64_t sent_count = 0;           // events pushed to the peer
  std::int64_t received_count = 0;       // events pulled and newly stored here
  std::int64_t rejected_count = 0;       // pulled events our log refused
  std::int64_t peer_accepted_count = 0;  // pushed events the peer newly stored
  std::int64_t peer_rejected_count = 0;  // pushed events the peer refused
  std::int64_t skipped_count = 0;        // differences not moved: refused in an earlier round
  std::int64_t missing_count = 0;        // keys the peer listed but did not deliver
  std::int64_t pruned_count = 0;         // keys the peer pruned under retention (not_found)
  // When the round was clean (everything the peer lacked was pushed and stored, or refused
  // for good): our local seq up to which the peer holds every event; else 0. Recorded with
  // EventLog::record_peer_ack when the peer has a key.
  std::int64_t acked_seq = 0;
  std::int64_t rounds = 0;               // reconcile round trips (tree levels)
  std::int64_t messages = 0;             // requests sent to the peer
  std::int64_t duration_ms = 0;
};

// Drives a sync round against a peer. Refused events are remembered (by event id) and not
// moved again: for good when refused for a permanent reason (bad signature, revoked author,
// …), and until the refusing log has grown when the author was unknown (a later join may
// admit it). Errors: wrong_community when the peer serves another community, bad_request
// for a malformed or inconsistent peer reply, the peer's own errors, storage errors.
class SyncClient {
 public:
  explicit SyncClient(EventLog& log, SyncOptions options = {});
  Result<SyncResult> run_round(SyncPeer& peer);

 private:
  struct Refusal {
    ErrorCode reason;
    std::int64_t log_count;  // the refusing log's size after the round that refused
  };
  using RefusalMap = std::unordered_map<std::string, Refusal>;  // event id → refusal
  // Kept per peer: a hostile peer's forged copy of an id must not block the real one.
  struct PeerRefusals {
    RefusalMap pulled;  // events from this peer that our log refused
    RefusalMap pushed;  // our events this peer refused
  };

  Result<SyncResult> run_round_locked(SyncPeer& peer);

  EventLog& m_log;
  SyncOptions m_options;
  SyncIndexCache m_cache;
  std::mutex m_round_mutex;                        // one round at a time; guards m_refusals
  std::map<std::string, PeerRefusals> m_refusals;  // by SyncPeer::peer_key()
};

}  // namespace hn::events
