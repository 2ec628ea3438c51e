// dns.h — the tiny DNS codec the emergency detector's probes need (M09 §5.1 "DNS A query"):
// one query of one question (RFC 1035 §4.1), a bounded parser of the response, and the
// check that a response answers our query. Also the answer a test resolver sends back
// (encode_response). Why not a library: doc/design/emergency.md.
//
// The parser reads bytes from the network (any host that can send us a UDP datagram):
// it never reads past the buffer, follows compression pointers only backwards (no loops),
// caps names at 255 octets and counts at what the buffer can hold, and answers a typed
// bad_request for anything malformed (fuzz/dns_response_fuzz.cpp).
//
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace hn::emergency {

inline constexpr std::uint16_t DNS_TYPE_A = 1;
inline constexpr std::uint16_t DNS_TYPE_CNAME = 5;
inline constexpr std::uint16_t DNS_CLASS_IN = 1;
inline constexpr std::uint16_t DNS_RCODE_NOERROR = 0;
inline constexpr std::uint16_t DNS_RCODE_SERVFAIL = 2;
inline constexpr std::uint16_t DNS_RCODE_NXDOMAIN = 3;
// The largest datagram we read (EDNS answers stay well below; RFC 1035 plain UDP is 512).
inline constexpr std::size_t DNS_MAX_MESSAGE = 4096;

using Ipv4 = std::array<std::uint8_t, 4>;

struct DnsQuestion {
  std::string name;  // lower case, no trailing dot
  std::uint16_t type = DNS_TYPE_A;
  std::uint16_t klass = DNS_CLASS_IN;
};

struct DnsRecord {
  std::string name;
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
  std::uint32_t ttl = 0;
  std::vector<std::uint8_t> rdata;
};

struct DnsMessage {
  std::uint16_t id = 0;
  std::uint16_t flags = 0;
  std::vector<DnsQuestion> questions;
  std::vector<DnsRecord> answers;  // the answer section; authority/additional are skipped

  bool is_response() const { return (flags & 0x8000) != 0; }
  bool truncated() const { return (flags & 0x0200) != 0; }
  std::uint16_t rcode() const { return flags & 0x000F; }
};

// A standard recursive query (RD set) for `name`; bad_request for a name that is not a
// valid host name (empty label, label > 63 octets, name > 253 characters).
Result<std::vector<std::uint8_t>> encode_query(std::uint16_t id, std::string_view name,
                                               std::uint16_t type = DNS_TYPE_A);

// Parses a whole DNS message; bad_request naming what is wrong for malformed bytes.
Result<DnsMessage> parse_message(std::span<const std::uint8_t> bytes);

// Whether `response` answers our query (id, QR, the one question echoed) with NOERROR and
// at least one A record for the name (directly or at the end of a CNAME chain); returns
// the addresses. bad_request for a mismatch, not_found for NXDOMAIN, partition for
// SERVFAIL/REFUSED/other rcodes, not_found for an empty answer.
Result<std::vector<Ipv4>> check_answer(const DnsMessage& response, std::uint16_t id,
                                       std::string_view name);

// The response a resolver gives to `query` (whose bytes parse): the question echoed, one
// A record per address (TTL 60), the given rcode. For test resolvers and fuzz seeds.
Result<std::vector<std::uint8_t>> encode_response(std::span<const std::uint8_t> query,
                                                  const std::vector<Ipv4>& addresses,
                                                  std::uint16_t rcode = DNS_RCODE_NOERROR);

}  // namespace hn::emergency
