// post.h — the marketplace's domain objects (M06 §3.1) and the strict parsers of what
// reaches the marketplace from outside: a market.post / market.expire request's input
// (CONTRACT §4.12, §4.13) and the data of market.post.created|updated|expired events that
// peers sign (CONTRACT §7.2). Every limit is checked here, with a bad_request message that
// names the field; nothing else in the service trusts a post's fields.
//
// Thread-safety: value types and pure functions.
// Invariants: a parsed PostDraft/ExpireData/UpdateData always satisfies the limits below;
// to_event_data(parse_created_data(d)) keeps every field parse_created_data read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "core/types.h"
#include "events/types.h"

namespace hn::services::market {

// M06 §3.1 Category — a fixed enum (M06 §4.5).
enum class Category { offer, request, info, emergency };
std::string_view to_string(Category c);
std::optional<Category> parse_category(std::string_view text);

// Why a post ended (CONTRACT §4.13).
enum class ExpiryReason { fulfilled, withdrawn, user_request, stale };
std::string_view to_string(ExpiryReason r);
std::optional<ExpiryReason> parse_expiry_reason(std::string_view text);

// Limits (the spec names none; doc/design/market.md says why these).
inline constexpr std::size_t MAX_CLIENT_ID = 128;  // characters of [A-Za-z0-9._:-]
inline constexpr std::size_t MAX_TITLE = 200;      // code points, at least 1
inline constexpr std::size_t MAX_BODY = 8000;      // code points
inline constexpr std::size_t MAX_TAGS = 16;
inline constexpr std::size_t MAX_TAG = 32;     // code points, at least 1
inline constexpr std::size_t MAX_LABEL = 120;  // code points
// A peer's event may carry any ttl up to this (its own config set its limit); our own
// market.post keeps to config.market.max_ttl_seconds.
inline constexpr std::int64_t HARD_MAX_TTL_SECONDS = 366LL * 86400;

// M06 §3.1 Location (advisory, display only: M06 §4.6).
struct Location {
  double lat = 0;  // -90..90
  double lng = 0;  // -180..180
  std::string label;
  bool operator==(const Location&) const = default;
};

// What a market.post.created event carries (CONTRACT §7.2).
struct PostDraft {
  std::string client_id;
  Category category = Category::offer;
  std::string title;
  std::string body;
  std::optional<Location> location;
  std::vector<std::string> tags;  // lower-cased, unique, in input order
  std::int64_t ttl_seconds = 0;
  bool operator==(const PostDraft&) const = default;
};

// M06 §3.1 Post: a created event, its updates, and the expiry that ended it.
struct Post {
  EventId event_id;  // of the .created event
  Lamport lamport = 0;
  NodeId author;
  std::string client_id;
  Category category = Category::offer;
  std::string title;
  std::string body;
  std::optional<Location> location;
  std::vector<std::string> tags;
  std::string created_at;  // the created event's wall_clock
  std::string expires_at;  // created_at + ttl
  std::int64_t expires_ms = 0;
  std::optional<EventId> expired_via_event_id;
  std::optional<ExpiryReason> expiry_reason;
  std::optional<Lamport> expired_lamport;

  bool is_expired(std::int64_t now_ms) const {
    return expired_via_event_id.has_value() || now_ms >= expires_ms;
  }
  // The CONTRACT §4.11 wire form (no client_id, no expiry fields).
  Json to_json() const;
  // Every field (the view's snapshot state).
  Json to_state() const;
  bool operator==(const Post&) const = default;
};
// Reads Post::to_state() output back; bad_request naming the field.
Result<Post> post_from_state(const Json& state);

// What a market.post.expired event carries.
struct ExpireData {
  std::string client_id;
  EventId target_event_id;
  ExpiryReason reason = ExpiryReason::stale;
};

// What a market.post.updated event carries: the fields it replaces.
struct UpdateData {
  std::string client_id;
  EventId target_event_id;
  std::optional<Category> category;
  std::optional<std::string> title;
  std::optional<std::string> body;
  std::optional<std::optional<Location>> location;  // set to null removes it
  std::optional<std::vector<std::string>> tags;
};

// market.post's input (CONTRACT §4.12): ttl_seconds defaults to default_ttl and must be
// 1..max_ttl. bad_request naming the field otherwise.
Result<PostDraft> parse_post_input(const Json& input, std::int64_t default_ttl,
                                   std::int64_t max_ttl);
// market.post.created data from the log (a peer's): the same checks, ttl 1..HARD_MAX_TTL.
Result<PostDraft> parse_created_data(const Json& data);
Json to_event_data(const PostDraft& draft);
// The Post a created event makes; bad_request when its data or wall_clock is malformed.
Result<Post> post_from_event(const events::Event& event);

// market.expire's input and market.post.expired data (both {client_id, event_id |
// target_event_id, reason}).
Result<ExpireData> parse_expire_input(const Json& input);
Result<ExpireData> parse_expired_data(const Json& data);
Json to_event_data(const ExpireData& data);

// market.post.updated data (CONTRACT §7.2): fields among category, title, body, location,
// tags, at least one.
Result<UpdateData> parse_updated_data(const Json& data);

// A client_id: 1..MAX_CLIENT_ID characters of [A-Za-z0-9._:-].
Status check_client_id(std::string_view field, const Json& value);

}  // namespace hn::services::market
