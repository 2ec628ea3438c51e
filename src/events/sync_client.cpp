// sync_client.cpp — the client side of sync: one round against a peer — heads, range
// reconciliation, push what the peer lacks, pull what we lack (X02 §3.6, §6; CONTRACT §7.6;
// DESIGN.md "Event sync must converge"). See sync.h for the protocol and the wire shapes.
#include "events/sync.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <span>
#include <string_view>
#include <unordered_set>

#include "events/detail/sync_common.h"
#include "events/detail/sync_read.h"

namespace hn::events {
namespace {

using detail::bad;
using detail::read_by_keys;

// Refusals remembered per peer and direction before the memory is dropped.
constexpr std::size_t MAX_REFUSALS = 1u << 20;

// Prefixes a peer-side failure with what we asked, keeping its code.
Error from_peer(Error e, std::string_view what) {
  e.message = "sync peer " + std::string(what) + ": " + e.message;
  return e;
}

// ---------------------------------------------------------------------------------------
// Client-side reconciliation

struct Difference {
  std::vector<SyncKey> need;      // keys the peer holds and we lack
  std::vector<std::size_t> give;  // positions in our index of keys the peer lacks
};

void give_range(std::size_t begin, std::size_t end, Difference& diff) {
  for (std::size_t p = begin; p < end; ++p) diff.give.push_back(p);
}

// Folds the peer's answer for range r into diff; differing parts go to next.
Status apply_answer(const SyncIndex& index, const SyncRange& r, const RangeAnswer& answer,
                    Difference& diff, std::vector<SyncRange>& next) {
  const std::size_t a = index.lower_bound(r.lo);
  const std::size_t b = index.lower_bound(r.hi);
  switch (answer.kind) {
    case RangeAnswer::Kind::equal:
      return {};
    case RangeAnswer::Kind::ids: {
      const auto& ids = answer.ids;  // strictly ascending (checked by the decoder)
      if (!ids.empty() && (ids.front() < r.lo || !(ids.back() < r.hi))) {
        return bad("peer listed keys outside the range it was asked about");
      }
      std::size_t p = a;
      std::size_t q = 0;
      while (p < b || q < ids.size()) {
        if (q == ids.size() || (p < b && index.key(p) < ids[q])) {
          diff.give.push_back(p++);
        } else if (p == b || ids[q] < index.key(p)) {
          diff.need.push_back(ids[q++]);
        } else {
          ++p;
          ++q;
        }
      }
      return {};
    }
    case RangeAnswer::Kind::split: {
      const auto& parts = answer.parts;  // contiguous, ≥ 2 (checked by the decoder)
      if (parts.front().lo != r.lo || parts.back().hi != r.hi) {
        return bad("peer split does not cover the range it was asked about");
      }
      for (const auto& part : parts) {
        const std::size_t pa = index.lower_bound(part.lo);
        const std::size_t pb = index.lower_bound(part.hi);
        const RangeFingerprint mine = index.fingerprint(pa, pb);
        if (part.fp.count == 0) {
          give_range(pa, pb, diff);
        } else if (!(mine == part.fp)) {
          next.push_back(SyncRange{part.lo, part.hi, mine});
        }
      }
      return {};
    }
  }
  return bad("unknown answer kind");
}

}  // namespace

// ---------------------------------------------------------------------------------------
// SyncClient

SyncClient::SyncClient(EventLog& log, SyncOptions options)
    : m_log(log), m_options(options), m_cache(log) {
  if (m_options.batch_size == 0 || m_options.batch_size > SYNC_MAX_BATCH)
    m_options.batch_size = SYNC_BATCH;
  if (m_options.max_batch_bytes == 0) m_options.max_batch_bytes = SYNC_MAX_BATCH_BYTES;
}

Result<SyncResult> SyncClient::run_round(SyncPeer& peer) {
  std::lock_guard lk(m_round_mutex);
  return run_round_locked(peer);
}

Result<SyncResult> SyncClient::run_round_locked(SyncPeer& peer) {
  const auto started = std::chrono::steady_clock::now();
  SyncResult res;
  const CommunityId& community = m_log.community_id();

  // 1. Heads: the community check, and the shortcut for identical logs.
  auto heads_json = peer.heads();
  ++res.messages;
  if (!heads_json) return from_peer(heads_json.take_error(), "heads");
  auto heads = parse_heads_report(*heads_json);
  if (!heads) return from_peer(heads.take_error(), "heads");
  if (heads->community_id != community) {
    return make_error(
        ErrorCode::wrong_community,
        "sync: peer serves community " + heads->community_id.str() + ", not " + community.str());
  }
  HN_TRY_ASSIGN(auto index, m_cache.get());
  const auto local_count = static_cast<std::int64_t>(index->size());
  const RangeFingerprint full = index->fingerprint(0, index->size());

  // 2. Reconcile: recurse into differing ranges, level by level.
  Difference diff;
  if (!(heads->count == full.count && heads->fingerprint == full.digest)) {
    std::vector<SyncRange> pending{SyncRange{sync_key_min(), sync_key_top(), full}};
    int reconcile_messages = 0;
    // An honest peer lists at most its own keys (plus what it gained during the round).
    const std::size_t max_listed = std::min<std::size_t>(
        SYNC_MAX_ROUND_IDS, static_cast<std::size_t>(heads->count) + SYNC_MAX_REPLY_IDS);
    std::size_t listed = 0;
    while (!pending.empty()) {
      if (res.rounds >= SYNC_MAX_ROUNDS) {
        return bad("peer reconcile did not converge in " + std::to_string(SYNC_MAX_ROUNDS) +
                   " rounds");
      }
      ++res.rounds;
      std::vector<SyncRange> next;
      for (std::size_t off = 0; off < pending.size(); off += SYNC_MAX_RANGES) {
        if (++reconcile_messages > SYNC_MAX_RECONCILE_MESSAGES) {
          return bad("peer reconcile needs more than " +
                     std::to_string(SYNC_MAX_RECONCILE_MESSAGES) + " requests");
        }
        ReconcileRequest request;
        request.community_id = community;
        const std::size_t end = std::min(pending.size(), off + SYNC_MAX_RANGES);
        request.ranges.assign(pending.begin() + static_cast<std::ptrdiff_t>(off),
                              pending.begin() + static_cast<std::ptrdiff_t>(end));
        auto reply_json = peer.reconcile(to_json(request));
        ++res.messages;
        if (!reply_json) return from_peer(reply_json.take_error(), "reconcile");
        auto reply = parse_reconcile_reply(*reply_json);
        if (!reply) return from_peer(reply.take_error(), "reconcile");
        if (reply->answers.size() != request.ranges.size()) {
          return bad("peer answered " + std::to_string(reply->answers.size()) + " of " +
                     std::to_string(request.ranges.size()) + " ranges");
        }
        for (std::size_t k = 0; k < request.ranges.size(); ++k) {
          listed += reply->answers[k].ids.size();
          if (listed > max_listed) {
            return bad("peer listed more than " + std::to_string(max_listed) +
                       " keys in one round");
          }
          HN_TRY(apply_answer(*index, request.ranges[k], reply->answers[k], diff, next));
        }
      }
      pending = std::move(next);
    }
  }
  std::sort(diff.need.begin(), diff.need.end());
  diff.need.erase(std::unique(diff.need.begin(), diff.need.end()), diff.need.end());
  std::sort(diff.give.begin(), diff.give.end());
  diff.give.erase(std::unique(diff.give.begin(), diff.give.end()), diff.give.end());

  // Refusals from earlier rounds: permanent ones stay refused; unknown_author is retried
  // once the refusing log has grown (a join may have arrived since).
  PeerRefusals& refusals = m_refusals[peer.peer_key()];
  auto refused = [](const RefusalMap& map, const std::string& id, std::int64_t count) {
    auto it = map.find(id);
    if (it == map.end()) return false;
    return it->second.reason != ErrorCode::unknown_author || it->second.log_count == count;
  };
  // Clean (the peer ends the round holding every event of our index, or refused it for
  // good): no push refused or skipped for a reason that may change (unknown_author).
  bool clean = true;
  std::vector<SyncKey> give_keys;
  give_keys.reserve(diff.give.size());
  for (std::size_t p : diff.give) {
    if (refused(refusals.pushed, index->key(p).event_id, heads->count)) {
      ++res.skipped_count;
      if (refusals.pushed[index->key(p).event_id].reason == ErrorCode::unknown_author) clean = false;
    } else {
      give_keys.push_back(index->key(p));
    }
  }
  std::vector<SyncKey> need;
  need.reserve(diff.need.size());
  for (auto& k : diff.need) {
    if (refused(refusals.pulled, k.event_id, local_count)) {
      ++res.skipped_count;
    } else {
      need.push_back(std::move(k));
    }
  }
  std::vector<std::pair<std::string, ErrorCode>> pushed_refusals;
  std::vector<std::pair<std::string, ErrorCode>> pulled_refusals;

  // 3. Push what the peer lacks, in replay order, in batches bounded by count and bytes.
  std::size_t at = 0;
  while (at < give_keys.size()) {
    const std::size_t end = std::min(give_keys.size(), at + m_options.batch_size);
    std::span<const SyncKey> slice(give_keys.data() + at, end - at);
    HN_TRY_ASSIGN(auto batch, read_by_keys(m_log, *index, slice, m_options.max_batch_bytes));
    at += std::max<std::size_t>(batch.consumed, 1);
    if (batch.events.empty()) continue;
    EventsRequest request{community, std::move(batch.events)};
    auto reply_json = peer.push_events(to_json(request));
    ++res.messages;
    if (!reply_json) return from_peer(reply_json.take_error(), "events");
    auto reply = parse_events_reply(*reply_json);
    if (!reply) return from_peer(reply.take_error(), "events");
    const auto sent = static_cast<std::int64_t>(request.events.size());
    if (reply->accepted + reply->rejected + reply->duplicates != sent) {
      return bad("peer accounted for " +
                 std::to_string(reply->accepted + reply->rejected + reply->duplicates) + " of " +
                 std::to_string(sent) + " pushed events");
    }
    std::unordered_set<std::string_view> sent_ids;
    for (const auto& e : request.events) sent_ids.insert(e.event_id.str());
    for (const auto& rej : reply->rejected_reasons) {
      if (!sent_ids.contains(rej.event_id.str()))
        return bad("peer refused an event it was not sent");
      pushed_refusals.emplace_back(rej.event_id.str(), rej.reason);
      if (rej.reason == ErrorCode::unknown_author) clean = false;
    }
    res.sent_count += sent;
    res.peer_accepted_count += reply->accepted;
    res.peer_rejected_count += reply->rejected;
  }

  // 4. Pull what we lack. Each slice is fetched (following truncated replies) on a helper
  // thread while the previous slice is appended: the peer is called from one thread at a
  // time, the log is written from this one.
  struct Fetched {
    std::vector<Event> events;
    std::vector<SyncKey> pruned;  // keys the peer pruned (retention)
    std::int64_t missing = 0;
    std::int64_t messages = 0;
  };
  auto fetch_slice = [&peer, &community](std::vector<SyncKey> keys) -> Result<Fetched> {
    Fetched out;
    while (!keys.empty()) {
      FetchRequest request{community, keys};
      auto reply_json = peer.fetch(to_json(request));
      ++out.messages;
      if (!reply_json) return from_peer(reply_json.take_error(), "fetch");
      auto reply = parse_fetch_reply(std::move(*reply_json));
      if (!reply) return from_peer(reply.take_error(), "fetch");
      // Every event must be one we asked for, in replay order, each once.
      std::size_t cursor = 0;  // keys[0, cursor) are answered or skipped
      for (const auto& e : reply->events) {
        const SyncKey k{e.lamport, e.event_id.str()};
        auto it =
            std::lower_bound(keys.begin() + static_cast<std::ptrdiff_t>(cursor), keys.end(), k);
        if (it == keys.end() || *it != k)
          return bad("peer sent an event it was not asked for (or twice)");
        const auto pos = static_cast<std::size_t>(it - keys.begin());
        out.missing += static_cast<std::int64_t>(pos - cursor);
        cursor = pos + 1;
      }
      // Pruned keys must be ones we asked for; they are answered, not missing.
      for (const auto& k : reply->pruned) {
        if (!std::binary_search(keys.begin(), keys.end(), k))
          return bad("peer says it pruned an event it was not asked for");
      }
      for (auto& k : reply->pruned) out.pruned.push_back(std::move(k));
      const std::size_t returned = reply->events.size();
      for (auto& e : reply->events) out.events.push_back(std::move(e));
      if (!reply->truncated) {
        out.missing += static_cast<std::int64_t>(keys.size() - cursor);
        break;
      }
      if (returned == 0) return bad("peer truncated a fetch reply without sending an event");
      keys.erase(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(cursor));
    }
    // Every asked key not delivered was counted missing once; a pruned one (reported once
    // or, across truncated replies, more often) is accounted as pruned instead.
    std::sort(out.pruned.begin(), out.pruned.end());
    out.pruned.erase(std::unique(out.pruned.begin(), out.pruned.end()), out.pruned.end());
    out.missing = std::max<std::int64_t>(0, out.missing - static_cast<std::int64_t>(out.pruned.size()));
    return out;
  };
  auto apply = [&](Fetched fetched) -> Status {
    res.messages += fetched.messages;
    res.missing_count += fetched.missing;
    res.pruned_count += static_cast<std::int64_t>(fetched.pruned.size());
    for (const auto& k : fetched.pruned) pulled_refusals.emplace_back(k.event_id, ErrorCode::not_found);
    if (fetched.events.empty()) return {};
    HN_TRY_ASSIGN(auto batch, m_log.append_received_batch(fetched.events));
    res.received_count += static_cast<std::int64_t>(batch.accepted);
    res.rejected_count += static_cast<std::int64_t>(batch.rejected);
    for (std::size_t i = 0; i < fetched.events.size(); ++i) {
      if (!batch.results[i].has_value()) {
        pulled_refusals.emplace_back(fetched.events[i].event_id.str(),
                                     batch.results[i].error().code);
      }
    }
    return {};
  };
  auto slice_at = [&](std::size_t begin) {
    const std::size_t end = std::min(need.size(), begin + m_options.batch_size);
    return std::vector<SyncKey>(need.begin() + static_cast<std::ptrdiff_t>(begin),
                                need.begin() + static_cast<std::ptrdiff_t>(end));
  };
  std::future<Result<Fetched>> ahead;
  auto start_fetch = [&](std::size_t begin) -> std::optional<Result<Fetched>> {
    if (m_options.pipeline) {
      try {
        ahead = std::async(std::launch::async, fetch_slice, slice_at(begin));
        return std::nullopt;
      } catch (const std::exception&) {
        // No thread to be had: fetch inline.
      }
    }
    return fetch_slice(slice_at(begin));
  };
  Status pulled;
  std::optional<Result<Fetched>> current;
  if (!need.empty()) current = start_fetch(0);
  for (std::size_t begin = 0; begin < need.size() && pulled; begin += m_options.batch_size) {
    Result<Fetched> fetched = current ? std::move(*current) : ahead.get();
    current.reset();
    if (!fetched) {
      pulled = fetched.take_error();
      break;
    }
    const std::size_t next = begin + m_options.batch_size;
    if (next < need.size()) current = start_fetch(next);
    pulled = apply(std::move(*fetched));
  }
  if (ahead.valid()) (void)ahead.get();  // never leave a fetch running past the round

  // 5. Remember refusals with the size each refusing log will have after this round.
  auto remember = [](RefusalMap& map, const auto& list, std::int64_t count) {
    if (map.size() + list.size() > MAX_REFUSALS) map.clear();
    for (const auto& [id, reason] : list) map[id] = Refusal{reason, count};
  };
  remember(refusals.pushed, pushed_refusals, heads->count + res.peer_accepted_count);
  remember(refusals.pulled, pulled_refusals, local_count + res.received_count);
  if (!pulled) return pulled.take_error();

  // X02 §5.4: what this peer is known to hold bounds what retention may prune.
  if (clean) {
    res.acked_seq = index->covered_seq();
    if (res.acked_seq > 0 && !peer.peer_key().empty()) {
      HN_TRY(m_log.record_peer_ack(peer.peer_key(), res.acked_seq));
    }
  }

  res.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
  return res;
}

}  // namespace hn::events
