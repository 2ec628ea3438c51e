// types_test.cpp — event envelope, type catalogue, parsing and signatures (CONTRACT §7.1,
// §7.2, §1.3).
#include "events/types.h"

#include <set>

#include <gtest/gtest.h>

#include "core/file_util.h"
#include "events_test_util.h"

namespace hn::events {
namespace {

using test::key_from_byte;
using test::make_signed;

TEST(EventTypes, NineteenCanonicalTypesRoundTrip) {
  EXPECT_EQ(all_event_types().size(), 19u);
  std::set<std::string_view> names;
  for (auto t : all_event_types()) {
    names.insert(to_string(t));
    EXPECT_EQ(parse_event_type(to_string(t)), t);
  }
  EXPECT_EQ(names.size(), 19u);
  EXPECT_EQ(to_string(EventType::community_member_joined), "community.member.joined");
  EXPECT_EQ(to_string(EventType::federation_peer_removed), "federation.peer.removed");
  EXPECT_FALSE(parse_event_type("market.post.deleted"));
}

TEST(EventTypes, EnvelopeUsesContractFieldNames) {
  auto keys = key_from_byte(7);
  auto e = make_signed(keys, CommunityId("ed25519:c"), EventType::market_post_created, 4218,
                       Json{{"title", "Bohrmaschine"}});
  Json j = to_json(e);
  for (const char* f : {"schema_version", "event_id", "lamport", "wall_clock", "community_id", "author",
                        "event_type", "data", "signature"}) {
    EXPECT_TRUE(j.contains(f)) << f;
  }
  EXPECT_EQ(j.size(), 9u);
  EXPECT_EQ(j["event_type"], "market.post.created");
  EXPECT_EQ(j["schema_version"], 1);
  auto back = parse_event(j);
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(*back, e);
  EXPECT_TRUE(verify_event_signature(*back).has_value());
}

// signing_bytes writes the envelope directly; it must equal the canonical JSON of the
// envelope without its signature (X02 §5.1) for any data, including escapes and keys
// outside ASCII.
TEST(EventTypes, SigningBytesAreTheCanonicalEnvelope) {
  auto keys = key_from_byte(7);
  for (const Json& data :
       {Json::object(), Json{{"title", "Bohrmaschine \"neu\"\n\ttab\u0001"}},
        Json{{"\u20ac", 1}, {"\U0001F600", 2}, {"\uE000", 3}, {"a", Json::array({1.5, -0.0, 1e21})}},
        Json{{"nested", {{"z", true}, {"\u00e9", nullptr}, {"b", {{"y", 1}, {"x", 2}}}}}}}) {
    auto e = make_signed(keys, CommunityId("ed25519:c\"q"), EventType::market_post_created, 4218, data);
    Json envelope = to_json(e);
    envelope.erase("signature");
    auto bytes = signing_bytes(e);
    ASSERT_TRUE(bytes.has_value());
    EXPECT_EQ(*bytes, canonical_json(envelope)) << data.dump();
    EXPECT_TRUE(verify_event_signature(e).has_value());
  }
}

TEST(EventTypes, ParseRejectsMistypedFields) {
  auto keys = key_from_byte(7);
  Json good = to_json(make_signed(keys, CommunityId("c"), EventType::chat_message_sent, 3, Json::object()));
  auto expect_code = [&](Json j, ErrorCode code) {
    auto r = parse_event(j);
    ASSERT_FALSE(r.has_value()) << j.dump();
    EXPECT_EQ(r.error().code, code) << j.dump() << " " << r.error().to_string();
  };
  expect_code(Json::array(), ErrorCode::bad_request);
  for (const char* f : {"event_id", "lamport", "wall_clock", "community_id", "author", "data", "signature"}) {
    Json j = good;
    j.erase(f);
    expect_code(j, ErrorCode::bad_request);
  }
  Json j = good;
  j["lamport"] = "3";
  expect_code(j, ErrorCode::bad_request);
  j = good;
  j["lamport"] = 3.5;
  expect_code(j, ErrorCode::bad_request);
  j = good;
  j["lamport"] = -1;
  expect_code(j, ErrorCode::bad_request);
  j = good;
  j["lamport"] = std::uint64_t{1} << 60;
  expect_code(j, ErrorCode::bad_request);
  j = good;
  j["data"] = Json::array();
  expect_code(j, ErrorCode::bad_request);
  j = good;
  j["event_id"] = "not-a-ulid";
  expect_code(j, ErrorCode::bad_request);
  j = good;
  j["author"] = "ed25519:short";
  expect_code(j, ErrorCode::bad_request);
  j = good;
  j["wall_clock"] = "yesterday";
  expect_code(j, ErrorCode::bad_request);
  j = good;
  j["extra"] = 1;
  expect_code(j, ErrorCode::bad_request);
  j = good;
  j["event_type"] = "market.post.deleted";
  expect_code(j, ErrorCode::schema_unknown);
  j = good;
  j["schema_version"] = 2;
  expect_code(j, ErrorCode::schema_unknown);
}

// One flipped byte anywhere in a serialised event never yields an accepted event: it is
// either unparseable (typed error) or fails the signature check.
TEST(EventTypes, EveryFlippedByteIsRejected) {
  auto keys = key_from_byte(9);
  auto e = make_signed(keys, CommunityId("ed25519:c"), EventType::market_post_created, 12,
                       Json{{"title", "Leiter"}, {"n", 2}});
  const std::string text = canonical_json(to_json(e));
  int signature_failures = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::string bad = text;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto json = parse_json(bad);
    if (!json) continue;
    auto parsed = parse_event(*json);
    if (!parsed) continue;
    auto verified = verify_event_signature(*parsed);
    ASSERT_FALSE(verified.has_value()) << "flip at " << i << " accepted: " << bad;
    EXPECT_EQ(verified.error().code, ErrorCode::invalid_signature);
    ++signature_failures;
  }
  EXPECT_GT(signature_failures, 50);
}

TEST(EventTypes, FlippedDataByteIsInvalidSignature) {
  auto keys = key_from_byte(9);
  auto e = make_signed(keys, CommunityId("c"), EventType::chat_message_sent, 1, Json{{"body", "hallo"}});
  e.data["body"] = "hallp";
  auto r = verify_event_signature(e);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_signature);
}

// The fuzz seeds (fuzz/corpus/event_decode/) are what their names say.
TEST(EventTypes, FuzzSeedsBehaveAsNamed) {
  const auto corpus = hn::test::source_dir() / "fuzz" / "corpus" / "event_decode";
  auto load = [&](const char* name) { return read_file(corpus / name).value(); };
  auto valid = parse_event(*parse_json(load("valid_signed_event.json")));
  ASSERT_TRUE(valid.has_value());
  EXPECT_TRUE(verify_event_signature(*valid).has_value());
  auto tampered = parse_event(*parse_json(load("tampered_event.json")));
  ASSERT_TRUE(tampered.has_value());
  EXPECT_EQ(verify_event_signature(*tampered).error().code, ErrorCode::invalid_signature);
  EXPECT_FALSE(parse_json(load("garbage.json")).has_value());
}

TEST(EventTypes, SignRefusesForeignAuthor) {
  auto keys = key_from_byte(1);
  Event e;
  e.event_id = EventId(new_ulid());
  e.author = key_from_byte(2).node_id();
  auto r = sign_event(e, keys);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::sign_failed);
}

}  // namespace
}  // namespace hn::events
