// descriptor.h — the common start of a service's capability descriptor: a stable @1.0
// capability, idempotent, with empty params, its trust, concurrency and timeout. Services
// add their schemas (and change what differs) on the result.
//
// Thread-safety: a pure function.
#pragma once

#include "bus/capability.h"

namespace hn::bus {

inline CapabilityDescriptor stable_descriptor(const char* name, TrustLevel trust, int max_concurrent,
                                              int timeout_seconds) {
  CapabilityDescriptor d;
  d.name = name;
  d.version = Version{1, 0};
  d.stability = Stability::stable;
  d.params = Json::object();
  d.max_concurrent = max_concurrent;
  d.trust_required = trust;
  d.timeout_seconds = timeout_seconds;
  d.idempotent = true;
  return d;
}

}  // namespace hn::bus
