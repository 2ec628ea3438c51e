// sync.cpp — range-based set reconciliation of event logs (X02 §3.6, §6; CONTRACT §7.6;
// DESIGN.md "Event sync must converge"). See sync.h for the protocol and the wire shapes.
#include "events/sync.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <limits>
#include <span>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "core/encoding.h"
#include "core/ulid.h"

namespace hn::events {
namespace {

// Longest community id accepted (types.cpp accepts the same).
constexpr std::size_t MAX_COMMUNITY_ID = 128;
// Longest event id in a range bound (a ULID is 26 characters).
constexpr std::size_t MAX_BOUND_ID = 64;
// Largest count a fingerprint may claim (CONTRACT §1.1: integers fit in 53 bits).
constexpr std::int64_t MAX_COUNT = MAX_LAMPORT;
// Refusals remembered per peer and direction before the memory is dropped.
constexpr std::size_t MAX_REFUSALS = 1u << 20;
// A run of wanted keys is read with one ordered scan when it has at least this many keys
// and they are dense enough among the log's keys (see read_by_keys).
constexpr std::size_t MIN_SCAN_RUN = 8;
constexpr std::size_t SCAN_DENSITY = 4;

Error bad(std::string msg) { return make_error(ErrorCode::bad_request, "sync: " + std::move(msg)); }

// Prefixes a peer-side failure with what we asked, keeping its code.
Error from_peer(Error e, std::string_view what) {
  e.message = "sync peer " + std::string(what) + ": " + e.message;
  return e;
}

// ---------------------------------------------------------------------------------------
// Decoding helpers (never throw: every access is type-checked first)

std::optional<std::int64_t> as_int(const Json& v) {
  if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<std::int64_t>();
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return static_cast<std::int64_t>(u);
    }
  }
  return std::nullopt;
}

Result<const Json*> field(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end()) return bad("missing field '" + std::string(key) + "'");
  return &*it;
}

Result<std::int64_t> int_field(const Json& obj, std::string_view key, std::int64_t lo,
                               std::int64_t hi) {
  HN_TRY_ASSIGN(const Json* v, field(obj, key));
  auto n = as_int(*v);
  if (!n) return bad("field '" + std::string(key) + "' must be an integer");
  if (*n < lo || *n > hi) {
    return bad("field '" + std::string(key) + "' out of range [" + std::to_string(lo) + ", " +
               std::to_string(hi) + "]");
  }
  return *n;
}

Result<const Json*> array_field(const Json& obj, std::string_view key, std::size_t max) {
  HN_TRY_ASSIGN(const Json* v, field(obj, key));
  if (!v->is_array()) return bad("field '" + std::string(key) + "' must be an array");
  if (v->size() > max) {
    return bad("field '" + std::string(key) + "' has " + std::to_string(v->size()) +
               " entries (at most " + std::to_string(max) + ")");
  }
  return v;
}

Status require_object(const Json& j, std::string_view what) {
  if (!j.is_object()) return bad(std::string(what) + " must be a JSON object");
  return {};
}

Result<CommunityId> parse_community(const Json& obj) {
  HN_TRY_ASSIGN(const Json* v, field(obj, "community_id"));
  if (!v->is_string()) return bad("field 'community_id' must be a string");
  const auto& s = v->get_ref<const std::string&>();
  if (s.empty() || s.size() > MAX_COMMUNITY_ID) return bad("bad community_id");
  return CommunityId(s);
}

// A key of a stored event (bound == false) or a range bound (bound == true).
Result<SyncKey> parse_key(const Json& j, bool bound) {
  if (!j.is_array() || j.size() != 2) return bad("a key must be [lamport, event_id]");
  auto lamport = as_int(j[0]);
  const Lamport max = bound ? SYNC_TOP_LAMPORT : MAX_LAMPORT;
  if (!lamport || *lamport < 0 || *lamport > max) return bad("key lamport out of range");
  if (!j[1].is_string()) return bad("key event_id must be a string");
  SyncKey key{*lamport, j[1].get<std::string>()};
  if (bound) {
    if (key.event_id.size() > MAX_BOUND_ID) return bad("range bound event_id too long");
  } else if (!is_valid_ulid(key.event_id)) {
    return bad("key event_id is not a ULID");
  }
  return key;
}

Result<SyncRange> parse_range(const Json& j) {
  HN_TRY(require_object(j, "a range"));
  SyncRange r;
  HN_TRY_ASSIGN(const Json* lo, field(j, "lo"));
  HN_TRY_ASSIGN(r.lo, parse_key(*lo, true));
  HN_TRY_ASSIGN(const Json* hi, field(j, "hi"));
  HN_TRY_ASSIGN(r.hi, parse_key(*hi, true));
  if (!(r.lo < r.hi)) return bad("a range needs lo < hi");
  HN_TRY_ASSIGN(r.fp.count, int_field(j, "count", 0, MAX_COUNT));
  HN_TRY_ASSIGN(const Json* fp, field(j, "fp"));
  if (!fp->is_string() || fp->get_ref<const std::string&>().size() != 64) {
    return bad("range fp must be 64 hex characters");
  }
  auto bytes = hex_decode(fp->get_ref<const std::string&>());
  if (!bytes || bytes->size() != r.fp.digest.size()) return bad("range fp is not hex");
  std::copy(bytes->begin(), bytes->end(), r.fp.digest.begin());
  if (r.fp.count == 0 && r.fp.digest != Digest{}) return bad("an empty range has a non-zero fp");
  return r;
}

// Takes the events out of obj[key] (moves each envelope's data; obj is left hollow).
Result<std::vector<Event>> parse_events(Json& obj, std::string_view key) {
  HN_TRY(array_field(obj, key, SYNC_MAX_BATCH));
  Json* arr = &*obj.find(key);
  std::vector<Event> out;
  out.reserve(arr->size());
  for (auto& item : *arr) {
    auto e = parse_event(std::move(item));
    if (!e)
      return make_error(e.error().code,
                        "sync: events[" + std::to_string(out.size()) + "]: " + e.error().message);
    out.push_back(std::move(*e));
  }
  return out;
}

Json key_array(const std::vector<SyncKey>& keys) {
  Json arr = Json::array();
  for (const auto& k : keys) arr.push_back(to_json(k));
  return arr;
}

Result<std::vector<SyncKey>> parse_key_list(const Json& arr, std::size_t& budget) {
  if (arr.size() > budget) return bad("too many keys");
  budget -= arr.size();
  std::vector<SyncKey> out;
  out.reserve(arr.size());
  for (const auto& item : arr) {
    HN_TRY_ASSIGN(auto k, parse_key(item, false));
    if (!out.empty() && !(out.back() < k)) return bad("keys must be strictly ascending");
    out.push_back(std::move(k));
  }
  return out;
}

// A cheap upper-ish estimate of an event's JSON size, for byte budgets.
std::size_t approx_json_bytes(const Json& j) {
  switch (j.type()) {
    case Json::value_t::object: {
      std::size_t n = 2;
      for (auto it = j.begin(); it != j.end(); ++it)
        n += it.key().size() + 4 + approx_json_bytes(*it);
      return n;
    }
    case Json::value_t::array: {
      std::size_t n = 2;
      for (const auto& v : j) n += 1 + approx_json_bytes(v);
      return n;
    }
    case Json::value_t::string:
      return j.get_ref<const std::string&>().size() + 2;
    default:
      return 24;
  }
}

std::size_t approx_event_bytes(const Event& e) {
  // The envelope without data: ids, author, community, signature, names, punctuation.
  return 200 + e.event_id.str().size() + e.community_id.str().size() + e.author.str().size() +
         e.signature.size() + e.wall_clock.size() + approx_json_bytes(e.data);
}

void xor_into(Digest& acc, const Digest& d) {
  for (std::size_t i = 0; i < acc.size(); ++i) acc[i] ^= d[i];
}

// ---------------------------------------------------------------------------------------
// Reading events by key

struct ReadBatch {
  std::vector<Event> events;  // in key order
  std::size_t consumed = 0;   // keys fully handled (found or absent); < size when truncated
};

// Reads the events for sorted, unique keys, up to max_bytes (at least one event). Runs of
// keys dense among the log's keys are read with one ordered scan over their Lamport span
// instead of one lookup each; keys the index lacks (it may be stale) are looked up singly.
// A key whose event is absent, or stored under another Lamport, is skipped.
Result<ReadBatch> read_by_keys(EventLog& log, const SyncIndex& index, std::span<const SyncKey> keys,
                               std::size_t max_bytes) {
  ReadBatch out;
  std::size_t bytes = 0;
  auto admit = [&](Event&& e) {
    const std::size_t size = approx_event_bytes(e);
    if (!out.events.empty() && bytes + size > max_bytes) return false;
    bytes += size;
    out.events.push_back(std::move(e));
    return true;
  };

  std::size_t i = 0;
  while (i < keys.size()) {
    const std::size_t pos = index.find(keys[i]);
    if (pos != index.size()) {
      std::size_t j = i;
      std::size_t last = pos;
      while (j + 1 < keys.size()) {
        const std::size_t p = index.find(keys[j + 1]);
        if (p == index.size() || p <= last) break;
        if (p - pos + 1 > SCAN_DENSITY * (j + 2 - i) + SYNC_LEAF_SIZE) break;
        ++j;
        last = p;
      }
      if (j - i + 1 >= MIN_SCAN_RUN) {
        std::unordered_map<std::string_view, std::size_t> want;
        want.reserve(j - i + 1);
        for (std::size_t k = i; k <= j; ++k) want.emplace(keys[k].event_id, k);
        bool stopped = false;
        ReplayOptions options;
        options.from_lamport = keys[i].lamport;
        options.to_lamport = keys[j].lamport;
        HN_TRY(log.replay(options, [&](Event& e) {
          auto it = want.find(e.event_id.str());
          if (it == want.end() || e.lamport != keys[it->second].lamport) return true;
          const std::size_t slot = it->second;
          if (!admit(std::move(e))) {
            stopped = true;
            out.consumed = slot;
            return false;
          }
          return true;
        }));
        if (stopped) return out;
        i = j + 1;
        continue;
      }
    }
    HN_TRY_ASSIGN(auto e, log.get(EventId(keys[i].event_id)));
    if (e && e->lamport == keys[i].lamport && !admit(std::move(*e))) {
      out.consumed = i;
      return out;
    }
    ++i;
  }
  out.consumed = keys.size();
  return out;
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
// Keys, codec

SyncKey sync_key_min() { return SyncKey{0, {}}; }
SyncKey sync_key_top() { return SyncKey{SYNC_TOP_LAMPORT, {}}; }

Json to_json(const SyncKey& key) { return Json::array({key.lamport, key.event_id}); }

Json to_json(const SyncRange& range) {
  return Json{{"lo", to_json(range.lo)},
              {"hi", to_json(range.hi)},
              {"count", range.fp.count},
              {"fp", range.fp.hex()}};
}

Json to_json(const HeadsReport& report) {
  Json by_type = Json::object();
  for (const auto& [type, lamport] : report.heads_by_type)
    by_type[std::string(to_string(type))] = lamport;
  return Json{{"community_id", report.community_id.str()},
              {"head", report.head},
              {"heads_by_type", std::move(by_type)},
              {"count", report.count},
              {"fingerprint", hex_encode(report.fingerprint)}};
}

Result<HeadsReport> parse_heads_report(const Json& json) {
  HN_TRY(require_object(json, "heads report"));
  HeadsReport r;
  HN_TRY_ASSIGN(r.community_id, parse_community(json));
  HN_TRY_ASSIGN(r.head, int_field(json, "head", 0, MAX_LAMPORT));
  HN_TRY_ASSIGN(r.count, int_field(json, "count", 0, MAX_COUNT));
  HN_TRY_ASSIGN(const Json* by_type, field(json, "heads_by_type"));
  if (!by_type->is_object()) return bad("heads_by_type must be an object");
  if (by_type->size() > 1024) return bad("heads_by_type too large");
  for (auto it = by_type->begin(); it != by_type->end(); ++it) {
    auto lamport = as_int(*it);
    if (!lamport || *lamport < 0 || *lamport > MAX_LAMPORT)
      return bad("heads_by_type value out of range");
    // A type outside our closed set (a newer peer) is informational only: skip it.
    if (auto type = parse_event_type(it.key())) r.heads_by_type[*type] = *lamport;
  }
  HN_TRY_ASSIGN(const Json* fp, field(json, "fingerprint"));
  if (!fp->is_string() || fp->get_ref<const std::string&>().size() != 64) {
    return bad("fingerprint must be 64 hex characters");
  }
  auto bytes = hex_decode(fp->get_ref<const std::string&>());
  if (!bytes || bytes->size() != r.fingerprint.size()) return bad("fingerprint is not hex");
  std::copy(bytes->begin(), bytes->end(), r.fingerprint.begin());
  return r;
}

Json to_json(const ReconcileRequest& request) {
  Json ranges = Json::array();
  for (const auto& r : request.ranges) ranges.push_back(to_json(r));
  return Json{{"community_id", request.community_id.str()}, {"ranges", std::move(ranges)}};
}

Result<ReconcileRequest> parse_reconcile_request(const Json& json) {
  HN_TRY(require_object(json, "reconcile request"));
  ReconcileRequest r;
  HN_TRY_ASSIGN(r.community_id, parse_community(json));
  HN_TRY_ASSIGN(const Json* ranges, array_field(json, "ranges", SYNC_MAX_RANGES));
  if (ranges->empty()) return bad("a reconcile request needs at least one range");
  r.ranges.reserve(ranges->size());
  for (const auto& item : *ranges) {
    HN_TRY_ASSIGN(auto range, parse_range(item));
    r.ranges.push_back(std::move(range));
  }
  return r;
}

Json to_json(const ReconcileReply& reply) {
  Json answers = Json::array();
  for (const auto& a : reply.answers) {
    switch (a.kind) {
      case RangeAnswer::Kind::equal:
        answers.push_back(Json{{"kind", "equal"}});
        break;
      case RangeAnswer::Kind::ids:
        answers.push_back(Json{{"kind", "ids"}, {"ids", key_array(a.ids)}});
        break;
      case RangeAnswer::Kind::split: {
        Json parts = Json::array();
        for (const auto& p : a.parts) parts.push_back(to_json(p));
        answers.push_back(Json{{"kind", "split"}, {"parts", std::move(parts)}});
        break;
      }
    }
  }
  return Json{{"answers", std::move(answers)}};
}

Result<ReconcileReply> parse_reconcile_reply(const Json& json) {
  HN_TRY(require_object(json, "reconcile reply"));
  ReconcileReply r;
  HN_TRY_ASSIGN(const Json* answers, array_field(json, "answers", SYNC_MAX_RANGES));
  std::size_t id_budget = SYNC_MAX_REPLY_IDS;
  r.answers.reserve(answers->size());
  for (const auto& item : *answers) {
    HN_TRY(require_object(item, "an answer"));
    HN_TRY_ASSIGN(const Json* kind, field(item, "kind"));
    if (!kind->is_string()) return bad("answer kind must be a string");
    const auto& k = kind->get_ref<const std::string&>();
    RangeAnswer a;
    if (k == "equal") {
      a.kind = RangeAnswer::Kind::equal;
    } else if (k == "ids") {
      a.kind = RangeAnswer::Kind::ids;
      HN_TRY_ASSIGN(const Json* ids, array_field(item, "ids", SYNC_MAX_REPLY_IDS));
      HN_TRY_ASSIGN(a.ids, parse_key_list(*ids, id_budget));
    } else if (k == "split") {
      a.kind = RangeAnswer::Kind::split;
      HN_TRY_ASSIGN(const Json* parts, array_field(item, "parts", SYNC_MAX_SPLIT_PARTS));
      if (parts->size() < 2) return bad("a split needs at least two parts");
      for (const auto& p : *parts) {
        HN_TRY_ASSIGN(auto range, parse_range(p));
        if (!a.parts.empty() && a.parts.back().hi != range.lo)
          return bad("split parts must be contiguous");
        a.parts.push_back(std::move(range));
      }
    } else {
      return bad("unknown answer kind '" + k.substr(0, 32) + "'");
    }
    r.answers.push_back(std::move(a));
  }
  return r;
}

Json to_json(const FetchRequest& request) {
  return Json{{"community_id", request.community_id.str()}, {"ids", key_array(request.ids)}};
}

Result<FetchRequest> parse_fetch_request(const Json& json) {
  HN_TRY(require_object(json, "fetch request"));
  FetchRequest r;
  HN_TRY_ASSIGN(r.community_id, parse_community(json));
  HN_TRY_ASSIGN(const Json* ids, array_field(json, "ids", SYNC_MAX_BATCH));
  r.ids.reserve(ids->size());
  for (const auto& item : *ids) {
    HN_TRY_ASSIGN(auto k, parse_key(item, false));
    r.ids.push_back(std::move(k));
  }
  return r;
}

Json to_json(const FetchReply& reply) {
  Json events = Json::array();
  for (const auto& e : reply.events) events.push_back(to_json(e));
  Json out{{"events", std::move(events)}, {"truncated", reply.truncated}};
  if (!reply.pruned.empty()) out["pruned"] = key_array(reply.pruned);
  return out;
}

Json to_json(FetchReply&& reply) {
  Json events = Json::array();
  events.get_ref<Json::array_t&>().reserve(reply.events.size());
  for (auto& e : reply.events) events.push_back(to_json(std::move(e)));
  Json out{{"events", std::move(events)}, {"truncated", reply.truncated}};
  if (!reply.pruned.empty()) out["pruned"] = key_array(reply.pruned);
  return out;
}

Result<FetchReply> parse_fetch_reply(Json json) {
  HN_TRY(require_object(json, "fetch reply"));
  FetchReply r;
  HN_TRY_ASSIGN(r.events, parse_events(json, "events"));
  HN_TRY_ASSIGN(const Json* truncated, field(json, "truncated"));
  if (!truncated->is_boolean()) return bad("field 'truncated' must be a boolean");
  r.truncated = truncated->get<bool>();
  if (json.contains("pruned")) {
    HN_TRY_ASSIGN(const Json* pruned, array_field(json, "pruned", SYNC_MAX_BATCH));
    std::size_t budget = SYNC_MAX_BATCH;
    HN_TRY_ASSIGN(r.pruned, parse_key_list(*pruned, budget));
  }
  return r;
}

Json to_json(const EventsRequest& request) {
  Json events = Json::array();
  for (const auto& e : request.events) events.push_back(to_json(e));
  return Json{{"community_id", request.community_id.str()}, {"events", std::move(events)}};
}

Result<EventsRequest> parse_events_request(Json json) {
  HN_TRY(require_object(json, "events request"));
  EventsRequest r;
  HN_TRY_ASSIGN(r.community_id, parse_community(json));
  HN_TRY_ASSIGN(r.events, parse_events(json, "events"));
  return r;
}

Json to_json(const EventsReply& reply) {
  Json reasons = Json::array();
  for (const auto& rej : reply.rejected_reasons) {
    reasons.push_back(
        Json{{"event_id", rej.event_id.str()}, {"reason", std::string(to_string(rej.reason))}});
  }
  // X02 §6 names the head "new_head", CONTRACT §7.6 "new_head_lamport": send both.
  return Json{{"accepted", reply.accepted},         {"rejected", reply.rejected},
              {"duplicates", reply.duplicates},     {"new_head_lamport", reply.new_head_lamport},
              {"new_head", reply.new_head_lamport}, {"rejected_reasons", std::move(reasons)}};
}

Result<EventsReply> parse_events_reply(const Json& json) {
  HN_TRY(require_object(json, "events reply"));
  EventsReply r;
  const auto max = static_cast<std::int64_t>(SYNC_MAX_BATCH);
  HN_TRY_ASSIGN(r.accepted, int_field(json, "accepted", 0, max));
  HN_TRY_ASSIGN(r.rejected, int_field(json, "rejected", 0, max));
  HN_TRY_ASSIGN(r.duplicates, int_field(json, "duplicates", 0, max));
  HN_TRY_ASSIGN(r.new_head_lamport, int_field(json, "new_head_lamport", 0, MAX_LAMPORT));
  if (json.contains("rejected_reasons")) {
    HN_TRY_ASSIGN(const Json* reasons, array_field(json, "rejected_reasons", SYNC_MAX_BATCH));
    for (const auto& item : *reasons) {
      HN_TRY(require_object(item, "a rejected reason"));
      HN_TRY_ASSIGN(const Json* id, field(item, "event_id"));
      HN_TRY_ASSIGN(const Json* reason, field(item, "reason"));
      if (!id->is_string() || !is_valid_ulid(id->get_ref<const std::string&>())) {
        return bad("rejected event_id is not a ULID");
      }
      if (!reason->is_string()) return bad("rejected reason must be a string");
      auto code = error_code_from_string(reason->get_ref<const std::string&>());
      r.rejected_reasons.push_back(EventRejection{EventId(id->get<std::string>()),
                                                  code.value_or(ErrorCode::internal_error)});
    }
  }
  return r;
}

// ---------------------------------------------------------------------------------------
// SyncIndex

Result<SyncIndex> SyncIndex::build(EventLog& log) {
  HN_TRY_ASSIGN(auto all, log.sync_keys());
  std::vector<SyncKey> keys;
  keys.reserve(all.stored.size() + all.pruned.size());
  // Merge the two ordered lists; a key in both (a pruned id stored again by a race) once.
  auto a = all.stored.begin();
  auto b = all.pruned.begin();
  while (a != all.stored.end() || b != all.pruned.end()) {
    const bool take_a = b == all.pruned.end() || (a != all.stored.end() && *a <= *b);
    auto& src = take_a ? a : b;
    SyncKey k{src->first, src->second.str()};
    ++src;
    if (keys.empty() || keys.back() < k) keys.push_back(std::move(k));
  }
  SyncIndex index = from_sorted_keys(std::move(keys));
  index.m_covered_seq = all.max_seq;
  return index;
}

SyncIndex SyncIndex::from_sorted_keys(std::vector<SyncKey> keys) {
  SyncIndex index;
  index.m_prefix.resize(keys.size() + 1);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    assert(i == 0 || keys[i - 1] < keys[i]);
    index.m_prefix[i + 1] = index.m_prefix[i];
    xor_into(index.m_prefix[i + 1], event_fingerprint(keys[i].lamport, keys[i].event_id));
  }
  index.m_keys = std::move(keys);
  return index;
}

std::size_t SyncIndex::lower_bound(const SyncKey& k) const {
  return static_cast<std::size_t>(std::lower_bound(m_keys.begin(), m_keys.end(), k) -
                                  m_keys.begin());
}

std::size_t SyncIndex::find(const SyncKey& k) const {
  const std::size_t p = lower_bound(k);
  return p < m_keys.size() && m_keys[p] == k ? p : m_keys.size();
}

RangeFingerprint SyncIndex::fingerprint(std::size_t begin, std::size_t end) const {
  RangeFingerprint fp;
  if (m_prefix.empty() || begin >= end) return fp;
  fp.count = static_cast<std::int64_t>(end - begin);
  fp.digest = m_prefix[end];
  xor_into(fp.digest, m_prefix[begin]);
  return fp;
}

RangeFingerprint SyncIndex::fingerprint(const SyncKey& lo, const SyncKey& hi) const {
  return fingerprint(lower_bound(lo), lower_bound(hi));
}

SyncIndexCache::SyncIndexCache(EventLog& log) : m_log(log) {
  m_subscription = m_log.subscribe([this](const Event&) { m_generation.fetch_add(1); });
}

Result<std::shared_ptr<const SyncIndex>> SyncIndexCache::get() {
  std::lock_guard lk(m_mutex);
  // Read the generation BEFORE the scan: a commit during the scan marks the index stale.
  const std::uint64_t generation = m_generation.load();
  if (m_index && generation == m_built_generation) return m_index;
  HN_TRY_ASSIGN(auto index, SyncIndex::build(m_log));
  m_index = std::make_shared<const SyncIndex>(std::move(index));
  m_built_generation = generation;
  return m_index;
}

// ---------------------------------------------------------------------------------------
// SyncServer

SyncServer::SyncServer(EventLog& log) : m_log(log), m_cache(log) {}

Status SyncServer::check_community(const CommunityId& id) const {
  if (id != m_log.community_id()) {
    return make_error(ErrorCode::wrong_community, "sync: this node syncs community " +
                                                      m_log.community_id().str() + ", not " +
                                                      id.str().substr(0, MAX_COMMUNITY_ID));
  }
  return {};
}

Result<HeadsReport> SyncServer::serve_heads() {
  HN_TRY_ASSIGN(auto index, m_cache.get());
  HeadsReport r;
  r.community_id = m_log.community_id();
  const auto fp = index->fingerprint(0, index->size());
  r.count = fp.count;
  r.fingerprint = fp.digest;
  r.head = index->size() == 0 ? 0 : index->key(index->size() - 1).lamport;
  HN_TRY_ASSIGN(r.heads_by_type, m_log.heads_by_type());
  return r;
}

Result<ReconcileReply> SyncServer::serve_reconcile(const ReconcileRequest& request) {
  HN_TRY(check_community(request.community_id));
  if (request.ranges.empty() || request.ranges.size() > SYNC_MAX_RANGES) {
    return bad("a reconcile request carries 1.." + std::to_string(SYNC_MAX_RANGES) + " ranges");
  }
  HN_TRY_ASSIGN(auto index, m_cache.get());
  ReconcileReply reply;
  reply.answers.reserve(request.ranges.size());
  std::size_t bulk_budget = SYNC_BULK_IDS;
  for (const auto& r : request.ranges) {
    if (!(r.lo < r.hi)) return bad("a range needs lo < hi");
    const std::size_t a = index->lower_bound(r.lo);
    const std::size_t b = index->lower_bound(r.hi);
    const std::size_t n = b - a;
    RangeAnswer answer;
    if (index->fingerprint(a, b) == r.fp) {
      answer.kind = RangeAnswer::Kind::equal;
    } else if (n <= SYNC_LEAF_SIZE || (r.fp.count == 0 && n <= bulk_budget)) {
      // A small range, or one the client holds nothing of: list our keys.
      if (n > SYNC_LEAF_SIZE) bulk_budget -= n;
      answer.kind = RangeAnswer::Kind::ids;
      answer.ids.reserve(n);
      for (std::size_t p = a; p < b; ++p) answer.ids.push_back(index->key(p));
    } else {
      // Split into SYNC_SPLIT_FANOUT parts of (nearly) equal key count; n > LEAF ≥ FANOUT,
      // so every part holds at least one of our keys and every inner bound is a key > lo.
      answer.kind = RangeAnswer::Kind::split;
      SyncKey lo = r.lo;
      std::size_t begin = a;
      for (std::size_t k = 1; k <= SYNC_SPLIT_FANOUT; ++k) {
        const std::size_t end = k == SYNC_SPLIT_FANOUT ? b : a + n * k / SYNC_SPLIT_FANOUT;
        SyncKey hi = k == SYNC_SPLIT_FANOUT ? r.hi : index->key(end);
        answer.parts.push_back(SyncRange{lo, hi, index->fingerprint(begin, end)});
        lo = std::move(hi);
        begin = end;
      }
    }
    reply.answers.push_back(std::move(answer));
  }
  return reply;
}

Result<FetchReply> SyncServer::serve_fetch(const FetchRequest& request) {
  HN_TRY(check_community(request.community_id));
  if (request.ids.size() > SYNC_MAX_BATCH) {
    return bad("a fetch asks for at most " + std::to_string(SYNC_MAX_BATCH) + " events");
  }
  std::vector<SyncKey> keys = request.ids;
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  HN_TRY_ASSIGN(auto index, m_cache.get());
  HN_TRY_ASSIGN(auto batch, read_by_keys(m_log, *index, keys, SYNC_MAX_BATCH_BYTES));
  FetchReply reply;
  reply.truncated = batch.consumed < keys.size();
  // Keys answered without an event: pruned ones are said so (not_found for good).
  std::size_t e = 0;
  for (std::size_t k = 0; k < batch.consumed; ++k) {
    if (e < batch.events.size() && batch.events[e].event_id.str() == keys[k].event_id) {
      ++e;
      continue;
    }
    HN_TRY_ASSIGN(bool pruned, m_log.is_pruned(EventId(keys[k].event_id)));
    if (pruned) reply.pruned.push_back(keys[k]);
  }
  reply.events = std::move(batch.events);
  return reply;
}

Result<EventsReply> SyncServer::serve_events(const EventsRequest& request,
                                             std::vector<Event>* newly_stored) {
  HN_TRY(check_community(request.community_id));
  if (request.events.size() > SYNC_MAX_BATCH) {
    return bad("a push carries at most " + std::to_string(SYNC_MAX_BATCH) + " events");
  }
  // Replay order lets an invite and join land before the new member's own events.
  std::vector<Event> events = request.events;
  std::stable_sort(events.begin(), events.end(), replay_order_less);
  HN_TRY_ASSIGN(auto batch, m_log.append_received_batch(events));
  EventsReply reply;
  reply.accepted = static_cast<std::int64_t>(batch.accepted);
  reply.rejected = static_cast<std::int64_t>(batch.rejected);
  reply.duplicates = static_cast<std::int64_t>(batch.duplicates);
  reply.new_head_lamport = batch.new_head;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!batch.results[i].has_value()) {
      reply.rejected_reasons.push_back(
          EventRejection{events[i].event_id, batch.results[i].error().code});
    } else if (newly_stored && *batch.results[i] == AppendOutcome::appended) {
      newly_stored->push_back(events[i]);
    }
  }
  return reply;
}

Result<Json> SyncServer::handle_heads() {
  HN_TRY_ASSIGN(auto r, serve_heads());
  return to_json(r);
}

Result<Json> SyncServer::handle_reconcile(const Json& body) {
  HN_TRY_ASSIGN(auto request, parse_reconcile_request(body));
  HN_TRY_ASSIGN(auto reply, serve_reconcile(request));
  return to_json(reply);
}

Result<Json> SyncServer::handle_fetch(const Json& body) {
  HN_TRY_ASSIGN(auto request, parse_fetch_request(body));
  HN_TRY_ASSIGN(auto reply, serve_fetch(request));
  return to_json(std::move(reply));
}

Result<Json> SyncServer::handle_events(const Json& body) {
  HN_TRY_ASSIGN(auto request, parse_events_request(body));
  HN_TRY_ASSIGN(auto reply, serve_events(request));
  return to_json(reply);
}

// ---------------------------------------------------------------------------------------
// InProcessSyncPeer: JSON text both ways, as on the wire.

namespace {

Result<Json> through_text(const Json& value) {
  std::string text;
  try {
    text = value.dump();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal_error,
                      std::string("sync: cannot serialise: ") + e.what());
  }
  return parse_json(text);
}

template <typename F>
Result<Json> round_trip(const Json& request, F&& handler) {
  HN_TRY_ASSIGN(auto body, through_text(request));
  HN_TRY_ASSIGN(auto reply, handler(body));
  return through_text(reply);
}

}  // namespace

Result<Json> InProcessSyncPeer::heads() {
  HN_TRY_ASSIGN(auto reply, m_server.handle_heads());
  return through_text(reply);
}

Result<Json> InProcessSyncPeer::reconcile(const Json& request) {
  return round_trip(request, [&](const Json& body) { return m_server.handle_reconcile(body); });
}

Result<Json> InProcessSyncPeer::fetch(const Json& request) {
  return round_trip(request, [&](const Json& body) { return m_server.handle_fetch(body); });
}

Result<Json> InProcessSyncPeer::push_events(const Json& request) {
  return round_trip(request, [&](const Json& body) { return m_server.handle_events(body); });
}

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
