// dns_test.cpp — the DNS codec: a query round-trips through a resolver's answer; the
// parser refuses truncated messages, forward or looping compression pointers, counts the
// message cannot hold and oversized names with bad_request; check_answer matches id and
// question, maps rcodes and follows a CNAME.
#include "emergency/dns.h"

#include <gtest/gtest.h>

namespace hn::emergency {
namespace {

std::vector<std::uint8_t> query_for(const char* name, std::uint16_t id = 0x1234) {
  auto q = encode_query(id, name);
  EXPECT_TRUE(q.has_value());
  return *q;
}

TEST(DnsCodec, QueryHasOneQuestionWithRecursionDesired) {
  const auto q = query_for("Cloudflare.com.");
  auto m = parse_message(q);
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  EXPECT_EQ(m->id, 0x1234);
  EXPECT_FALSE(m->is_response());
  EXPECT_EQ(m->flags & 0x0100, 0x0100);
  ASSERT_EQ(m->questions.size(), 1u);
  EXPECT_EQ(m->questions[0].name, "cloudflare.com");
  EXPECT_EQ(m->questions[0].type, DNS_TYPE_A);
  EXPECT_EQ(q.size(), 12u + 16u + 4u);
}

TEST(DnsCodec, BadNamesAreRefused) {
  EXPECT_FALSE(encode_query(1, "").has_value());
  EXPECT_FALSE(encode_query(1, "a..b").has_value());
  EXPECT_FALSE(encode_query(1, std::string(64, 'a') + ".com").has_value());
  EXPECT_EQ(encode_query(1, "a..b").error().code, ErrorCode::bad_request);
}

TEST(DnsCodec, AnswerRoundTrips) {
  const auto q = query_for("example.org");
  auto r = encode_response(q, {Ipv4{192, 0, 2, 1}, Ipv4{192, 0, 2, 2}});
  ASSERT_TRUE(r.has_value());
  auto m = parse_message(*r);
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  EXPECT_TRUE(m->is_response());
  ASSERT_EQ(m->answers.size(), 2u);
  EXPECT_EQ(m->answers[0].name, "example.org");  // via a compression pointer
  auto addrs = check_answer(*m, 0x1234, "example.org");
  ASSERT_TRUE(addrs.has_value()) << addrs.error().to_string();
  EXPECT_EQ((*addrs)[1], (Ipv4{192, 0, 2, 2}));
}

TEST(DnsCodec, CheckAnswerMatchesIdQuestionAndRcode) {
  const auto q = query_for("example.org");
  auto m = parse_message(*encode_response(q, {Ipv4{10, 0, 0, 1}}));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(check_answer(*m, 0x9999, "example.org").error().code, ErrorCode::bad_request);
  EXPECT_EQ(check_answer(*m, 0x1234, "example.net").error().code, ErrorCode::bad_request);
  auto query_itself = parse_message(q);
  EXPECT_EQ(check_answer(*query_itself, 0x1234, "example.org").error().code, ErrorCode::bad_request);
  auto nx = parse_message(*encode_response(q, {}, DNS_RCODE_NXDOMAIN));
  EXPECT_EQ(check_answer(*nx, 0x1234, "example.org").error().code, ErrorCode::not_found);
  auto servfail = parse_message(*encode_response(q, {}, DNS_RCODE_SERVFAIL));
  EXPECT_EQ(check_answer(*servfail, 0x1234, "example.org").error().code, ErrorCode::partition);
  auto empty = parse_message(*encode_response(q, {}));
  EXPECT_EQ(check_answer(*empty, 0x1234, "example.org").error().code, ErrorCode::not_found);
}

TEST(DnsCodec, FollowsACnameToItsAddress) {
  // example.org CNAME edge.example.net; edge.example.net A 192.0.2.7.
  std::vector<std::uint8_t> m = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0};
  const std::vector<std::uint8_t> qname = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0};
  m.insert(m.end(), qname.begin(), qname.end());
  m.insert(m.end(), {0, 1, 0, 1});
  const std::vector<std::uint8_t> target = {4, 'e', 'd', 'g', 'e', 7, 'e', 'x', 'a', 'm', 'p',
                                            'l', 'e', 3, 'n', 'e', 't', 0};
  m.insert(m.end(), {0xC0, 0x0C, 0, 5, 0, 1, 0, 0, 0, 60, 0, static_cast<std::uint8_t>(target.size())});
  m.insert(m.end(), target.begin(), target.end());
  m.insert(m.end(), target.begin(), target.end());  // owner name of the A record, uncompressed
  m.insert(m.end(), {0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7});
  auto parsed = parse_message(m);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
  auto addrs = check_answer(*parsed, 0x1234, "example.org");
  ASSERT_TRUE(addrs.has_value()) << addrs.error().to_string();
  EXPECT_EQ((*addrs)[0], (Ipv4{192, 0, 2, 7}));
}

TEST(DnsCodec, MalformedMessagesAreTypedErrors) {
  const auto q = query_for("example.org");
  const auto good = *encode_response(q, {Ipv4{192, 0, 2, 1}});
  // Every truncation of a good answer is refused, never read past.
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto m = parse_message(std::span<const std::uint8_t>(good.data(), n));
    ASSERT_FALSE(m.has_value()) << n;
    EXPECT_EQ(m.error().code, ErrorCode::bad_request);
  }
  // A pointer to itself (a loop) and a pointer forward.
  std::vector<std::uint8_t> loop = {0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1};
  EXPECT_NE(parse_message(loop).error().message.find("backwards"), std::string::npos);
  std::vector<std::uint8_t> forward = {0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 16, 0, 1, 0, 1, 0};
  EXPECT_FALSE(parse_message(forward).has_value());
  // Counts that the message cannot hold.
  std::vector<std::uint8_t> counts = {0, 1, 0x81, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0};
  EXPECT_NE(parse_message(counts).error().message.find("counts"), std::string::npos);
  // An A record whose data is not 4 octets.
  auto bad_a = good;
  bad_a[bad_a.size() - 5] = 5;  // RDLENGTH low byte
  EXPECT_FALSE(parse_message(bad_a).has_value());
  // A name longer than 255 octets (five 63-octet labels).
  std::vector<std::uint8_t> longname = {0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 5; ++i) {
    longname.push_back(63);
    longname.insert(longname.end(), 63, 'a');
  }
  longname.insert(longname.end(), {0, 0, 1, 0, 1});
  EXPECT_NE(parse_message(longname).error().message.find("255"), std::string::npos);
  // Reserved label types.
  std::vector<std::uint8_t> reserved = {0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 1, 0, 1};
  EXPECT_FALSE(parse_message(reserved).has_value());
}

}  // namespace
}  // namespace hn::emergency
