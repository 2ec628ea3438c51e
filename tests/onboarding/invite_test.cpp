// invite_test.cpp — the invite blob (M13 §3.1), the id card (M13 §4.4) and endpoint text:
// round trips, strict decoding, tampering, expiry, wrong invitee, garbage.
#include "onboarding/invite.h"

#include <gtest/gtest.h>

#include <random>

#include "core/encoding.h"
#include "core/json.h"
#include "core/time.h"
#include "onboarding/id_card.h"

namespace hn::onboarding {
namespace {

class InviteTest : public ::testing::Test {
 protected:
  InviteTest()
      : founder(identity::KeyPair::generate()),
        invitee(identity::KeyPair::generate()),
        community(identity::build_community_manifest(founder, "Niederrhein Demo", {}, clock)) {}

  InviteRequest request(TrustLevel level = TrustLevel::member) const {
    InviteRequest r;
    r.invitee_node_id = invitee.node_id();
    r.display_name = "Hannes' Tablet";
    r.initial_level = level;
    r.bootstrap_endpoints = {{"https", "192.168.1.10", 8443}, {"https", "hearth.local", 8443}};
    return r;
  }

  Invite make() {
    auto invite = make_invite(founder, community, request(), clock);
    EXPECT_TRUE(invite.has_value()) << invite.error().to_string();
    return *invite;
  }

  // The payload JSON inside an invite text.
  static Json payload_of(const std::string& text) {
    auto bytes = base64url_decode(std::string_view(text).substr(15));
    EXPECT_TRUE(bytes.has_value());
    return *parse_json(as_chars(*bytes));
  }
  static std::string text_of(const Json& payload) {
    return "hearthnet://v1/" + base64url_encode(as_bytes(canonical_json(payload)));
  }

  ManualClock clock;
  identity::KeyPair founder;
  identity::KeyPair invitee;
  identity::CommunityManifest community;
};

void expect_invalid(std::string_view text, std::string_view cause = "") {
  auto decoded = decode_invite(text);
  ASSERT_FALSE(decoded.has_value()) << text;
  EXPECT_EQ(decoded.error().code, ErrorCode::invite_invalid) << decoded.error().to_string();
  if (!cause.empty()) {
    EXPECT_EQ(decoded.error().detail.value("cause", ""), cause);
  }
}

TEST_F(InviteTest, EncodeDecodeRoundTrip) {
  const Invite invite = make();
  const std::string text = encode_invite(invite);
  EXPECT_EQ(text.rfind("hearthnet://v1/", 0), 0u);
  auto decoded = decode_invite(text);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().to_string();
  EXPECT_EQ(*decoded, invite);
  EXPECT_EQ(encode_invite(*decoded), text);
  // M13 §3.1 field names on the wire.
  const Json payload = payload_of(text);
  for (const char* key : {"schema_version", "community_id", "community_name", "inviter_node_id",
                          "invitee_node_id", "initial_level", "bootstrap_endpoints", "expires_at",
                          "signature", "invite_id", "display_name"}) {
    EXPECT_TRUE(payload.contains(key)) << key;
  }
  EXPECT_EQ(payload["schema_version"], 1);
  EXPECT_EQ(payload["initial_level"], "member");
  EXPECT_EQ(payload["community_id"], founder.node_id().str());
  EXPECT_EQ(payload["expires_at"], format_rfc3339(clock.now_seconds() + 86400));
  // Pasted text with surrounding whitespace still decodes.
  EXPECT_TRUE(decode_invite("  " + text + "\n").has_value());
  // Fits a QR code (version 40-M holds 2331 bytes).
  EXPECT_LT(text.size(), 2331u);
}

TEST_F(InviteTest, TamperedInviteRejected) {
  const std::string text = encode_invite(make());
  Json payload = payload_of(text);
  payload["initial_level"] = "trusted";
  expect_invalid(text_of(payload), "invalid_signature");
  // Signed by the inviter, an anchor invite is still refused (CONTRACT §4.17).
  payload["initial_level"] = "anchor";
  expect_invalid(text_of(founder.sign(payload)), "field");

  payload = payload_of(text);
  payload["invitee_node_id"] = identity::KeyPair::generate().node_id().str();
  expect_invalid(text_of(payload), "invalid_signature");

  // Re-signed by someone who is not the named inviter.
  payload = payload_of(text);
  payload["expires_at"] = "2099-01-01T00:00:00Z";
  expect_invalid(text_of(identity::KeyPair::generate().sign(payload)), "invalid_signature");

  // verify_invite_signature on a modified struct.
  Invite invite = make();
  invite.community_name = "Other";
  auto status = verify_invite_signature(invite);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code, ErrorCode::invite_invalid);
}

TEST_F(InviteTest, EverySingleCharacterMutationRejected) {
  const std::string text = encode_invite(make());
  const std::string alphabet = "AZaz09-_/:.";
  for (std::size_t i = 0; i < text.size(); ++i) {
    for (char c : alphabet) {
      if (text[i] == c) continue;
      std::string mutated = text;
      mutated[i] = c;
      auto decoded = decode_invite(mutated);
      ASSERT_FALSE(decoded.has_value()) << "position " << i << " char " << c;
      ASSERT_EQ(decoded.error().code, ErrorCode::invite_invalid);
    }
  }
}

TEST_F(InviteTest, StrictDecoding) {
  const std::string text = encode_invite(make());
  expect_invalid("", "scheme");
  expect_invalid("https://v1/abc", "scheme");
  expect_invalid("HEARTHNET://v1/" + text.substr(15), "scheme");
  expect_invalid("hearthnet://v2/" + text.substr(15), "version");
  expect_invalid("hearthnet://v1/", "base64url");
  expect_invalid("hearthnet://v1/" + text.substr(15) + "=", "base64url");
  expect_invalid("hearthnet://v1/" + base64url_encode(as_bytes("not json")), "json");
  expect_invalid("hearthnet://v1/" + base64url_encode(as_bytes("[1,2]")), "field");

  // Unknown, missing and mistyped fields (signed, so only the field check can fail).
  Json payload = payload_of(text);
  payload["extra"] = 1;
  expect_invalid(text_of(founder.sign(payload)), "field");
  for (const char* key : {"invite_id", "community_id", "inviter_node_id", "bootstrap_endpoints",
                          "expires_at", "schema_version", "display_name"}) {
    payload = payload_of(text);
    payload.erase(key);
    expect_invalid(text_of(founder.sign(payload)), "field");
  }
  payload = payload_of(text);
  payload["schema_version"] = 2;
  expect_invalid(text_of(founder.sign(payload)), "field");
  payload = payload_of(text);
  payload["initial_level"] = "self";
  expect_invalid(text_of(founder.sign(payload)), "field");
  payload = payload_of(text);
  payload["bootstrap_endpoints"] = Json::array();
  expect_invalid(text_of(founder.sign(payload)), "field");
  payload = payload_of(text);
  payload["bootstrap_endpoints"][0]["port"] = 70000;
  expect_invalid(text_of(founder.sign(payload)), "field");
  payload = payload_of(text);
  payload["invitee_node_id"] = "ed25519:short";
  expect_invalid(text_of(founder.sign(payload)), "field");
  payload = payload_of(text);
  payload["expires_at"] = "tomorrow";
  expect_invalid(text_of(founder.sign(payload)), "field");
  expect_invalid(std::string(INVITE_MAX_TEXT_BYTES + 1, 'a'), "scheme");
}

TEST_F(InviteTest, ExpiredInviteRejected) {
  const Invite invite = make();
  EXPECT_TRUE(check_invite(invite, invitee.node_id(), clock).has_value());
  clock.advance_seconds(86400);
  EXPECT_TRUE(check_invite(invite, invitee.node_id(), clock).has_value());  // at expires_at
  clock.advance_seconds(1);
  auto status = check_invite(invite, invitee.node_id(), clock);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code, ErrorCode::invite_expired);
}

TEST_F(InviteTest, InviteAddressedToSomeoneElseRejected) {
  const Invite invite = make();
  auto status = check_invite(invite, identity::KeyPair::generate().node_id(), clock);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code, ErrorCode::invitee_mismatch);
}

TEST_F(InviteTest, MakeInviteValidatesRequest) {
  auto r = request();
  r.ttl_seconds = 0;
  EXPECT_EQ(make_invite(founder, community, r, clock).error().code, ErrorCode::bad_request);
  r = request();
  r.bootstrap_endpoints.clear();
  EXPECT_EQ(make_invite(founder, community, r, clock).error().code, ErrorCode::bad_request);
  r = request();
  r.invitee_node_id = NodeId("ed25519:nope");
  EXPECT_EQ(make_invite(founder, community, r, clock).error().code, ErrorCode::bad_node_id);
  r = request();
  r.invitee_node_id = founder.node_id();
  EXPECT_EQ(make_invite(founder, community, r, clock).error().code, ErrorCode::bad_request);
  r = request();
  r.initial_level = TrustLevel::self;
  EXPECT_EQ(make_invite(founder, community, r, clock).error().code, ErrorCode::bad_request);
  // CONTRACT §4.17: an invite grants member or trusted, never anchor.
  r = request(TrustLevel::anchor);
  EXPECT_EQ(make_invite(founder, community, r, clock).error().code, ErrorCode::bad_request);
  r = request(TrustLevel::trusted);
  auto explicit_id = make_invite(founder, community, r, clock, EventId("01HXR0000000000000000000AB"));
  ASSERT_TRUE(explicit_id.has_value());
  EXPECT_EQ(explicit_id->invite_id.str(), "01HXR0000000000000000000AB");
  EXPECT_EQ(explicit_id->initial_level, TrustLevel::trusted);
}

TEST_F(InviteTest, GarbageNeverCrashes) {
  const std::vector<std::string> fixed = {
      "hearthnet://", "hearthnet://v1", "hearthnet://v1/=", "hearthnet://v1/AAAA",
      "hearthnet://v1/" + base64url_encode(as_bytes("{}")),
      "hearthnet://v1/" + base64url_encode(as_bytes("null")),
      "hearthnet://v1/" + base64url_encode(as_bytes(std::string(200, '['))),
      "hearthnet://v1/" + base64url_encode(as_bytes("{\"schema_version\":1e400}")),
      std::string("hearthnet://v1/\0\xff", 17)};
  for (const auto& text : fixed) expect_invalid(text);

  std::mt19937 rng(42);
  const std::string valid = encode_invite(make());
  for (int i = 0; i < 2000; ++i) {
    std::string text;
    switch (i % 3) {
      case 0: {  // random bytes after the prefix
        text = "hearthnet://v1/";
        for (int n = static_cast<int>(rng() % 300); n > 0; --n) text.push_back(static_cast<char>(rng()));
        break;
      }
      case 1: {  // base64url of random bytes
        Bytes bytes(rng() % 300);
        for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
        text = "hearthnet://v1/" + base64url_encode(bytes);
        break;
      }
      default: {  // a valid invite truncated at a random point
        text = valid.substr(0, rng() % valid.size());
      }
    }
    auto decoded = decode_invite(text);
    ASSERT_FALSE(decoded.has_value());
    ASSERT_EQ(decoded.error().code, ErrorCode::invite_invalid);
  }
}

TEST(NodeIdCardTest, RoundTripAndStrictness) {
  auto keys = identity::KeyPair::generate();
  const NodeIdCard card{keys.node_id(), "Hannes' Tablet"};
  const std::string text = encode_node_id_card(card);
  EXPECT_EQ(text.rfind("hearthnet-id://v1/", 0), 0u);
  auto decoded = decode_node_id_card(text);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().to_string();
  EXPECT_EQ(*decoded, card);
  // M13 §4.4 field names.
  auto bytes = base64url_decode(std::string_view(text).substr(18));
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(*parse_json(as_chars(*bytes)),
            (Json{{"node_id_full", keys.node_id().str()}, {"display_name", "Hannes' Tablet"}}));

  auto bad = [](const std::string& t) { return decode_node_id_card(t).has_value(); };
  EXPECT_FALSE(bad("hearthnet://v1/" + text.substr(18)));
  EXPECT_FALSE(bad("hearthnet-id://v2/" + text.substr(18)));
  EXPECT_FALSE(bad("hearthnet-id://v1/!!"));
  EXPECT_FALSE(bad("hearthnet-id://v1/" + base64url_encode(as_bytes(R"({"node_id_full":"x","display_name":""})"))));
  EXPECT_EQ(decode_node_id_card("hearthnet-id://v1/" +
                                base64url_encode(as_bytes(R"({"node_id_full":"ed25519:x","display_name":""})")))
                .error()
                .code,
            ErrorCode::bad_node_id);
  EXPECT_FALSE(bad("hearthnet-id://v1/" + base64url_encode(as_bytes(R"({"node_id_full":"a","display_name":"","x":1})"))));

  // parse_invitee takes a card or a bare full id.
  auto from_card = parse_invitee(" " + text + "\n");
  ASSERT_TRUE(from_card.has_value());
  EXPECT_EQ(from_card->display_name, "Hannes' Tablet");
  auto bare = parse_invitee(keys.node_id().str());
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->node_id, keys.node_id());
  EXPECT_EQ(parse_invitee(keys.short_id()).error().code, ErrorCode::bad_node_id);
  EXPECT_EQ(parse_invitee("").error().code, ErrorCode::bad_node_id);
}

TEST(EndpointTextTest, ParsesHostPort) {
  auto e = parse_endpoint_text("192.168.1.5:8443");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(*e, (identity::Endpoint{"https", "192.168.1.5", 8443}));
  auto v6 = parse_endpoint_text("[fe80::1]:443");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "fe80::1");
  EXPECT_EQ(format_endpoint_text(*v6), "[fe80::1]:443");
  EXPECT_EQ(format_endpoint_text(*e), "192.168.1.5:8443");
  for (const char* bad : {"", "host", "host:", "host:0", "host:70000", "host:8x", ":80", "a:b:c",
                          "[::1]", "[::1]80", "bad host:80"}) {
    EXPECT_FALSE(parse_endpoint_text(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace hn::onboarding
