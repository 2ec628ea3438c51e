// service.h — what every L4 service implements to offer capabilities (M03 §4). The bus
// knows services only through this interface; it never includes a service header.
//
// Thread-safety: capabilities() is called once at registration; handlers it returns are
// called concurrently from the bus's callers' threads and must be thread-safe.
#pragma once

#include <string>
#include <vector>

#include "bus/capability.h"
#include "core/error.h"
#include "core/json.h"

namespace hn::bus {

class Service {
 public:
  virtual ~Service() = default;
  // "llm" | "rag" | "marketplace" | …
  virtual std::string name() const = 0;
  // The service's own version (not a capability version).
  virtual std::string version() const = 0;
  // The CONTRACT §3.1 prefixes this service owns ("market" for the marketplace).
  virtual std::vector<std::string> namespace_prefixes() const { return {name()}; }
  // (descriptor, handler(s), params predicate) for each offered capability.
  virtual std::vector<LocalCapability> capabilities() = 0;
  // Warm up backends, open databases.
  virtual Status start() { return {}; }
  // Release resources.
  virtual void stop() {}
  // Implementation-specific health blob (for /health).
  virtual Json health() const { return Json::object(); }
};

}  // namespace hn::bus
