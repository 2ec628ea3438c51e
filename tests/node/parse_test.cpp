// parse_test.cpp — the node's typed parsing of outside text (detail/parse.h): whole
// integers only, trace counts clamped to the ring, the sync-interval hook a config_error
// when malformed.
#include "node/detail/parse.h"

#include <gtest/gtest.h>

namespace hn::node::detail {
namespace {

TEST(NodeParse, DecimalIsAWholeInteger) {
  EXPECT_EQ(*parse_decimal("0", "n"), 0);
  EXPECT_EQ(*parse_decimal("300", "n"), 300);
  EXPECT_EQ(*parse_decimal("-12", "n"), -12);
  for (const char* bad : {"", " 5", "5 ", "5abc", "+5", "abc", "1e3", "99999999999999999999"}) {
    auto r = parse_decimal(bad, "n");
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::bad_request) << bad;
  }
}

TEST(NodeParse, TraceCountIsClampedToTheRing) {
  EXPECT_EQ(*parse_trace_count("5", 10000), 5u);
  EXPECT_EQ(*parse_trace_count("0", 10000), 1u);
  EXPECT_EQ(*parse_trace_count("-3", 10000), 1u);
  EXPECT_EQ(*parse_trace_count("123456", 10000), 10000u);
  EXPECT_EQ(parse_trace_count("lots", 10000).error().code, ErrorCode::bad_request);
  EXPECT_EQ(parse_trace_count("", 10000).error().code, ErrorCode::bad_request);
}

TEST(NodeParse, SyncIntervalHook) {
  EXPECT_FALSE(parse_sync_interval_override(nullptr)->has_value());
  EXPECT_FALSE(parse_sync_interval_override("")->has_value());
  EXPECT_EQ(**parse_sync_interval_override("2"), std::chrono::seconds(2));
  for (const char* bad : {"0", "-1", "2s", "soon", "3000000000"}) {
    auto r = parse_sync_interval_override(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::config_error) << bad;
  }
}

TEST(NodeParse, StaticPeerIntervalHook) {
  EXPECT_FALSE(parse_static_peer_interval_override(nullptr)->has_value());
  EXPECT_FALSE(parse_static_peer_interval_override("")->has_value());
  EXPECT_EQ(**parse_static_peer_interval_override("1"), std::chrono::seconds(1));
  for (const char* bad : {"0", "-1", "2s", "soon", "3000000000"}) {
    auto r = parse_static_peer_interval_override(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::config_error) << bad;
    EXPECT_NE(r.error().message.find("HEARTHNET_STATIC_PEER_INTERVAL_SECONDS"), std::string::npos);
  }
}

}  // namespace
}  // namespace hn::node::detail
