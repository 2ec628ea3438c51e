// doctor_checks.h — the X03 §6.2 standard checks that need more than one layer
// (keys_present, keys_loadable, community_present, event_log_writable) plus the generic
// disk_space and clock_sanity, registered for a node home.
//
// Thread-safety: the checks capture a copy of the paths; run them from any one thread.
#pragma once

#include "node/home.h"
#include "observability/doctor.h"

namespace hn::node {

// Registers every check that makes sense without a running node, in X03 §6.2 order.
Status register_standard_checks(observability::Doctor& doctor, const NodeHome& home);

}  // namespace hn::node
