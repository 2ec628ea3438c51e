// types.cpp — event envelope JSON, strict parsing and signatures (see types.h).
#include "events/types.h"

#include <algorithm>
#include <type_traits>

#include "core/encoding.h"
#include "core/time.h"
#include "core/ulid.h"

namespace hn::events {
namespace {

constexpr std::array<std::string_view, EVENT_TYPE_COUNT> TYPE_NAMES = {
    "community.created",       "community.member.invited", "community.member.joined",
    "community.member.revoked", "community.member.promoted", "community.member.demoted",
    "community.policy.updated", "node.manifest.updated",    "market.post.created",
    "market.post.updated",     "market.post.expired",      "chat.message.sent",
    "chat.message.delivered",  "chat.message.read",        "file.cid.advertised",
    "file.cid.unpinned",       "rag.document.ingested",    "federation.peer.added",
    "federation.peer.removed",
};

constexpr std::array<std::string_view, 9> ENVELOPE_FIELDS = {
    "schema_version", "event_id", "lamport", "wall_clock", "community_id",
    "author",         "event_type", "data",  "signature",
};

// Longest community id accepted (a full node id is 51 characters).
constexpr std::size_t MAX_COMMUNITY_ID = 128;

Error bad(std::string msg) { return make_error(ErrorCode::bad_request, "event: " + std::move(msg)); }

Json envelope_without_signature(const Event& e) {
  return Json{
      {"schema_version", e.schema_version},
      {"event_id", e.event_id.str()},
      {"lamport", e.lamport},
      {"wall_clock", e.wall_clock},
      {"community_id", e.community_id.str()},
      {"author", e.author.str()},
      {"event_type", std::string(to_string(e.event_type))},
      {"data", e.data},
  };
}

// A field that must be a string.
Result<std::string> string_field(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return bad(std::string("missing field '") + key + "'");
  if (!it->is_string()) return bad(std::string("field '") + key + "' must be a string");
  return it->get<std::string>();
}

// A field that must be a JSON integer (no floats, no booleans) in [lo, hi].
Result<std::int64_t> int_field(const Json& j, const char* key, std::int64_t lo, std::int64_t hi) {
  auto it = j.find(key);
  if (it == j.end()) return bad(std::string("missing field '") + key + "'");
  std::int64_t v = 0;
  if (it->is_number_unsigned()) {
    const auto u = it->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(hi)) return bad(std::string("field '") + key + "' out of range");
    v = static_cast<std::int64_t>(u);
  } else if (it->is_number_integer()) {
    v = it->get<std::int64_t>();
  } else {
    return bad(std::string("field '") + key + "' must be an integer");
  }
  if (v < lo || v > hi) return bad(std::string("field '") + key + "' out of range");
  return v;
}

}  // namespace

const std::array<EventType, EVENT_TYPE_COUNT>& all_event_types() {
  static const auto types = [] {
    std::array<EventType, EVENT_TYPE_COUNT> out{};
    for (std::size_t i = 0; i < EVENT_TYPE_COUNT; ++i) out[i] = static_cast<EventType>(i);
    return out;
  }();
  return types;
}

std::string_view to_string(EventType type) {
  const auto i = static_cast<std::size_t>(type);
  return i < TYPE_NAMES.size() ? TYPE_NAMES[i] : std::string_view("unknown");
}

std::optional<EventType> parse_event_type(std::string_view text) {
  for (std::size_t i = 0; i < TYPE_NAMES.size(); ++i) {
    if (TYPE_NAMES[i] == text) return static_cast<EventType>(i);
  }
  return std::nullopt;
}

bool Event::operator==(const Event& o) const {
  return schema_version == o.schema_version && event_id == o.event_id && lamport == o.lamport &&
         wall_clock == o.wall_clock && community_id == o.community_id && author == o.author &&
         event_type == o.event_type && data == o.data && signature == o.signature;
}

Json to_json(const Event& event) {
  Json j = envelope_without_signature(event);
  j["signature"] = event.signature;
  return j;
}

Json to_json(Event&& event) {
  Json j = Json::object();
  j["schema_version"] = event.schema_version;
  j["event_id"] = std::move(event.event_id).str();
  j["lamport"] = event.lamport;
  j["wall_clock"] = std::move(event.wall_clock);
  j["community_id"] = std::move(event.community_id).str();
  j["author"] = std::move(event.author).str();
  j["event_type"] = std::string(to_string(event.event_type));
  j["data"] = std::move(event.data);
  j["signature"] = std::move(event.signature);
  return j;
}

namespace {

// parse_event for a const envelope (data copied) or one it may take from (data moved).
template <typename J>
Result<Event> parse_event_from(J& json) {
  if (!json.is_object()) return bad("envelope is not a JSON object");
  for (const auto& item : json.items()) {
    if (std::find(ENVELOPE_FIELDS.begin(), ENVELOPE_FIELDS.end(), item.key()) == ENVELOPE_FIELDS.end()) {
      return bad("unknown field '" + item.key().substr(0, 64) + "'");
    }
  }
  Event e;
  HN_TRY_ASSIGN(auto version, int_field(json, "schema_version", 0, INT32_MAX));
  if (version != EVENT_SCHEMA_VERSION) {
    return make_error(ErrorCode::schema_unknown,
                      "event: schema_version " + std::to_string(version) + " is not supported");
  }
  e.schema_version = static_cast<int>(version);

  HN_TRY_ASSIGN(auto type_text, string_field(json, "event_type"));
  auto type = parse_event_type(type_text);
  if (!type) {
    return make_error(ErrorCode::schema_unknown,
                      "event: unknown event_type '" + type_text.substr(0, 64) + "'");
  }
  e.event_type = *type;

  HN_TRY_ASSIGN(auto id, string_field(json, "event_id"));
  if (!is_valid_ulid(id)) return bad("event_id is not a ULID");
  e.event_id = EventId(std::move(id));

  HN_TRY_ASSIGN(e.lamport, int_field(json, "lamport", 0, MAX_LAMPORT));

  HN_TRY_ASSIGN(e.wall_clock, string_field(json, "wall_clock"));
  if (!parse_rfc3339_ms(e.wall_clock)) return bad("wall_clock is not RFC 3339 UTC");

  HN_TRY_ASSIGN(auto community, string_field(json, "community_id"));
  if (community.empty() || community.size() > MAX_COMMUNITY_ID) return bad("community_id is empty or too long");
  e.community_id = CommunityId(std::move(community));

  HN_TRY_ASSIGN(auto author, string_field(json, "author"));
  if (!identity::parse_node_id(author)) return bad("author is not a full node id");
  e.author = NodeId(std::move(author));

  auto data = json.find("data");
  if (data == json.end()) return bad("missing field 'data'");
  if (!data->is_object()) return bad("field 'data' must be an object");
  if constexpr (std::is_const_v<J>) {
    e.data = *data;
  } else {
    e.data = std::move(*data);
  }

  HN_TRY_ASSIGN(e.signature, string_field(json, "signature"));
  return e;
}

}  // namespace

Result<Event> parse_event(const Json& json) { return parse_event_from(json); }

Result<Event> parse_event(Json&& json) { return parse_event_from(json); }

Status validate_event(const Event& e) {
  if (e.schema_version != EVENT_SCHEMA_VERSION) {
    return make_error(ErrorCode::schema_unknown,
                      "event: schema_version " + std::to_string(e.schema_version) + " is not supported");
  }
  if (static_cast<std::size_t>(e.event_type) >= EVENT_TYPE_COUNT) {
    return make_error(ErrorCode::schema_unknown, "event: unknown event type");
  }
  if (!is_valid_ulid(e.event_id.str())) return bad("event_id is not a ULID");
  if (e.lamport < 0 || e.lamport > MAX_LAMPORT) return bad("lamport out of range");
  if (!parse_rfc3339_ms(e.wall_clock)) return bad("wall_clock is not RFC 3339 UTC");
  if (e.community_id.empty() || e.community_id.str().size() > MAX_COMMUNITY_ID) {
    return bad("community_id is empty or too long");
  }
  if (!identity::parse_node_id(e.author.str())) return bad("author is not a full node id");
  if (!e.data.is_object()) return bad("data must be an object");
  return {};
}

Result<std::string> signing_bytes(const Event& e) {
  auto data = try_canonical_json(e.data);
  if (!data) return make_error(ErrorCode::bad_request, "event data has no canonical form");
  return signing_bytes(e, *data);
}

std::string signing_bytes(const Event& e, std::string_view canonical_data) {
  // canonical_json(envelope_without_signature(e)), written directly: the keys are ASCII and
  // listed here in RFC 8785 order, and data arrives canonical, so nothing is copied into a
  // temporary object.
  std::string out;
  out.reserve(canonical_data.size() + 256);
  out += "{\"author\":";
  append_json_string(out, e.author.str());
  out += ",\"community_id\":";
  append_json_string(out, e.community_id.str());
  out += ",\"data\":";
  out += canonical_data;
  out += ",\"event_id\":";
  append_json_string(out, e.event_id.str());
  out += ",\"event_type\":";
  append_json_string(out, to_string(e.event_type));
  out += ",\"lamport\":";
  out += std::to_string(e.lamport);
  out += ",\"schema_version\":";
  out += std::to_string(e.schema_version);
  out += ",\"wall_clock\":";
  append_json_string(out, e.wall_clock);
  out += '}';
  return out;
}

Status sign_event(Event& event, const identity::KeyPair& keys) {
  if (event.author != keys.node_id()) {
    return make_error(ErrorCode::sign_failed, "event author is not the signing key's node id");
  }
  auto bytes = signing_bytes(event);
  if (!bytes) return make_error(ErrorCode::sign_failed, bytes.error().message);
  event.signature = keys.sign_bytes(as_bytes(*bytes));
  return {};
}

Status verify_event_signature(const Event& event) {
  auto data = try_canonical_json(event.data);
  if (!data) return make_error(ErrorCode::invalid_signature, "event has no canonical form");
  return verify_event_signature(event, *data);
}

Status verify_event_signature(const Event& event, std::string_view canonical_data) {
  auto key = identity::parse_node_id(event.author.str());
  if (!key) return make_error(ErrorCode::invalid_signature, "event author is not a node id");
  const std::string bytes = signing_bytes(event, canonical_data);
  return identity::verify_bytes(as_bytes(bytes), event.signature, *key);
}

}  // namespace hn::events
