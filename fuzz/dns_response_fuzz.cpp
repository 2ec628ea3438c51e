// dns_response_fuzz.cpp — the emergency detector's DNS response parser (any host that can
// send us a UDP datagram reaches it): parse_message and check_answer must never crash,
// read out of bounds or loop, whatever the bytes.
#include <cstddef>
#include <cstdint>
#include <span>

#include "emergency/dns.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto m = hn::emergency::parse_message(std::span<const std::uint8_t>(data, size));
  if (!m) return 0;
  (void)hn::emergency::check_answer(*m, m->id, "cloudflare.com");
  if (!m->questions.empty()) (void)hn::emergency::check_answer(*m, m->id, m->questions[0].name);
  (void)hn::emergency::encode_response(std::span<const std::uint8_t>(data, size), {{192, 0, 2, 1}});
  return 0;
}
