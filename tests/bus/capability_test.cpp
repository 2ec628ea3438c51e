// capability_test.cpp — schema hash (CONTRACT §11), version compatibility (§2.1),
// namespace rules (§3.1), manifest entry parsing (§6.1).
#include "bus/capability.h"

#include <gtest/gtest.h>

#include "services/diag/diag_echo.h"
#include "bus/schema.h"
#include "core/hash.h"

namespace hn::bus {
using services::diag::DiagEchoService;
using services::diag::diag_echo_descriptor;
using services::diag::DIAG_ECHO_CAPABILITY;
using services::diag::DIAG_ECHO_DEFAULT_FRAMES;
namespace {

CapabilityDescriptor sample() {
  CapabilityDescriptor d;
  d.name = "experimental.x";
  d.version = Version{1, 2};
  d.request_schema = Json{{"type", "object"}, {"properties", {{"a", {{"type", "string"}}}}}};
  d.response_schema = nullptr;
  d.stream_schema = nullptr;
  return d;
}

TEST(BusCapability, SchemaHashMatchesHandComputedBlake3) {
  // Canonical JSON written by hand; digest computed independently with b3sum.
  const std::string canonical =
      R"({"name":"experimental.x","request_schema":{"properties":{"a":{"type":"string"}},)"
      R"("type":"object"},"response_schema":null,"stream_schema":null,"version":"1.2"})";
  const std::string expected =
      "blake3:36a3309cec2b4af4c83a61af86eeb75b64de9f1f0d75fbe9947baa9bbc5e2656";
  EXPECT_EQ(blake3_cid(canonical), expected);
  EXPECT_EQ(sample().schema_hash().str(), expected);
}

TEST(BusCapability, SchemaHashStableAndIgnoresNonSchemaFields) {
  auto a = sample();
  auto b = sample();
  b.params = Json{{"model", "m"}};
  b.max_concurrent = 9;
  b.trust_required = TrustLevel::anchor;
  EXPECT_EQ(a.schema_hash(), b.schema_hash());
  EXPECT_TRUE(is_valid_cid(a.schema_hash().str()));
}

TEST(BusCapability, SchemaHashChangesOnSchemaOrVersionChange) {
  auto a = sample();
  auto b = a;  // a copy shares the schemas; a new value replaces them for the copy only
  Json required = *b.request_schema;
  required["required"] = Json::array({"a"});
  b.request_schema = required;
  EXPECT_NE(a.schema_hash(), b.schema_hash());
  EXPECT_EQ(a.request_schema, sample().request_schema);
  EXPECT_FALSE(a.request_schema->contains("required"));
  auto c = sample();
  c.version = Version{1, 3};
  EXPECT_NE(a.schema_hash(), c.schema_hash());
  auto d = sample();
  d.stream_schema = Json{{"type", "object"}};
  EXPECT_NE(a.schema_hash(), d.schema_hash());
}

TEST(BusCapability, VersionCompatibility) {
  EXPECT_TRUE(is_version_compatible({1, 0}, {1, 0}));
  EXPECT_TRUE(is_version_compatible({1, 3}, {1, 2}));
  EXPECT_FALSE(is_version_compatible({1, 1}, {1, 2}));
  EXPECT_FALSE(is_version_compatible({2, 0}, {1, 0}));
  EXPECT_FALSE(is_version_compatible({0, 9}, {1, 0}));
}

TEST(BusCapability, ParseCapabilityRef) {
  auto r = parse_capability_ref("llm.chat@1.2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, "llm.chat");
  EXPECT_EQ(r->second, (Version{1, 2}));
  EXPECT_FALSE(parse_capability_ref("llm.chat"));
  EXPECT_FALSE(parse_capability_ref("llm.chat@x"));
}

TEST(BusCapability, NamespaceAllocatedPrefixesPass) {
  for (const char* n : {"llm.chat", "embed.text", "rag.list_corpora", "file.read", "market.post",
                        "chat.send", "community.invite", "federation.peer", "experimental.foo.bar",
                        "diag.echo"}) {
    EXPECT_TRUE(validate_capability_name(n)) << n;
  }
}

TEST(BusCapability, NamespaceViolations) {
  for (const char* n : {"ocr.text", "tts.say", "stt.listen", "trans.text", "img.gen",  // reserved
                        "weather.now", "llm", "", "LLM.chat", "llm..chat", "llm.chat-2",
                        ".chat", "llm.1chat"}) {
    auto s = validate_capability_name(n);
    ASSERT_FALSE(s) << n;
    EXPECT_EQ(s.error().code, ErrorCode::namespace_violation) << n;
  }
}

TEST(BusCapability, NamespaceDeclaredPrefixes) {
  EXPECT_TRUE(validate_capability_name("market.post", {"market"}));
  EXPECT_TRUE(validate_capability_name("experimental.market_v2", {"market"}));
  auto s = validate_capability_name("llm.chat", {"market"});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::namespace_violation);
}

TEST(BusCapability, StreamOrPlainIsTheCapabilitysAndTheRequestsChoice) {
  // CONTRACT §5.1: not the Accept header alone.
  const Json silent = Json{{"input", {{"text", "x"}}}};
  auto asking = [](bool v) { return Json{{"input", {{"text", "x"}, {"stream", v}}}}; };
  constexpr auto BOTH = Accepted::both, PLAIN = Accepted::only_plain, STREAM = Accepted::only_stream;
  CapabilityDescriptor plain_only = sample();
  plain_only.response_schema = Json::object();
  CapabilityDescriptor stream_only = sample();
  stream_only.stream_schema = Json::object();
  for (Accepted a : {BOTH, PLAIN, STREAM}) {
    EXPECT_FALSE(answers_with_stream(&plain_only, asking(true), a));
    EXPECT_TRUE(answers_with_stream(&stream_only, asking(false), a));
  }
  // Both forms: input.stream; else an Accept that takes one form; else the schema's
  // declared default; else plain. diag.echo declares default false.
  const CapabilityDescriptor echo = diag_echo_descriptor();
  EXPECT_FALSE(answers_with_stream(&echo, silent, BOTH));  // the contract's own Accept
  EXPECT_TRUE(answers_with_stream(&echo, asking(true), BOTH));
  EXPECT_TRUE(answers_with_stream(&echo, asking(true), PLAIN));  // the body wins
  EXPECT_FALSE(answers_with_stream(&echo, asking(false), STREAM));
  EXPECT_TRUE(answers_with_stream(&echo, silent, STREAM));
  CapabilityDescriptor chat = echo;  // llm.chat §4.1: "stream": optional, default true
  chat.request_schema = Json::parse(
      R"({"type":"object","properties":{"input":{"type":"object","properties":{
          "stream":{"type":"boolean","default":true}}}}})");
  EXPECT_TRUE(answers_with_stream(&chat, silent, BOTH));
  EXPECT_FALSE(answers_with_stream(&chat, silent, PLAIN));
  EXPECT_FALSE(answers_with_stream(&chat, asking(false), BOTH));
  CapabilityDescriptor undeclared = echo;
  undeclared.request_schema = Json{{"type", "object"}};
  EXPECT_FALSE(answers_with_stream(&undeclared, silent, BOTH));
  // No provider known here: the request says.
  EXPECT_TRUE(answers_with_stream(nullptr, asking(true), BOTH));
  EXPECT_FALSE(answers_with_stream(nullptr, silent, BOTH));
  EXPECT_TRUE(answers_with_stream(nullptr, silent, STREAM));
  EXPECT_FALSE(answers_with_stream(nullptr, Json::array(), BOTH));  // not even an object
}

TEST(BusCapability, ManifestEntryAndSpec) {
  auto d = diag_echo_descriptor();
  auto j = d.to_manifest_entry();
  EXPECT_EQ(j["name"], "diag.echo");
  EXPECT_EQ(j["version"], "1.0");
  EXPECT_EQ(j["stability"], "stable");
  EXPECT_EQ(j["schema_hash"], d.schema_hash().str());
  EXPECT_EQ(j["max_concurrent"], 16);
  auto spec = d.to_spec();
  EXPECT_EQ(spec.name, "diag.echo");
  EXPECT_EQ(spec.version, (Version{1, 0}));
  EXPECT_EQ(spec.schema_hash, d.schema_hash());
  EXPECT_EQ(spec.max_concurrent, 16);
}

}  // namespace
}  // namespace hn::bus
