// parse.h — typed parsing of the text that reaches the node from outside its config: query
// values of its routes (bad input → bad_request) and its environment test hooks (bad value →
// config_error). No exceptions; every function answers a value or an Error.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/error.h"

namespace hn::node::detail {

// A whole base-10 integer ("-12", "300"); no sign other than a leading '-', no spaces, no
// trailing text. bad_request names `what` when the text is empty, not a number or out of
// the int64 range.
Result<std::int64_t> parse_decimal(std::string_view text, std::string_view what);

// GET /trace/recent?n=: how many traces, clamped to 1..max (the X03 ring's size);
// bad_request when `text` is not an integer.
Result<std::size_t> parse_trace_count(std::string_view text, std::size_t max);

// An interval test hook of the environment named `name` (tests/functional): unset or
// empty → nullopt (the spec's period); else a whole number of seconds in 1..2^31-1,
// config_error (naming `name`) otherwise.
Result<std::optional<std::chrono::seconds>> parse_interval_override(const char* value,
                                                                    std::string_view name);
// HEARTHNET_SYNC_INTERVAL_SECONDS: the sync period (X02 §3.6, 300 s).
Result<std::optional<std::chrono::seconds>> parse_sync_interval_override(const char* value);
// HEARTHNET_STATIC_PEER_INTERVAL_SECONDS: the static peers' re-poll period (M02, 30 s).
Result<std::optional<std::chrono::seconds>> parse_static_peer_interval_override(
    const char* value);

}  // namespace hn::node::detail
