// ui_request_fuzz.cpp — what a browser (or any LAN client) sends the dashboard's server
// (src/ui): the Cookie header and request target the session check reads, and the JSON
// body of POST /api/call. Input: "<cookie>\n<target>\n<body>". Must never crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.h"
#include "ui/detail/server_impl.h"
#include "ui/session.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto nl1 = in.find('\n');
  std::string_view cookie = in.substr(0, nl1);
  std::string_view rest = nl1 == std::string_view::npos ? std::string_view{} : in.substr(nl1 + 1);
  auto nl2 = rest.find('\n');
  std::string_view target = rest.substr(0, nl2);
  std::string_view body = nl2 == std::string_view::npos ? std::string_view{} : rest.substr(nl2 + 1);

  (void)hn::ui::admit(target, cookie, "fuzz-token");
  (void)hn::ui::query_value(target, "token");
  (void)hn::ui::target_without_token(target);
  (void)hn::ui::cookie_value(cookie, "hn_ui");
  hn::Json j = hn::Json::parse(body.begin(), body.end(), nullptr, false);
  if (!j.is_discarded() && j.is_object()) (void)hn::ui::detail::parse_call(j);
  return 0;
}
