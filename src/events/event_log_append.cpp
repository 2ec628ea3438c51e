// event_log_append.cpp — writing to the event log: local events minted and signed (X02 §5.1),
// received events checked and stored in one transaction per batch (X02 §5.2) (event_log.h).
#include "events/event_log.h"

#include <algorithm>
#include <atomic>

#include "core/parallel.h"
#include "core/time.h"
#include "observability/standard_metrics.h"

namespace hn::events {
namespace {

Error bad_request(std::string msg) { return make_error(ErrorCode::bad_request, std::move(msg)); }

}  // namespace

// ---------------------------------------------------------------------------------------
// Inserting (under m_write_mutex)

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

}  // namespace hn::events
