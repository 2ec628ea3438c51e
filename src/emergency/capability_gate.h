// capability_gate.h — M09 §5.2: while the node is offline, the local capabilities whose
// descriptor says `params.requires_internet: true` are off the bus (no call reaches them,
// our manifest stops listing them); when the node is online again they come back with the
// same descriptor and handlers. A capability registered while the gate is closed is taken
// off as soon as it appears.
//
// Thread-safety: close() / open() / withdrawn() are safe from any thread (one mutex); the
// registry listener may run on any thread that registers a capability.
// Invariant: while closed, no local requires_internet entry stays in the registry for
// longer than its registration call; every entry taken off is restored by open() unless
// it was registered anew meanwhile.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "bus/capability.h"
#include "bus/registry.h"

namespace hn::emergency {

// Whether a descriptor declares that it needs the internet (params.requires_internet).
bool requires_internet(const bus::CapabilityDescriptor& d);

class CapabilityGate {
 public:
  explicit CapabilityGate(bus::Registry& registry);
  ~CapabilityGate();
  CapabilityGate(const CapabilityGate&) = delete;
  CapabilityGate& operator=(const CapabilityGate&) = delete;

  // Takes every local requires_internet capability off; returns their "name@version".
  std::vector<std::string> close();
  // Puts back what close() took; returns their "name@version".
  std::vector<std::string> open();
  bool is_closed() const;
  // "name@version" of each capability held off now.
  std::vector<std::string> withdrawn() const;

 private:
  void take_off(const bus::CapabilityEntry& e);

  bus::Registry& m_registry;
  std::uint64_t m_subscription = 0;
  mutable std::mutex m_mutex;
  bool m_closed = false;
  std::map<bus::EntryKey, bus::LocalCapability> m_held;
};

}  // namespace hn::emergency
