// targets_test.cpp — `[emergency] probe_targets` syntax: resolvers by IP (port 53 unless
// given), web servers by host name or https:// URL, config_error naming the entry else.
#include "emergency/targets.h"

#include <gtest/gtest.h>

namespace hn::emergency {
namespace {

TEST(ProbeTargets, TheDefaultsAndTestForms) {
  auto t = parse_probe_targets({"1.1.1.1", "8.8.8.8", "cloudflare.com", "quad9.net",
                                "127.0.0.1:5353", "[::1]:53", "https://127.0.0.1:8443/health",
                                "::1"});
  ASSERT_TRUE(t.has_value()) << t.error().to_string();
  EXPECT_EQ((*t)[0].kind, ProbeTarget::Kind::dns);
  EXPECT_EQ((*t)[0].port, 53);
  EXPECT_EQ((*t)[2].kind, ProbeTarget::Kind::https);
  EXPECT_EQ((*t)[2].host, "cloudflare.com");
  EXPECT_EQ((*t)[2].port, 443);
  EXPECT_EQ((*t)[2].path, "/");
  EXPECT_EQ((*t)[4].host, "127.0.0.1");
  EXPECT_EQ((*t)[4].port, 5353);
  EXPECT_EQ((*t)[5].host, "::1");
  EXPECT_EQ((*t)[6].kind, ProbeTarget::Kind::https);
  EXPECT_EQ((*t)[6].port, 8443);
  EXPECT_EQ((*t)[6].path, "/health");
  EXPECT_EQ((*t)[7].kind, ProbeTarget::Kind::dns);
  EXPECT_EQ((*t)[6].text, "https://127.0.0.1:8443/health");
}

TEST(ProbeTargets, BadEntriesNameTheirIndex) {
  for (const char* bad : {"http://example.com", "1.1.1.1:0", "1.1.1.1:99999", "exa mple.com",
                          "https://", "[::1", "a..b"}) {
    auto t = parse_probe_targets({"1.1.1.1", bad});
    ASSERT_FALSE(t.has_value()) << bad;
    EXPECT_EQ(t.error().code, ErrorCode::config_error);
    EXPECT_NE(t.error().message.find("emergency.probe_targets[1]"), std::string::npos)
        << t.error().message;
  }
}

}  // namespace
}  // namespace hn::emergency
