// post.cpp — the marketplace's domain objects and their strict parsers.
#include "services/market/post.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/time.h"
#include "core/ulid.h"

namespace hn::services::market {
namespace {

constexpr std::array<std::string_view, 4> CATEGORY_NAMES = {"offer", "request", "info",
                                                            "emergency"};
constexpr std::array<std::string_view, 4> REASON_NAMES = {"fulfilled", "withdrawn", "user_request",
                                                          "stale"};

Error bad(std::string message) { return make_error(ErrorCode::bad_request, std::move(message)); }

// Code points of valid UTF-8 (nlohmann only holds valid UTF-8 strings).
std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool has_control(std::string_view s, bool allow_newlines) {
  return std::any_of(s.begin(), s.end(), [&](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    if (allow_newlines && (c == '\n' || c == '\t' || c == '\r')) return false;
    return c < 0x20 || c == 0x7F;
  });
}

// A string field of `obj` with 1..max (or 0..max) code points, no control characters.
Result<std::string> text_field(const Json& obj, std::string_view field, std::size_t max,
                               bool required, bool allow_empty, bool allow_newlines) {
  const auto it = obj.find(std::string(field));
  if (it == obj.end() || it->is_null()) {
    if (required) return bad(std::string(field) + " is required");
    return std::string();
  }
  if (!it->is_string()) return bad(std::string(field) + " must be a string");
  const auto& s = it->get_ref<const std::string&>();
  const std::size_t n = code_points(s);
  if ((!allow_empty && n == 0) || n > max) {
    return bad(std::string(field) + " must be " + (allow_empty ? "0" : "1") + ".." +
               std::to_string(max) + " characters (got " + std::to_string(n) + ")");
  }
  if (has_control(s, allow_newlines))
    return bad(std::string(field) + " must not hold control characters");
  return s;
}

Result<Category> category_field(const Json& obj) {
  const auto it = obj.find("category");
  if (it == obj.end() || !it->is_string())
    return bad("category is required: offer | request | info | emergency");
  auto c = parse_category(it->get_ref<const std::string&>());
  if (!c)
    return bad("category must be offer | request | info | emergency (got \"" +
               it->get<std::string>() + "\")");
  return *c;
}

Result<std::vector<std::string>> tags_value(const Json& value) {
  if (!value.is_array()) return bad("tags must be an array of strings");
  if (value.size() > MAX_TAGS)
    return bad("tags: at most " + std::to_string(MAX_TAGS) + " (got " +
               std::to_string(value.size()) + ")");
  std::vector<std::string> tags;
  for (const auto& t : value) {
    if (!t.is_string()) return bad("tags must be an array of strings");
    std::string tag = t.get<std::string>();
    std::transform(tag.begin(), tag.end(), tag.begin(), [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
    const std::size_t n = code_points(tag);
    if (n == 0 || n > MAX_TAG)
      return bad("tags: each tag must be 1.." + std::to_string(MAX_TAG) + " characters");
    if (std::any_of(tag.begin(), tag.end(), [](char ch) {
          const auto c = static_cast<unsigned char>(ch);
          return c <= 0x20 || c == 0x7F || c == '"';
        })) {
      return bad("tags: \"" + tag + "\" holds a space, a quote or a control character");
    }
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(std::move(tag));
  }
  return tags;
}

Result<std::optional<Location>> location_value(const Json& value) {
  if (value.is_null()) return std::optional<Location>();
  if (!value.is_object()) return bad("location must be an object {lat, lng, label}");
  for (const auto& [key, v] : value.items()) {
    if (key != "lat" && key != "lng" && key != "label")
      return bad("location: unknown field \"" + key + "\"");
  }
  const auto number = [&](const char* key, double lo, double hi) -> Result<double> {
    const auto it = value.find(key);
    if (it == value.end() || !it->is_number())
      return bad(std::string("location.") + key + " must be a number");
    const double d = it->get<double>();
    if (!std::isfinite(d) || d < lo || d > hi) {
      return bad(std::string("location.") + key + " must be within " +
                 std::to_string(static_cast<int>(lo)) + ".." +
                 std::to_string(static_cast<int>(hi)));
    }
    return d;
  };
  Location loc;
  HN_TRY_ASSIGN(auto lat, number("lat", -90, 90));
  HN_TRY_ASSIGN(auto lng, number("lng", -180, 180));
  loc.lat = lat;
  loc.lng = lng;
  const Json& obj = value;
  auto label = text_field(obj, "label", MAX_LABEL, false, true, false);
  if (!label) return bad("location." + label.error().message);
  loc.label = std::move(*label);
  return std::optional<Location>(std::move(loc));
}

Result<std::int64_t> ttl_value(const Json& obj, std::int64_t fallback, std::int64_t max) {
  const auto it = obj.find("ttl_seconds");
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) return bad("ttl_seconds must be a whole number of seconds");
  const auto ttl = it->get<std::int64_t>();
  if (ttl < 1 || ttl > max) {
    return bad("ttl_seconds must be 1.." + std::to_string(max) + " (got " + std::to_string(ttl) +
               ")");
  }
  return ttl;
}

Result<PostDraft> parse_draft(const Json& obj, std::int64_t default_ttl, std::int64_t max_ttl,
                              bool strict) {
  if (!obj.is_object()) return bad("input must be an object");
  if (strict) {
    static constexpr std::array<std::string_view, 7> KNOWN = {
        "client_id", "category", "title", "body", "location", "tags", "ttl_seconds"};
    for (const auto& [key, v] : obj.items()) {
      if (std::find(KNOWN.begin(), KNOWN.end(), key) == KNOWN.end())
        return bad("unknown field \"" + key + "\"");
    }
  }
  PostDraft d;
  HN_TRY(check_client_id("client_id", obj.contains("client_id") ? obj["client_id"] : Json()));
  d.client_id = obj["client_id"].get<std::string>();
  HN_TRY_ASSIGN(auto category, category_field(obj));
  d.category = category;
  HN_TRY_ASSIGN(auto title, text_field(obj, "title", MAX_TITLE, true, false, false));
  d.title = std::move(title);
  HN_TRY_ASSIGN(auto body, text_field(obj, "body", MAX_BODY, false, true, true));
  d.body = std::move(body);
  if (auto it = obj.find("location"); it != obj.end()) {
    HN_TRY_ASSIGN(auto loc, location_value(*it));
    d.location = std::move(loc);
  }
  if (auto it = obj.find("tags"); it != obj.end() && !it->is_null()) {
    HN_TRY_ASSIGN(auto tags, tags_value(*it));
    d.tags = std::move(tags);
  }
  HN_TRY_ASSIGN(auto ttl, ttl_value(obj, default_ttl, max_ttl));
  d.ttl_seconds = ttl;
  return d;
}

Result<EventId> event_id_field(const Json& obj, const char* field) {
  const auto it = obj.find(field);
  if (it == obj.end() || !it->is_string() || !is_valid_ulid(it->get_ref<const std::string&>())) {
    return bad(std::string(field) + " must be an event id (ULID)");
  }
  return EventId(it->get<std::string>());
}

Result<ExpireData> parse_expire(const Json& obj, const char* target_field) {
  if (!obj.is_object()) return bad("input must be an object");
  ExpireData e;
  HN_TRY(check_client_id("client_id", obj.contains("client_id") ? obj["client_id"] : Json()));
  e.client_id = obj["client_id"].get<std::string>();
  HN_TRY_ASSIGN(auto target, event_id_field(obj, target_field));
  e.target_event_id = std::move(target);
  const auto it = obj.find("reason");
  std::optional<ExpiryReason> reason;
  if (it != obj.end() && it->is_string())
    reason = parse_expiry_reason(it->get_ref<const std::string&>());
  if (!reason) return bad("reason must be fulfilled | withdrawn | user_request | stale");
  e.reason = *reason;
  return e;
}

Json location_json(const std::optional<Location>& loc) {
  if (!loc) return nullptr;
  return Json{{"lat", loc->lat}, {"lng", loc->lng}, {"label", loc->label}};
}

}  // namespace

std::string_view to_string(Category c) { return CATEGORY_NAMES[static_cast<std::size_t>(c)]; }

std::optional<Category> parse_category(std::string_view text) {
  for (std::size_t i = 0; i < CATEGORY_NAMES.size(); ++i) {
    if (CATEGORY_NAMES[i] == text) return static_cast<Category>(i);
  }
  return std::nullopt;
}

std::string_view to_string(ExpiryReason r) { return REASON_NAMES[static_cast<std::size_t>(r)]; }

std::optional<ExpiryReason> parse_expiry_reason(std::string_view text) {
  for (std::size_t i = 0; i < REASON_NAMES.size(); ++i) {
    if (REASON_NAMES[i] == text) return static_cast<ExpiryReason>(i);
  }
  return std::nullopt;
}

Status check_client_id(std::string_view field, const Json& value) {
  if (!value.is_string())
    return bad(std::string(field) + " is required (a caller-made id, e.g. a ULID)");
  const auto& s = value.get_ref<const std::string&>();
  const bool ok =
      !s.empty() && s.size() <= MAX_CLIENT_ID && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.' || c == ':';
      });
  if (!ok) {
    return bad(std::string(field) + " must be 1.." + std::to_string(MAX_CLIENT_ID) +
               " characters of [A-Za-z0-9._:-]");
  }
  return {};
}

Json Post::to_json() const {
  Json j{{"event_id", event_id.str()},
         {"lamport", lamport},
         {"author", author.str()},
         {"category", to_string(category)},
         {"title", title},
         {"body", body},
         {"tags", tags},
         {"created_at", created_at},
         {"expires_at", expires_at}};
  if (location) j["location"] = location_json(location);
  return j;
}

Json Post::to_state() const {
  Json j = to_json();
  j["client_id"] = client_id;
  j["expires_ms"] = expires_ms;
  if (expired_via_event_id) {
    j["expired_via_event_id"] = expired_via_event_id->str();
    j["expiry_reason"] = to_string(*expiry_reason);
    j["expired_lamport"] = expired_lamport.value_or(0);
  }
  return j;
}

Result<Post> post_from_state(const Json& s) {
  if (!s.is_object()) return bad("post state must be an object");
  try {
    Post p;
    HN_TRY_ASSIGN(auto id, event_id_field(s, "event_id"));
    p.event_id = std::move(id);
    p.lamport = s.at("lamport").get<Lamport>();
    p.author = NodeId(s.at("author").get<std::string>());
    HN_TRY_ASSIGN(auto draft, parse_draft(s, 1, HARD_MAX_TTL_SECONDS, false));
    p.client_id = std::move(draft.client_id);
    p.category = draft.category;
    p.title = std::move(draft.title);
    p.body = std::move(draft.body);
    p.location = std::move(draft.location);
    p.tags = std::move(draft.tags);
    p.created_at = s.at("created_at").get<std::string>();
    p.expires_at = s.at("expires_at").get<std::string>();
    p.expires_ms = s.at("expires_ms").get<std::int64_t>();
    if (s.contains("expired_via_event_id")) {
      HN_TRY_ASSIGN(auto via, event_id_field(s, "expired_via_event_id"));
      p.expired_via_event_id = std::move(via);
      p.expiry_reason = parse_expiry_reason(s.at("expiry_reason").get<std::string>());
      if (!p.expiry_reason) return bad("post state: bad expiry_reason");
      p.expired_lamport = s.at("expired_lamport").get<Lamport>();
    }
    return p;
  } catch (const std::exception& e) {
    return bad(std::string("post state: ") + e.what());
  }
}

Result<PostDraft> parse_post_input(const Json& input, std::int64_t default_ttl,
                                   std::int64_t max_ttl) {
  return parse_draft(input, default_ttl, max_ttl, true);
}

Result<PostDraft> parse_created_data(const Json& data) {
  // A peer's event: no default ttl (it is always written), unknown fields ignored (a later
  // minor version may add some).
  if (!data.is_object() || !data.contains("ttl_seconds")) return bad("ttl_seconds is required");
  return parse_draft(data, 0, HARD_MAX_TTL_SECONDS, false);
}

Json to_event_data(const PostDraft& d) {
  Json j{{"client_id", d.client_id}, {"category", to_string(d.category)},
         {"title", d.title},         {"body", d.body},
         {"tags", d.tags},           {"ttl_seconds", d.ttl_seconds}};
  if (d.location) j["location"] = location_json(d.location);
  return j;
}

Result<Post> post_from_event(const events::Event& event) {
  if (event.event_type != events::EventType::market_post_created)
    return bad("not a market.post.created event");
  HN_TRY_ASSIGN(auto draft, parse_created_data(event.data));
  const auto created_ms = parse_rfc3339_ms(event.wall_clock);
  if (!created_ms) return bad("wall_clock is not an RFC 3339 time");
  Post p;
  p.event_id = event.event_id;
  p.lamport = event.lamport;
  p.author = event.author;
  p.client_id = std::move(draft.client_id);
  p.category = draft.category;
  p.title = std::move(draft.title);
  p.body = std::move(draft.body);
  p.location = std::move(draft.location);
  p.tags = std::move(draft.tags);
  p.created_at = event.wall_clock;
  p.expires_ms = *created_ms + draft.ttl_seconds * 1000;
  p.expires_at = format_rfc3339(p.expires_ms / 1000);
  return p;
}

Result<ExpireData> parse_expire_input(const Json& input) { return parse_expire(input, "event_id"); }
Result<ExpireData> parse_expired_data(const Json& data) {
  return parse_expire(data, "target_event_id");
}

Json to_event_data(const ExpireData& e) {
  return Json{{"client_id", e.client_id},
              {"target_event_id", e.target_event_id.str()},
              {"reason", to_string(e.reason)}};
}

Result<UpdateData> parse_updated_data(const Json& data) {
  if (!data.is_object()) return bad("data must be an object");
  UpdateData u;
  HN_TRY(check_client_id("client_id", data.contains("client_id") ? data["client_id"] : Json()));
  u.client_id = data["client_id"].get<std::string>();
  HN_TRY_ASSIGN(auto target, event_id_field(data, "target_event_id"));
  u.target_event_id = std::move(target);
  const auto fit = data.find("fields");
  if (fit == data.end() || !fit->is_object() || fit->empty())
    return bad("fields must be a non-empty object");
  const Json& f = *fit;
  for (const auto& [key, v] : f.items()) {
    if (key == "category") {
      HN_TRY_ASSIGN(auto c, category_field(f));
      u.category = c;
    } else if (key == "title") {
      HN_TRY_ASSIGN(auto t, text_field(f, "title", MAX_TITLE, true, false, false));
      u.title = std::move(t);
    } else if (key == "body") {
      HN_TRY_ASSIGN(auto b, text_field(f, "body", MAX_BODY, true, true, true));
      u.body = std::move(b);
    } else if (key == "location") {
      HN_TRY_ASSIGN(auto l, location_value(v));
      u.location = std::move(l);
    } else if (key == "tags") {
      HN_TRY_ASSIGN(auto t, tags_value(v));
      u.tags = std::move(t);
    } else {
      return bad("fields: \"" + key + "\" cannot be updated");
    }
  }
  return u;
}

}  // namespace hn::services::market
