// time.h — RFC 3339 UTC timestamps as the wire uses them (CONTRACT §1.1):
// "2026-05-26T08:14:22Z", optionally with milliseconds ("...22.281Z") for tracing.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hn {

// Seconds since the epoch → "YYYY-MM-DDTHH:MM:SSZ".
std::string format_rfc3339(std::int64_t unix_seconds);
// Milliseconds since the epoch → "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string format_rfc3339_ms(std::int64_t unix_ms);
// Parses "YYYY-MM-DDTHH:MM:SS[.fff]Z" (UTC only) → milliseconds since the epoch.
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text);
// The same, truncated to seconds.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

}  // namespace hn
