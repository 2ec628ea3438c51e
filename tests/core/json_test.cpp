// json_test.cpp — canonical JSON per RFC 8785: the RFC's own examples, byte for byte.
#include "core/json.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>

namespace hn {
namespace {

TEST(CanonicalJson, Rfc8785MainExample) {
  // RFC 8785 §3.2.2 input and output.
  const char* input = R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })";
  auto j = parse_json(input);
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(canonical_json(*j),
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            "\"string\":\"\xE2\x82\xAC$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

TEST(CanonicalJson, Rfc8785SortsKeysByUtf16CodeUnits) {
  // RFC 8785 §3.2.3: U+1F600 (a surrogate pair) sorts before U+FB33.
  const char* input = R"({
    "\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  })";
  auto j = parse_json(input);
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(canonical_json(*j),
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xC2\x80\":\"Control\","
            "\"\xC3\xB6\":\"Latin Small Letter O With Diaeresis\",\"\xE2\x82\xAC\":\"Euro Sign\","
            "\"\xF0\x9F\x98\x80\":\"Emoji: Grinning Face\","
            "\"\xEF\xAC\xB3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

struct NumberCase {
  std::uint64_t bits;
  const char* expected;
};

TEST(CanonicalJson, Rfc8785AppendixBNumbers) {
  const NumberCase cases[] = {
      {0x0000000000000000, "0"},
      {0x8000000000000000, "0"},
      {0x0000000000000001, "5e-324"},
      {0x8000000000000001, "-5e-324"},
      {0x7fefffffffffffff, "1.7976931348623157e+308"},
      {0xffefffffffffffff, "-1.7976931348623157e+308"},
      {0x4340000000000000, "9007199254740992"},
      {0xc340000000000000, "-9007199254740992"},
      {0x4430000000000000, "295147905179352830000"},
      {0x44b52d02c7e14af5, "9.999999999999997e+22"},
      {0x44b52d02c7e14af6, "1e+23"},
      {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
      {0x444b1ae4d6e2ef4e, "999999999999999700000"},
      {0x444b1ae4d6e2ef4f, "999999999999999900000"},
      {0x444b1ae4d6e2ef50, "1e+21"},
      {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
      {0x3eb0c6f7a0b5ed8d, "0.000001"},
      {0x41b3de4355555553, "333333333.3333332"},
      {0x41b3de4355555554, "333333333.33333325"},
      {0x41b3de4355555555, "333333333.3333333"},
      {0x41b3de4355555556, "333333333.3333334"},
      {0x41b3de4355555557, "333333333.33333343"},
      {0xbecbf647612f3696, "-0.0000033333333333333333"},
      {0x43143ff3c1cb0959, "1424953923781206.2"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_es6_number(std::bit_cast<double>(c.bits)), c.expected) << std::hex << c.bits;
  }
}

TEST(CanonicalJson, TrailingZerosDroppedAndIntegersKept) {
  Json j = {{"a", 1.0}, {"b", 1.10}, {"c", 42}, {"d", -7}, {"e", "x"}};
  EXPECT_EQ(canonical_json(j), R"({"a":1,"b":1.1,"c":42,"d":-7,"e":"x"})");
}

TEST(CanonicalJson, NestedObjectsSortedAtEveryLevel) {
  Json j = Json::parse(R"({"z":{"b":1,"a":[{"y":1,"x":2}]},"a":null})");
  EXPECT_EQ(canonical_json(j), R"({"a":null,"z":{"a":[{"x":2,"y":1}],"b":1}})");
}

TEST(CanonicalJson, NonFiniteNumbersAreATypedError) {
  Json j = {{"x", std::numeric_limits<double>::infinity()}};
  auto r = try_canonical_json(j);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::bad_request);
}

TEST(ParseJson, RejectsMalformedAndTooDeep) {
  EXPECT_FALSE(parse_json("{\"a\":").has_value());
  EXPECT_FALSE(parse_json("\xff\xfe").has_value());
  EXPECT_FALSE(parse_json(std::string(1000, '[') + std::string(1000, ']')).has_value());
  EXPECT_TRUE(parse_json("[[[]]]").has_value());
}

TEST(ParseJson, RoundTripIsStable) {
  const char* text = R"({"b":[1,2.5,"\u00e9"],"a":{"c":true}})";
  auto first = canonical_json(*parse_json(text));
  EXPECT_EQ(canonical_json(*parse_json(first)), first);
}

TEST(JsonFields, MissingOrMistypedFieldsNameTheKey) {
  Json j = {{"n", 3}, {"s", "x"}};
  EXPECT_EQ(*get_int(j, "n"), 3);
  EXPECT_EQ(*get_string(j, "s"), "x");
  auto missing = get_string(j, "absent");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("absent"), std::string::npos);
  auto wrong = get_int(j, "s");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, ErrorCode::bad_request);
}

}  // namespace
TEST(JsonDumpSize, MatchesDumpForEveryKind) {
  const std::vector<Json> values = {
      Json(), true, false, 0, -1, 7, -9223372036854775807LL - 1, 9223372036854775807LL,
      std::uint64_t{18446744073709551615ULL}, 1.5, -0.25, 1e300, "", "plain",
      std::string("quote\" back\\ nl\n tab\t cr\r bell\x07 nul") + std::string(1, '\0'),
      "ünïcödé ✓", Json::array(), Json::array({1, "a", nullptr, Json::object()}),
      Json{{"b", 1}, {"a", Json{{"nested", Json::array({true, 2.5})}}}, {"", "x"}},
      Json{{"event", "echo"}, {"data", Json{{"seq", 41}, {"text", "ping"}}}}};
  for (const auto& v : values) EXPECT_EQ(json_dump_size(v), v.dump().size()) << v.dump();
}

}  // namespace hn
