// sync_codec.cpp — sync's keys and its JSON codec: to_json for the wire, parse_* for a peer's
// bytes, bad_request on anything malformed, never a throw (sync.h).
#include "events/sync.h"

#include <algorithm>
#include <limits>
#include <string_view>

#include "core/encoding.h"
#include "core/ulid.h"
#include "events/detail/sync_common.h"

namespace hn::events {
namespace {

using detail::bad;
using detail::MAX_COMMUNITY_ID;

// Longest event id in a range bound (a ULID is 26 characters).
constexpr std::size_t MAX_BOUND_ID = 64;
// Largest count a fingerprint may claim (CONTRACT §1.1: integers fit in 53 bits).
constexpr std::int64_t MAX_COUNT = MAX_LAMPORT;

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

}  // namespace hn::events
