// event_columns.h — the column list every SELECT of whole events reads, in the order
// EventLog::row_to_event expects it (event_log.h).
//
// Thread-safety: a constant.
#pragma once

namespace hn::events::detail {

inline constexpr const char* EVENT_COLUMNS =
    "event_id, schema_version, lamport, wall_clock, community_id, author, event_type, data, "
    "signature, seq";

}  // namespace hn::events::detail
