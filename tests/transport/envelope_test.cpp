// envelope_test.cpp — CONTRACT §5.1 request signing, §5.2 response signing, §5.4/§5.5 errors.
#include "transport/envelope.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/time.h"

namespace hn::transport {
namespace {

const identity::KeyPair& keys() {
  static const identity::KeyPair k = identity::KeyPair::generate();
  return k;
}

TEST(TransportEnvelope, SignedPayloadHasExactlyTheContractFields) {
  RequestEnvelope e{"llm.chat", "1.0", "01J0000000000000000000000A", "ed25519:x", "ed25519:c",
                    "2026-05-26T08:14:22Z", ""};
  Json p = build_signed_payload(e, Json{{"b", 2}, {"a", 1.0}});
  EXPECT_EQ(canonical_json(p),
            R"({"body":{"a":1,"b":2},"capability":"llm.chat","community":"ed25519:c",)"
            R"("from":"ed25519:x","request_id":"01J0000000000000000000000A",)"
            R"("timestamp":"2026-05-26T08:14:22Z","version":"1.0"})");
}

// The signing strings are written piecewise; they must be byte for byte the canonical JSON of
// the contract's payload objects, whatever the field values and the body hold.
TEST(TransportEnvelope, SigningStringsAreTheCanonicalPayloads) {
  const std::vector<Json> bodies = {
      Json::object(),
      Json::array(),
      nullptr,
      Json{{"b", 2}, {"a", 1.0}, {"z", {{"y", "\u00e9\n\"q\""}, {"x", Json::array({1, -2.5, true})}}}},
      Json{{"\xef\x80\x80", 1}, {"\xf0\x9f\x98\x80", 2}, {"key\twith tab", "v"}},
      "a bare string with \x01 control"};
  RequestEnvelope e{"chat.send", "1.2", "01J0000000000000000000000A", "ed25519:x\"y",
                    "ed25519:c\u00fc", "2026-05-26T08:14:22Z", ""};
  ResponseSignature r{"01J0000000000000000000000A", "ed25519:node\\", "2026-05-26T08:14:22Z", ""};
  for (const Json& body : bodies) {
    auto req = request_signing_string(e, body);
    ASSERT_TRUE(req.has_value());
    EXPECT_EQ(*req, canonical_json(build_signed_payload(e, body))) << body.dump();
    for (int status : {200, 429}) {
      auto resp = response_signing_string(r, status, body);
      ASSERT_TRUE(resp.has_value());
      EXPECT_EQ(*resp, canonical_json(build_response_payload(r, status, body))) << body.dump();
    }
  }
  // Signing the canonical bytes is signing the body.
  ManualClock clock;
  const Json body = bodies[3];
  auto a = sign_request(keys(), "chat.send", "1.2", "ed25519:c", body, clock, "01J0000000000000000000000B");
  auto b = sign_request_canonical(keys(), "chat.send", "1.2", "ed25519:c", canonical_json(body), clock,
                                  "01J0000000000000000000000B");
  EXPECT_EQ(a.signature, b.signature);
  EXPECT_TRUE(verify_request(b, body).has_value());
  auto ra = sign_response(keys(), "01J0000000000000000000000B", 200, body, clock);
  auto rb = sign_response_canonical(keys(), "01J0000000000000000000000B", 200, canonical_json(body), clock);
  EXPECT_EQ(ra.signature, rb.signature);
  EXPECT_TRUE(verify_response(rb, 200, body, keys().node_id().str()).has_value());
  // A body without a canonical form is refused, not signed.
  Json nan_body{{"x", std::nan("")}};
  EXPECT_EQ(request_signing_string(e, nan_body).error().code, ErrorCode::bad_request);
  EXPECT_FALSE(response_signing_string(r, 200, nan_body).has_value());
}

TEST(TransportEnvelope, SignVerifyRoundTripThroughHeaders) {
  ManualClock clock;
  Json body = {{"messages", Json::array({{{"role", "user"}, {"content", "hi"}}})}};
  auto e = sign_request(keys(), "llm.chat", "1.0", "ed25519:comm", body, clock);
  EXPECT_EQ(e.from, keys().node_id().str());
  EXPECT_EQ(e.timestamp, format_rfc3339(clock.now_seconds()));
  auto back = envelope_from_headers(envelope_headers(e));
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(verify_request(*back, body).has_value());
  // Same input → same signature (Ed25519 is deterministic; canonical JSON is unique).
  auto again = sign_request(keys(), "llm.chat", "1.0", "ed25519:comm", Json::parse(body.dump(2)),
                            clock, e.request_id);
  EXPECT_EQ(again.signature, e.signature);
}

TEST(TransportEnvelope, TamperingAnySignedFieldBreaksTheSignature) {
  ManualClock clock;
  Json body = {{"k", "v"}};
  auto e = sign_request(keys(), "llm.chat", "1.0", "ed25519:comm", body, clock);
  auto expect_bad = [&](RequestEnvelope t, const Json& b) {
    auto st = verify_request(t, b);
    ASSERT_FALSE(st.has_value());
    EXPECT_EQ(st.error().code, ErrorCode::invalid_signature);
  };
  auto t = e; t.capability = "llm.complete"; expect_bad(t, body);
  t = e; t.version = "1.1"; expect_bad(t, body);
  t = e; t.request_id = "01J0000000000000000000000B"; expect_bad(t, body);
  t = e; t.community = "ed25519:other"; expect_bad(t, body);
  t = e; t.timestamp = format_rfc3339(clock.now_seconds() + 1); expect_bad(t, body);
  t = e; t.from = identity::KeyPair::generate().node_id().str(); expect_bad(t, body);
  t = e; t.from = "garbage"; expect_bad(t, body);
  t = e; t.signature = "ed25519:AAAA"; expect_bad(t, body);
  expect_bad(e, Json{{"k", "w"}});
  expect_bad(e, Json{{"k", "v"}, {"extra", 1}});
}

TEST(TransportEnvelope, MissingHeaderIsAnUnsignedRequest) {
  ManualClock clock;
  auto e = sign_request(keys(), "llm.chat", "1.0", "ed25519:comm", Json::object(), clock);
  Headers h = envelope_headers(e);
  for (size_t i = 0; i < h.size(); ++i) {
    Headers missing = h;
    missing.erase(missing.begin() + static_cast<long>(i));
    auto r = envelope_from_headers(missing);
    ASSERT_FALSE(r.has_value()) << h[i].first;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_signature);
  }
  EXPECT_EQ(find_header(h, "x-hearthnet-from").value(), e.from);  // case-insensitive
  Headers bad_version = h;
  bad_version[1].second = "one";
  EXPECT_EQ(envelope_from_headers(bad_version).error().code, ErrorCode::bad_request);
}

TEST(TransportEnvelope, ResponseSignatureRoundTripAndTamper) {
  ManualClock clock;
  Json body = {{"output", {{"event_id", "x"}}}};
  auto s = sign_response(keys(), "01J0000000000000000000000A", 200, body, clock);
  auto back = response_signature_from_headers(response_signature_headers(s));
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(verify_response(*back, 200, body, keys().node_id().str()).has_value());
  EXPECT_FALSE(verify_response(*back, 201, body, keys().node_id().str()).has_value());
  EXPECT_FALSE(verify_response(*back, 200, Json{{"output", 1}}, keys().node_id().str()).has_value());
  auto other = identity::KeyPair::generate().node_id().str();
  EXPECT_EQ(verify_response(*back, 200, body, other).error().code, ErrorCode::invalid_signature);
  EXPECT_FALSE(response_signature_from_headers(Headers{}).has_value());
}

TEST(TransportEnvelope, MandatoryResponseSignatures) {
  EXPECT_TRUE(response_signature_mandatory("market.post"));
  EXPECT_TRUE(response_signature_mandatory("community.invite"));
  EXPECT_TRUE(response_signature_mandatory("community.revoke"));
  EXPECT_TRUE(response_signature_mandatory("rag.ingest"));
  EXPECT_TRUE(response_signature_mandatory("market.expire"));
  EXPECT_TRUE(response_signature_mandatory("chat.send"));
  EXPECT_FALSE(response_signature_mandatory("llm.chat"));
  EXPECT_FALSE(response_signature_mandatory("rag.query"));
}

TEST(TransportEnvelope, ErrorEnvelopeAndStatusMapping) {
  struct Case { ErrorCode code; int status; };
  for (auto c : {Case{ErrorCode::bad_request, 400}, Case{ErrorCode::schema_mismatch, 400},
                 Case{ErrorCode::invalid_signature, 401}, Case{ErrorCode::unauthorized, 401},
                 Case{ErrorCode::revoked, 403}, Case{ErrorCode::not_found, 404},
                 Case{ErrorCode::timeout, 408}, Case{ErrorCode::expired, 410},
                 Case{ErrorCode::rate_limited, 429}, Case{ErrorCode::capacity_exceeded, 429},
                 Case{ErrorCode::internal_error, 500}, Case{ErrorCode::not_implemented, 501},
                 Case{ErrorCode::partition, 503}}) {
    auto r = make_error_response(make_error(c.code, "m"));
    EXPECT_EQ(r.status, c.status) << to_string(c.code);
    EXPECT_EQ(r.body["error"], std::string(to_string(c.code)));
    Error back = parse_error_response(r.status, r.body);
    EXPECT_EQ(back.code, c.code);
    EXPECT_EQ(back.message, "m");
  }
  Error e(ErrorCode::rate_limited, "slow down",
          Json{{"alt_nodes", Json::array({"ed25519:n"})},
               {"alt_capabilities", Json::array({"llm.chat@0.9"})}});
  e.retry_after_ms = 2000;
  auto r = make_error_response(e);
  EXPECT_EQ(r.body["retry_after_ms"], 2000);
  EXPECT_EQ(r.body["alt_nodes"][0], "ed25519:n");
  EXPECT_EQ(r.body["alt_capabilities"][0], "llm.chat@0.9");
  EXPECT_FALSE(r.body.contains("detail"));
  Error back = parse_error_response(r.status, r.body);
  EXPECT_EQ(back.retry_after_ms, 2000);
  EXPECT_EQ(back.detail["alt_nodes"][0], "ed25519:n");
  // Domain codes travel as their wire code.
  EXPECT_EQ(make_error_response(make_error(ErrorCode::hash_mismatch, "x")).status, 400);
  // Garbage bodies still give a typed error.
  EXPECT_EQ(parse_error_response(503, Json("x")).code, ErrorCode::partition);
  EXPECT_EQ(parse_error_response(418, Json::object()).code, ErrorCode::internal_error);
}

TEST(TransportEnvelope, QueryStrings) {
  auto q = parse_query("topic=chat.message.a%2Bb&last_seq=3&timeout=30&flag&x=a+b");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->at("topic"), "chat.message.a+b");
  EXPECT_EQ(q->at("x"), "a b");
  EXPECT_EQ(q->at("flag"), "");
  EXPECT_FALSE(parse_query("a=%zz").has_value());
  EXPECT_FALSE(parse_query("a=%4").has_value());
  Json params = {{"topic", "a b/c"}, {"last_seq", 5}};
  auto round = parse_query(encode_query(params));
  ASSERT_TRUE(round.has_value());
  EXPECT_EQ(query_to_json(*round), (Json{{"topic", "a b/c"}, {"last_seq", "5"}}));
}

}  // namespace
}  // namespace hn::transport
