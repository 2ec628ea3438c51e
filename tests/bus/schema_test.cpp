// schema_test.cpp — the JSON-Schema subset (M03 §3.4): one case per keyword, error paths,
// and rejection of malformed schemas.
#include "bus/schema.h"

#include <gtest/gtest.h>

namespace hn::bus {
namespace {

Json S(const char* text) { return Json::parse(text); }

void expect_ok(const Json& schema, const Json& inst) {
  ASSERT_TRUE(check_schema(schema)) << check_schema(schema).error().message;
  auto s = validate_json(schema, inst);
  EXPECT_TRUE(s) << inst.dump() << " -> " << (s ? "" : s.error().message);
}

void expect_bad(const Json& schema, const Json& inst, const std::string& path_fragment = "") {
  ASSERT_TRUE(check_schema(schema)) << check_schema(schema).error().message;
  auto s = validate_json(schema, inst);
  ASSERT_FALSE(s) << inst.dump() << " should fail";
  EXPECT_EQ(s.error().code, ErrorCode::bad_request);
  if (!path_fragment.empty()) {
    EXPECT_NE(s.error().message.find(path_fragment), std::string::npos) << s.error().message;
  }
}

TEST(BusSchema, TypeSingle) {
  expect_ok(S(R"({"type":"string"})"), "x");
  expect_bad(S(R"({"type":"string"})"), 1);
  expect_ok(S(R"({"type":"boolean"})"), true);
  expect_bad(S(R"({"type":"boolean"})"), 0);
  expect_ok(S(R"({"type":"null"})"), nullptr);
  expect_ok(S(R"({"type":"object"})"), Json::object());
  expect_bad(S(R"({"type":"object"})"), Json::array());
  expect_ok(S(R"({"type":"array"})"), Json::array());
}

TEST(BusSchema, IntegerVersusNumber) {
  expect_ok(S(R"({"type":"integer"})"), 3);
  expect_ok(S(R"({"type":"integer"})"), -3);
  expect_ok(S(R"({"type":"integer"})"), 3.0);  // no fractional part: an integer
  expect_bad(S(R"({"type":"integer"})"), 3.5);
  expect_bad(S(R"({"type":"integer"})"), "3");
  expect_ok(S(R"({"type":"number"})"), 3.5);
  expect_ok(S(R"({"type":"number"})"), 3);
  expect_bad(S(R"({"type":"number"})"), true);
}

TEST(BusSchema, TypeArray) {
  auto s = S(R"({"type":["string","null"]})");
  expect_ok(s, "a");
  expect_ok(s, nullptr);
  expect_bad(s, 1);
}

TEST(BusSchema, PropertiesAndRequired) {
  auto s = S(R"({"type":"object","required":["input"],
               "properties":{"input":{"type":"object","required":["text"],
                                      "properties":{"text":{"type":"string"}}}}})");
  expect_ok(s, S(R"({"input":{"text":"hi"}})"));
  expect_bad(s, S(R"({})"), "/input");
  expect_bad(s, S(R"({"input":{}})"), "/input/text");
  expect_bad(s, S(R"({"input":{"text":5}})"), "/input/text");
}

TEST(BusSchema, AdditionalPropertiesBoolAndSchema) {
  auto closed = S(R"({"type":"object","properties":{"a":{}},"additionalProperties":false})");
  expect_ok(closed, S(R"({"a":1})"));
  expect_bad(closed, S(R"({"a":1,"b":2})"), "/b");
  auto typed = S(R"({"type":"object","properties":{"a":{}},"additionalProperties":{"type":"integer"}})");
  expect_ok(typed, S(R"({"a":"x","b":2})"));
  expect_bad(typed, S(R"({"a":"x","b":"y"})"), "/b");
  expect_ok(S(R"({"type":"object"})"), S(R"({"anything":1})"));
}

TEST(BusSchema, Enum) {
  auto s = S(R"({"enum":["offer","request",3]})");
  expect_ok(s, "offer");
  expect_ok(s, 3);
  expect_bad(s, "info");
}

TEST(BusSchema, Const) {
  expect_ok(S(R"({"const":"x"})"), "x");
  expect_bad(S(R"({"const":"x"})"), "y");
}

TEST(BusSchema, MinimumMaximum) {
  auto s = S(R"({"type":"number","minimum":0,"maximum":2.5})");
  expect_ok(s, 0);
  expect_ok(s, 2.5);
  expect_bad(s, -0.1);
  expect_bad(s, 3);
  auto ex = S(R"({"exclusiveMinimum":0,"exclusiveMaximum":1})");
  expect_ok(ex, 0.5);
  expect_bad(ex, 0);
  expect_bad(ex, 1);
}

TEST(BusSchema, StringLengthCountsCodePoints) {
  auto s = S(R"({"type":"string","minLength":2,"maxLength":3})");
  expect_ok(s, "ab");
  expect_ok(s, "äöü");              // 3 code points, 6 bytes
  expect_ok(s, "\xF0\x9F\x94\xA5x");  // emoji (4 bytes) + x = 2 code points
  expect_bad(s, "a");
  expect_bad(s, "abcd");
  expect_bad(s, "äöüß");
}

TEST(BusSchema, ItemsAndCounts) {
  auto s = S(R"({"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":2})");
  expect_ok(s, S("[1]"));
  expect_ok(s, S("[1,2]"));
  expect_bad(s, S("[]"));
  expect_bad(s, S("[1,2,3]"));
  expect_bad(s, S(R"([1,"x"])"), "/1");
}

TEST(BusSchema, NestedPathEscaping) {
  auto s = S(R"({"properties":{"a/b":{"properties":{"c~d":{"type":"string"}}}}})");
  expect_bad(s, S(R"({"a/b":{"c~d":1}})"), "/a~1b/c~0d");
}

TEST(BusSchema, BooleanSchemas) {
  expect_ok(Json(true), 1);
  expect_bad(Json(false), 1);
}

TEST(BusSchema, AnnotationsIgnored) {
  expect_ok(S(R"({"type":"string","description":"d","title":"t","default":"x","format":"uri"})"), "q");
}

TEST(BusSchema, MalformedSchemasRejected) {
  for (const char* bad : {R"("string")", R"({"type":"text"})", R"({"type":[]})",
                          R"({"properties":[]})", R"({"required":"a"})", R"({"required":[1]})",
                          R"({"enum":[]})", R"({"minimum":"0"})", R"({"minLength":-1})",
                          R"({"maxItems":1.5})", R"({"items":[{}]})",
                          R"({"additionalProperties":3})", R"({"pattern":"^a"})",
                          R"({"anyOf":[{}]})", R"({"properties":{"a":{"type":"nope"}}})"}) {
    auto s = check_schema(Json::parse(bad));
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().code, ErrorCode::schema_invalid) << bad;
  }
}

TEST(BusSchema, ValidatorCarriesExpectedHash) {
  CapabilityDescriptor d;
  d.name = "experimental.x";
  d.request_schema = S(R"({"type":"object","required":["input"]})");
  d.response_schema = S(R"({"type":"object"})");
  SchemaValidator v;
  EXPECT_TRUE(v.check_descriptor(d));
  auto s = v.validate_request(d, Json::object());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::schema_mismatch);  // M03 §3.4, CONTRACT §5.4
  EXPECT_EQ(s.error().detail["schema_hash_expected"], d.schema_hash().str());
  EXPECT_FALSE(v.validate_response(d, Json::array()));
  d.response_schema = nullptr;
  EXPECT_FALSE(v.check_descriptor(d));  // neither response nor stream
}

}  // namespace
}  // namespace hn::bus
