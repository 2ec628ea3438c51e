// parse.cpp — typed parsing of the node's query values and environment test hooks.
#include "node/detail/parse.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <string>
#include <system_error>

namespace hn::node::detail {

Result<std::int64_t> parse_decimal(std::string_view text, std::string_view what) {
  std::int64_t value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, value);
  if (text.empty() || ec != std::errc() || end != last) {
    return make_error(ErrorCode::bad_request,
                      std::string(what) + " must be an integer, not '" + std::string(text) + "'");
  }
  return value;
}

Result<std::size_t> parse_trace_count(std::string_view text, std::size_t max) {
  HN_TRY_ASSIGN(std::int64_t n, parse_decimal(text, "n"));
  const auto upper = static_cast<std::int64_t>(std::max<std::size_t>(1, max));
  return static_cast<std::size_t>(std::clamp<std::int64_t>(n, 1, upper));
}

Result<std::optional<std::chrono::seconds>> parse_interval_override(const char* value,
                                                                    std::string_view name) {
  if (value == nullptr || *value == '\0') return std::optional<std::chrono::seconds>();
  auto n = parse_decimal(value, name);
  if (!n || *n < 1 || *n > std::numeric_limits<std::int32_t>::max()) {
    return make_error(ErrorCode::config_error,
                      std::string(name) + " must be a whole number of seconds from 1, not '" +
                          value + "'");
  }
  return std::optional<std::chrono::seconds>(std::chrono::seconds(*n));
}

Result<std::optional<std::chrono::seconds>> parse_sync_interval_override(const char* value) {
  return parse_interval_override(value, "HEARTHNET_SYNC_INTERVAL_SECONDS");
}

Result<std::optional<std::chrono::seconds>> parse_static_peer_interval_override(
    const char* value) {
  return parse_interval_override(value, "HEARTHNET_STATIC_PEER_INTERVAL_SECONDS");
}

}  // namespace hn::node::detail
