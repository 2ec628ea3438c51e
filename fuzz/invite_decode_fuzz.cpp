// invite_decode_fuzz.cpp — libFuzzer target for the invite and id-card decoders (M13 §3.1
// decode_invite, §4.4): outside text → decode_invite / decode_node_id_card; neither may
// crash, and every accepted invite must re-encode to text that decodes to the same invite.
// Seeds: fuzz/corpus/invite_decode/ (a valid signed invite, an id card, a tampered invite).
//
// Thread-safety: libFuzzer calls this from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "onboarding/id_card.h"
#include "onboarding/invite.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto card = hn::onboarding::decode_node_id_card(text);
  if (card) {
    auto again = hn::onboarding::decode_node_id_card(hn::onboarding::encode_node_id_card(*card));
    if (!again || !(*again == *card)) std::abort();
  }
  auto invite = hn::onboarding::decode_invite(text);
  if (!invite) return 0;
  auto again = hn::onboarding::decode_invite(hn::onboarding::encode_invite(*invite));
  if (!again || !(*again == *invite)) std::abort();  // the decoder must be a fixed point
  return 0;
}
