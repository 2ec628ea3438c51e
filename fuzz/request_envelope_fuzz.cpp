// request_envelope_fuzz.cpp — libFuzzer target for the signed request envelope
// (CONTRACT §5.1): bytes → "Name: value" header lines, a blank line, a JSON body →
// envelope_from_headers → parse_json → verify_request; plus the query-string parser on
// the first line. Nothing here may crash, whatever the bytes; and the directly written
// signing strings must equal the canonical JSON of the contract's payload objects.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"
#include "transport/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hn::transport;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Headers headers;
  std::string_view rest = text;
  bool first = true;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    if (first) {
      (void)parse_query(line);
      first = false;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  auto envelope = envelope_from_headers(headers);
  auto body = hn::parse_json(rest);
  hn::Json json_body = body ? *body : hn::Json::object();
  if (envelope) {
    (void)verify_request(*envelope, json_body);
    auto direct = request_signing_string(*envelope, json_body);
    auto reference = hn::try_canonical_json(build_signed_payload(*envelope, json_body));
    if (direct.has_value() != reference.has_value() || (direct && *direct != *reference)) std::abort();
  }
  if (auto sig = response_signature_from_headers(headers)) {
    (void)verify_response(*sig, 200, json_body, sig->from);
    auto direct = response_signing_string(*sig, 200, json_body);
    auto reference = hn::try_canonical_json(build_response_payload(*sig, 200, json_body));
    if (direct.has_value() != reference.has_value() || (direct && *direct != *reference)) std::abort();
  }
  (void)parse_error_response(400, json_body);
  return 0;
}
