// doctor_checks.h — the twelve X03 §6.2 standard checks for a node home, in the spec's
// order: the cold-disk ones here (keys_present, keys_loadable, community_present,
// event_log_writable, plus the generic disk_space and clock_sanity), the socket and
// running-node ones from doctor_live_checks.h.
//
// Thread-safety: the checks capture a copy of the paths; run them from any one thread.
#pragma once

#include "node/home.h"
#include "observability/doctor.h"

namespace hn::node {

// Registers all twelve, in X03 §6.2 order.
Status register_standard_checks(observability::Doctor& doctor, const NodeHome& home);

}  // namespace hn::node
