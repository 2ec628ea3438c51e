// service.h — what every service implements to offer capabilities (M03 §4). The bus knows
// services only through this interface; it never includes a service header. Services live
// in src/services/<name>/, are built from a ServiceContext (service/context.h) and run
// under the node's ServiceHost (service/host.h), which gives each one its own bounded
// queue (execution()) and starts and stops them in order.
//
// Thread-safety: capabilities() is called once, at start; the handlers it returns run on
// the service's queue threads, concurrently, and must be thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "bus/capability.h"
#include "core/error.h"
#include "core/json.h"

namespace hn::bus {

// How a service's calls run: `threads` of its own, at most `queue` calls waiting for one
// (a call beyond that gets capacity_exceeded with retry_after_ms). A capability may bring
// its own executor instead (LocalCapability::executor) for a second class of work.
struct ExecutionSpec {
  std::size_t threads = 1;
  std::size_t queue = 64;
};

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
  // Its queue (above).
  virtual ExecutionSpec execution() const { return {}; }
  // Warm up backends, open databases. Called before its capabilities are registered.
  virtual Status start() { return {}; }
  // Release resources. Called after its capabilities were withdrawn and its in-flight
  // calls finished (the host drains first).
  virtual void stop() {}
  // Implementation-specific health blob (for /health and `hearthnet status`).
  virtual Json health() const { return Json::object(); }
};

}  // namespace hn::bus
