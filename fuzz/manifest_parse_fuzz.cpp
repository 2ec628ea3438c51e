// manifest_parse_fuzz.cpp — libFuzzer target for the manifest parsers (M01 §3.2): outside
// bytes → parse_json → parse_node_manifest → verify_node_manifest, and the same for
// community manifests. Invariants: no crash, every failure is a typed error, and a manifest
// that parses survives to_json → text → parse unchanged (so the signed form is stable).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/json.h"
#include "identity/manifest.h"

namespace {

// A fixed time inside the seed corpus' validity window keeps runs deterministic.
const hn::ManualClock& fuzz_clock() {
  static const hn::ManualClock clock(1'780'000'010'000);
  return clock;
}

void check_node(const hn::Json& json) {
  auto m = hn::identity::parse_node_manifest(json);
  if (!m) {
    if (m.error().code != hn::ErrorCode::bad_manifest) std::abort();
    return;
  }
  auto again = hn::identity::parse_node_manifest(std::string_view(m->to_json().dump()));
  if (!again || !(*again == *m)) std::abort();
  hn::identity::KeyPinStore pins;
  hn::identity::VerificationCache cache(fuzz_clock());
  auto first = hn::identity::verify_node_manifest(*m, fuzz_clock(), &pins, &cache);
  auto second = hn::identity::verify_node_manifest(*m, fuzz_clock(), &pins, &cache);
  if (first.has_value() != second.has_value()) std::abort();  // the cache agrees
  (void)m->is_expired(fuzz_clock());
}

void check_community(const hn::Json& json) {
  auto cm = hn::identity::parse_community_manifest(json);
  if (!cm) {
    if (cm.error().code != hn::ErrorCode::bad_manifest) std::abort();
    return;
  }
  auto again = hn::identity::parse_community_manifest(std::string_view(cm->to_json().dump()));
  if (!again || !(*again == *cm)) std::abort();
  auto signer = hn::identity::verify_community_manifest(*cm);
  (void)hn::identity::verify_community_manifest(*cm, &*cm);
  if (signer && !cm->may_sign(*signer)) std::abort();
  for (const auto& member : cm->members) {
    if (cm->is_revoked(member.node_id) && cm->is_member(member.node_id)) std::abort();
    (void)cm->level_of(member.node_id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parsed = hn::parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed) return 0;
  check_node(*parsed);
  check_community(*parsed);
  return 0;
}
