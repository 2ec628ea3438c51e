// udp_beacon_fuzz.cpp — libFuzzer target for the UDP discovery beacon (M02 §3.5): any
// datagram must parse + verify to a Beacon or a typed error, never crash; an accepted
// beacon must be internally consistent (short id derived from the signing key, port > 0).
// Build: link with hn_discovery (lead wires it into fuzz/CMakeLists.txt).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "core/error.h"
#include "discovery/beacon.h"
#include "identity/keys.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto beacon = hn::discovery::parse_beacon(std::span<const std::uint8_t>(data, size));
  if (!beacon) {
    auto code = beacon.error().code;
    if (code != hn::ErrorCode::bad_request && code != hn::ErrorCode::invalid_signature) {
      std::abort();  // only the documented error codes
    }
    return 0;
  }
  if (size > hn::discovery::BEACON_MAX_BYTES || beacon->port == 0) std::abort();
  auto key = hn::identity::parse_node_id(beacon->node_id.str());
  if (!key || hn::identity::short_node_id(*key) != beacon->node_short) std::abort();
  (void)hn::discovery::is_beacon_fresh(*beacon, 1'780'000'000);
  return 0;
}
