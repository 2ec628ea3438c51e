// beacon.h — the UDP multicast announcement (M02 §3.5) and the announce cadence (§3.4).
//
// Wire form (one JSON object per datagram, at most BEACON_MAX_BYTES):
//   {"v":1,"node":"ed25519:7H4G-Y9KL-…","community":"ed25519:NIED-…","port":7080,
//    "caps":["llm.chat","rag.query"],"node_id":"ed25519:<full>","ts":1780000000,
//    "signature":"ed25519:…"}
// The first five fields are the spec's (§3.5; node/community in their short forms).
// Decision (deviation): the spec sends the beacon unsigned; we add the full node id, a
// unix-seconds timestamp and an Ed25519 signature over the canonical JSON (CONTRACT §1.3),
// so a spoofed beacon cannot point our manifest fetches at another host in a node's name.
// Unsigned, malformed, oversized or inconsistent datagrams are refused with a typed error.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/types.h"
#include "identity/keys.h"

namespace hn::discovery {

inline constexpr int BEACON_VERSION = 1;
inline constexpr std::size_t BEACON_MAX_BYTES = 1024;  // M02 §3.5 "Max 1KB"
// A beacon whose ts is further than this from our clock is refused (replay guard).
inline constexpr std::int64_t BEACON_MAX_SKEW_SECONDS = 300;

struct Beacon {
  std::string node_short;       // "node": short node id
  NodeId node_id;               // "node_id": full node id (signer)
  std::string community_short;  // "community": short community id
  std::uint16_t port = 0;       // "port": the node's HTTPS port
  std::vector<std::string> caps;  // "caps": capability names
  std::int64_t ts = 0;          // "ts": unix seconds when sent
};

// Encodes and signs a beacon for keys (node_short and node_id are taken from keys).
// Capability names are dropped from the end until the datagram fits BEACON_MAX_BYTES.
std::string encode_beacon(const identity::KeyPair& keys, std::string_view community_short,
                          std::uint16_t port, const std::vector<std::string>& caps,
                          std::int64_t ts);

// Parses and verifies one datagram. Errors: bad_request (size, JSON, fields, short id not
// derived from node_id), invalid_signature (missing or wrong signature). Never throws.
Result<Beacon> parse_beacon(std::span<const std::uint8_t> datagram);
Result<Beacon> parse_beacon(std::string_view datagram);

// Whether ts is within BEACON_MAX_SKEW_SECONDS of now_seconds.
bool is_beacon_fresh(const Beacon& beacon, std::int64_t now_seconds,
                     std::int64_t max_skew_seconds = BEACON_MAX_SKEW_SECONDS);

// The pause before the next announcement — M02 §3.4, §4.3: the active interval
// (DISCOVERY_UDP_INTERVAL_ACTIVE_SECONDS, 5 s) while fewer than 2 peers are known or in
// fast mode (M09 offline), else the stable interval (30 s).
std::chrono::seconds next_announce_interval(std::size_t peer_count, bool fast_mode);

}  // namespace hn::discovery
