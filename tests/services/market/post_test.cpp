// post_test.cpp — the marketplace's parsers (post.h): a market.post input and a peer's
// market.post.* event data are checked field by field, with bad_request messages that
// name the field; query_words makes FTS5-safe words.
#include "services/market/post.h"

#include <gtest/gtest.h>

#include "services/market/market_view.h"

namespace hn::services::market {
namespace {

constexpr std::int64_t DAY = 86400;

Json good_input() {
  return Json{{"client_id", "c-1"},
              {"category", "request"},
              {"title", "Suche Wasserkanister, 20L"},
              {"body", "Brauche bis morgen"},
              {"location", {{"lat", 51.5}, {"lng", 6.2}, {"label", "Issum"}}},
              {"tags", {"Wasser", "notfall", "wasser"}}};
}

// The message of the bad_request that input gets, "" when it parses.
std::string refusal(const Json& input) {
  auto r = parse_post_input(input, 7 * DAY, 30 * DAY);
  if (r) return "";
  EXPECT_EQ(r.error().code, ErrorCode::bad_request);
  return r.error().message;
}

TEST(MarketPost, ParsesAValidInputWithDefaultsAndNormalisedTags) {
  auto d = parse_post_input(good_input(), 7 * DAY, 30 * DAY);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->category, Category::request);
  EXPECT_EQ(d->ttl_seconds, 7 * DAY);  // config's default
  EXPECT_EQ(d->tags, (std::vector<std::string>{"wasser", "notfall"}));
  ASSERT_TRUE(d->location);
  EXPECT_EQ(d->location->label, "Issum");
  // What goes into the event reads back the same.
  auto again = parse_created_data(to_event_data(*d));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *d);
}

TEST(MarketPost, RefusesBadFieldsNamingThem) {
  auto with = [](const char* key, Json value) {
    Json j = good_input();
    j[key] = std::move(value);
    return j;
  };
  Json no_title = good_input();
  no_title.erase("title");
  EXPECT_NE(refusal(no_title).find("title is required"), std::string::npos);
  EXPECT_NE(refusal(with("title", "")).find("title must be 1..200"), std::string::npos);
  EXPECT_NE(refusal(with("title", std::string(201, 'x'))).find("(got 201)"), std::string::npos);
  EXPECT_NE(refusal(with("title", "a\x01")).find("control"), std::string::npos);
  EXPECT_NE(refusal(with("body", std::string(8001, 'x'))).find("body must be 0..8000"),
            std::string::npos);
  EXPECT_NE(refusal(with("category", "sale")).find("category must be"), std::string::npos);
  EXPECT_NE(refusal(with("ttl_seconds", 31 * DAY)).find("ttl_seconds must be 1..2592000"),
            std::string::npos);
  EXPECT_NE(refusal(with("ttl_seconds", 0)).find("ttl_seconds"), std::string::npos);
  EXPECT_NE(refusal(with("ttl_seconds", 1.5)).find("whole number"), std::string::npos);
  EXPECT_NE(refusal(with("location", {{"lat", 91}, {"lng", 0}})).find("location.lat"),
            std::string::npos);
  EXPECT_NE(refusal(with("location", {{"lat", 1}})).find("location.lng"), std::string::npos);
  EXPECT_NE(refusal(with("location", {{"lat", 1}, {"lng", 1}, {"x", 1}})).find("location: unknown"),
            std::string::npos);
  EXPECT_NE(refusal(with("tags", Json::array({"a b"}))).find("tags"), std::string::npos);
  EXPECT_NE(refusal(with("tags", Json(std::vector<std::string>(17, "t")))).find("at most 16"),
            std::string::npos);
  EXPECT_NE(refusal(with("tags", "wasser")).find("tags must be an array"), std::string::npos);
  EXPECT_NE(refusal(with("client_id", "")).find("client_id"), std::string::npos);
  EXPECT_NE(refusal(with("client_id", "a b")).find("client_id"), std::string::npos);
  EXPECT_NE(refusal(with("colour", "red")).find("unknown field \"colour\""), std::string::npos);
  EXPECT_EQ(refusal(with("location", nullptr)), "");  // no location is fine
}

TEST(MarketPost, PeerDataNeedsTtlAndAcceptsUnknownFields) {
  Json data = to_event_data(*parse_post_input(good_input(), DAY, DAY));
  data["future_field"] = 1;  // a later minor version
  EXPECT_TRUE(parse_created_data(data));
  data.erase("ttl_seconds");
  EXPECT_FALSE(parse_created_data(data));
  EXPECT_FALSE(parse_created_data(Json::array()));
}

TEST(MarketPost, ExpireAndUpdateData) {
  const std::string id = "01HXR0000000000000000000AA";
  auto e = parse_expire_input(Json{{"client_id", "x"}, {"event_id", id}, {"reason", "fulfilled"}});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->reason, ExpiryReason::fulfilled);
  EXPECT_FALSE(parse_expire_input(Json{{"client_id", "x"}, {"event_id", id}, {"reason", "bored"}}));
  EXPECT_FALSE(
      parse_expire_input(Json{{"client_id", "x"}, {"event_id", "nope"}, {"reason", "stale"}}));
  auto back = parse_expired_data(to_event_data(*e));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->target_event_id.str(), id);
  auto u = parse_updated_data(
      Json{{"client_id", "u"}, {"target_event_id", id}, {"fields", {{"body", "new"}}}});
  ASSERT_TRUE(u);
  EXPECT_EQ(u->body, "new");
  EXPECT_FALSE(parse_updated_data(
      Json{{"client_id", "u"}, {"target_event_id", id}, {"fields", Json::object()}}));
  EXPECT_FALSE(parse_updated_data(
      Json{{"client_id", "u"}, {"target_event_id", id}, {"fields", {{"author", "me"}}}}));
}

TEST(MarketPost, QueryWordsAreFtsSafe) {
  EXPECT_EQ(query_words("Wasser \"notfall\" OR kanister* -x NEAR(a)"),
            (std::vector<std::string>{"wasser", "notfall", "or", "kanister", "x", "near", "a"}));
  EXPECT_TRUE(query_words("\"*()^-").empty());
  EXPECT_EQ(query_words("a a b"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(query_words("a b c d e f g h i j k l m n o p q r s").size(), 16u);
}

}  // namespace
}  // namespace hn::services::market
