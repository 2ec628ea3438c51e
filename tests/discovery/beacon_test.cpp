// beacon_test.cpp — UDP beacon format (M02 §3.5), announce cadence (§3.4), mDNS TXT
// records and instance names (§3.3), endpoint parsing.
#include "discovery/beacon.h"

#include <gtest/gtest.h>

#include "core/json.h"
#include "discovery/manifest_source.h"
#include "discovery/mdns.h"

namespace hn::discovery {
namespace {

const std::string COMMUNITY = "ed25519:NIED-AAAA-BBBB-CCCC";

TEST(DiscoveryBeacon, EncodeParseRoundTrip) {
  auto keys = identity::KeyPair::generate();
  std::string wire = encode_beacon(keys, COMMUNITY, 7080, {"llm.chat", "rag.query"}, 1780000000);
  auto b = parse_beacon(wire);
  ASSERT_TRUE(b.has_value()) << b.error().to_string();
  EXPECT_EQ(b->node_short, keys.short_id());
  EXPECT_EQ(b->node_id, keys.node_id());
  EXPECT_EQ(b->community_short, COMMUNITY);
  EXPECT_EQ(b->port, 7080);
  EXPECT_EQ(b->caps, (std::vector<std::string>{"llm.chat", "rag.query"}));
  EXPECT_EQ(b->ts, 1780000000);
  // The spec's fields are there verbatim (§3.5).
  auto j = parse_json(wire);
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ((*j)["v"], 1);
  EXPECT_EQ((*j)["port"], 7080);
  EXPECT_TRUE((*j)["signature"].is_string());
}

TEST(DiscoveryBeacon, UdpPayloadUnder1Kb) {
  auto keys = identity::KeyPair::generate();
  std::vector<std::string> caps;
  for (int i = 0; i < 60; ++i) caps.push_back("service.capability_number_" + std::to_string(i));
  std::string wire = encode_beacon(keys, COMMUNITY, 7080, caps, 1780000000);
  EXPECT_LE(wire.size(), BEACON_MAX_BYTES);
  auto b = parse_beacon(wire);
  ASSERT_TRUE(b.has_value()) << b.error().to_string();
  EXPECT_GT(b->caps.size(), 0u);
  EXPECT_LT(b->caps.size(), caps.size());  // dropped from the end to fit
  EXPECT_EQ(b->caps.front(), caps.front());
}

TEST(DiscoveryBeacon, TamperedBeaconIsRefused) {
  auto keys = identity::KeyPair::generate();
  auto j = *parse_json(encode_beacon(keys, COMMUNITY, 7080, {"llm.chat"}, 1780000000));
  j["port"] = 7081;  // redirect fetches elsewhere
  auto b = parse_beacon(canonical_json(j));
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().code, ErrorCode::invalid_signature);
}

TEST(DiscoveryBeacon, BeaconSignedByAnotherKeyIsRefused) {
  auto keys = identity::KeyPair::generate();
  auto other = identity::KeyPair::generate();
  auto j = *parse_json(encode_beacon(keys, COMMUNITY, 7080, {}, 1780000000));
  j.erase("signature");
  j = other.sign(j);  // signature by another key under keys' node id
  auto b = parse_beacon(canonical_json(j));
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().code, ErrorCode::invalid_signature);
}

TEST(DiscoveryBeacon, UnsignedSpecBeaconIsRefused) {
  auto keys = identity::KeyPair::generate();
  auto j = *parse_json(encode_beacon(keys, COMMUNITY, 7080, {}, 1780000000));
  j.erase("signature");
  auto b = parse_beacon(canonical_json(j));
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().code, ErrorCode::invalid_signature);
}

TEST(DiscoveryBeacon, MalformedDatagramsAreTypedErrors) {
  auto keys = identity::KeyPair::generate();
  auto good = *parse_json(encode_beacon(keys, COMMUNITY, 7080, {}, 1780000000));
  std::vector<std::string> bad = {"", "not json", "[]", "{}", "{\"v\":1}",
                                  std::string(2000, '{'), std::string(1100, ' ')};
  for (const char* field : {"v", "node", "community", "port", "caps", "node_id", "ts"}) {
    auto j = good;
    j[field] = Json::array({1, 2});
    bad.push_back(canonical_json(j));
    j.erase(field);
    bad.push_back(canonical_json(j));
  }
  auto j = good;
  j["v"] = 2;
  bad.push_back(canonical_json(j));
  j = good;
  j["port"] = 70000;
  bad.push_back(canonical_json(j));
  j = good;
  j["node"] = "ed25519:AAAA-BBBB-CCCC-DDDD";  // short id not derived from node_id
  bad.push_back(canonical_json(j));
  j = good;
  j["extra"] = 1;
  bad.push_back(canonical_json(j));
  for (const auto& d : bad) {
    auto b = parse_beacon(d);
    EXPECT_FALSE(b.has_value()) << d.substr(0, 80);
    if (!b) {
      EXPECT_TRUE(b.error().code == ErrorCode::bad_request ||
                  b.error().code == ErrorCode::invalid_signature)
          << b.error().to_string();
    }
  }
}

TEST(DiscoveryBeacon, Freshness) {
  Beacon b;
  b.ts = 1000;
  EXPECT_TRUE(is_beacon_fresh(b, 1000));
  EXPECT_TRUE(is_beacon_fresh(b, 1000 + BEACON_MAX_SKEW_SECONDS));
  EXPECT_FALSE(is_beacon_fresh(b, 1001 + BEACON_MAX_SKEW_SECONDS));
  EXPECT_FALSE(is_beacon_fresh(b, 999 - BEACON_MAX_SKEW_SECONDS));
  b.ts = INT64_MIN;
  EXPECT_FALSE(is_beacon_fresh(b, 1000));
  b.ts = INT64_MAX;
  EXPECT_FALSE(is_beacon_fresh(b, 1000));
}

TEST(DiscoveryAnnounceCadence, ActiveUntilTwoPeersThenStable) {
  using std::chrono::seconds;
  EXPECT_EQ(next_announce_interval(0, false), seconds(5));
  EXPECT_EQ(next_announce_interval(1, false), seconds(5));
  EXPECT_EQ(next_announce_interval(2, false), seconds(30));
  EXPECT_EQ(next_announce_interval(50, false), seconds(30));
  EXPECT_EQ(next_announce_interval(50, true), seconds(5));  // M09 offline: fast
}

TEST(DiscoveryMdnsTxt, RecordsPerSpec) {
  MdnsServiceInfo info;
  info.node_short = "ed25519:7H4G-Y9KL-2P3M-X8QR";
  info.display_name = "garage-pc";
  info.community_short = COMMUNITY;
  info.profile = Profile::anchor;
  info.port = 7080;
  info.caps = {"llm.chat", "rag.query"};
  info.manifest_url = "https://192.168.1.5:7080/manifest";
  auto txt = build_txt_records(info);
  std::vector<std::pair<std::string, std::string>> want = {
      {"v", "1"},
      {"node", "ed25519:7H4G-Y9KL-2P3M-X8QR"},
      {"community", COMMUNITY},
      {"profile", "anchor"},
      {"caps", "llm.chat,rag.query"},
      {"manifest_url", "https://192.168.1.5:7080/manifest"},
      {"contract_version", "1.0"}};
  EXPECT_EQ(txt, want);
  EXPECT_EQ(mdns_instance_name(info.display_name, info.node_short), "garage-pc-7H4G");
}

TEST(DiscoveryMdnsTxt, ParseTxtRecords) {
  std::map<std::string, std::string> m = {{"v", "1"},
                                          {"node", "ed25519:7H4G-Y9KL-2P3M-X8QR"},
                                          {"community", COMMUNITY},
                                          {"profile", "spark"},
                                          {"caps", "a.b,c.d"},
                                          {"manifest_url", "https://h:1/manifest"},
                                          {"contract_version", "1.0"}};
  auto t = parse_txt_records(m);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->node_short, "ed25519:7H4G-Y9KL-2P3M-X8QR");
  EXPECT_EQ(t->profile, Profile::spark);
  EXPECT_EQ(t->caps, (std::vector<std::string>{"a.b", "c.d"}));
  EXPECT_EQ(t->contract_version, "1.0");
  m["caps"] = "";
  EXPECT_TRUE(parse_txt_records(m)->caps.empty());
  m["profile"] = "wizard";
  EXPECT_FALSE(parse_txt_records(m).has_value());
  m["profile"] = "spark";
  m["v"] = "2";
  EXPECT_FALSE(parse_txt_records(m).has_value());
  m.erase("v");
  EXPECT_FALSE(parse_txt_records(m).has_value());
}

TEST(DiscoveryMdnsTxt, CapsTruncatedTo200BytesOfWholeNames) {
  std::vector<std::string> caps;
  for (int i = 0; i < 40; ++i) caps.push_back("cap.number" + std::to_string(i));
  std::string joined = join_caps_truncated(caps);
  EXPECT_LE(joined.size(), MDNS_CAPS_MAX_BYTES);
  EXPECT_GT(joined.size(), MDNS_CAPS_MAX_BYTES - 14);
  EXPECT_NE(joined.back(), ',');
  std::size_t start = 0;
  int i = 0;
  while (start < joined.size()) {  // every kept name is whole and in order
    auto comma = joined.find(',', start);
    if (comma == std::string::npos) comma = joined.size();
    EXPECT_EQ(joined.substr(start, comma - start), caps[i++]);
    start = comma + 1;
  }
}

TEST(DiscoveryMdnsTxt, InstanceNameFitsALabel) {
  std::string longname(100, 'x');
  auto n = mdns_instance_name(longname, "ed25519:ABCD-EFGH");
  EXPECT_EQ(n.size(), MDNS_INSTANCE_MAX_BYTES);
  EXPECT_EQ(n.substr(n.size() - 5), "-ABCD");
  // A multi-byte character is never cut in half.
  std::string umlauts;
  for (int i = 0; i < 40; ++i) umlauts += "\xc3\xa4";  // ä
  auto u = mdns_instance_name(umlauts, "ed25519:ABCD");
  EXPECT_LE(u.size(), MDNS_INSTANCE_MAX_BYTES);
  EXPECT_EQ((u.size() - 5) % 2, 0u);
}

TEST(DiscoveryEndpoint, ParseHostPort) {
  auto a = parse_peer_endpoint("192.168.1.5:7080");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->host, "192.168.1.5");
  EXPECT_EQ(a->port, 7080);
  EXPECT_EQ(a->manifest_url(), "https://192.168.1.5:7080/manifest");
  auto b = parse_peer_endpoint("[fe80::1]:443");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->host, "fe80::1");
  EXPECT_EQ(b->to_string(), "[fe80::1]:443");
  auto c = parse_peer_endpoint("garage.local:7080");
  ASSERT_TRUE(c.has_value());
  for (const char* bad : {"", "host", "host:", ":80", "host:0", "host:65536", "host:80x",
                          "fe80::1:80", "[fe80::1]80", "a b:80"}) {
    EXPECT_FALSE(parse_peer_endpoint(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace hn::discovery
