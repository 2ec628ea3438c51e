// sync_common.h — what sync's files share for judging a peer's bytes (sync.h): the
// bad_request error every decoder and check returns, and the community-id limit.
//
// Thread-safety: constants and a pure function.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "core/error.h"

namespace hn::events::detail {

// Longest community id accepted (types.cpp accepts the same).
inline constexpr std::size_t MAX_COMMUNITY_ID = 128;

// A bad_request error whose message says it came from sync.
inline Error bad(std::string msg) {
  return make_error(ErrorCode::bad_request, "sync: " + std::move(msg));
}

}  // namespace hn::events::detail
