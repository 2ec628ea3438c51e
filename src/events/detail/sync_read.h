// sync_read.h — reading a log's events by sync key under a byte budget, for the server's
// fetch replies and the client's pushes (sync.h).
//
// Thread-safety: as EventLog's reads; the index is immutable.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "core/error.h"
#include "events/event_log.h"
#include "events/sync.h"
#include "events/types.h"

namespace hn::events::detail {

struct ReadBatch {
  std::vector<Event> events;  // in key order
  std::size_t consumed = 0;   // keys fully handled (found or absent); < size when truncated
};

// Reads the events for sorted, unique keys, up to max_bytes (at least one event). Runs of
// keys dense among the log's keys are read with one ordered scan over their Lamport span
// instead of one lookup each; keys the index lacks (it may be stale) are looked up singly.
// A key whose event is absent, or stored under another Lamport, is skipped.
Result<ReadBatch> read_by_keys(EventLog& log, const SyncIndex& index, std::span<const SyncKey> keys,
                               std::size_t max_bytes);

}  // namespace hn::events::detail
