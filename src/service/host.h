// host.h — the ServiceHost: builds the node's services from one list (service_list in the
// node), gives each its own bounded WorkQueue (bus::Service::execution()), registers their
// capabilities with that queue as executor, starts them in list order and stops them in
// reverse: withdraw the capabilities (no new calls), drain the queue (in-flight calls
// finish), then Service::stop(). health() reports each one for /health and `status`.
//
// A running service may offer more capabilities later (ServiceContext::offer, which
// start_all wires to offer() below): a RAG corpus created by an ingest, for one.
//
// Thread-safety: add/start_all/stop_all from one thread (the node's composition);
// health()/queues()/offer() from any thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bus/bus.h"
#include "bus/service.h"
#include "core/error.h"
#include "core/json.h"
#include "core/work_queue.h"
#include "service/context.h"

namespace hn::service {

// One line of the node's service list: the service's folder name and its factory.
struct ServiceFactory {
  std::string name;
  std::function<std::unique_ptr<bus::Service>(const ServiceContext&)> make;
};

class ServiceHost {
 public:
  explicit ServiceHost(bus::CapabilityBus& bus) : m_bus(bus) {}
  ~ServiceHost();  // stop_all()
  ServiceHost(const ServiceHost&) = delete;
  ServiceHost& operator=(const ServiceHost&) = delete;

  // Builds every service of `list` with `ctx` (its data_dir set to base_dir/<name>) and
  // starts them in order. On the first failure, the ones already started are stopped
  // again and the error names the service.
  Status start_all(const std::vector<ServiceFactory>& list, ServiceContext ctx,
                   const std::filesystem::path& base_dir);
  // Adds and starts one built service (start_all uses it; tests use it directly).
  Status start(std::unique_ptr<bus::Service> service);
  // Withdraw, drain, stop — in reverse order. Idempotent.
  void stop_all();
  // Registers `cap` for the running service named `service` (its list name or name()) on
  // that service's queue and within its prefixes, replacing an earlier registration of
  // the same name and version; withdrawn when the service stops. not_found for no such
  // service, partition once it is stopping, the registry's error for a bad capability.
  Status offer(const std::string& service, bus::LocalCapability cap);

  // {"<name>": {"state": "running"|"stopped", "version", "capabilities": [..],
  //  "queue": {threads, capacity, queued, running, completed, rejected}, "health": {..}}}
  Json health() const;
  std::vector<WorkQueueStats> queues() const;
  std::vector<std::string> names() const;

 private:
  struct Hosted {
    std::string list_name;  // the service list's name (start_all), else service->name()
    std::unique_ptr<bus::Service> service;
    std::shared_ptr<WorkQueue> queue;
    std::vector<std::pair<CapabilityName, Version>> registered;
    bool running = false;
  };
  void stop_one(Hosted& h);

  bus::CapabilityBus& m_bus;
  mutable std::mutex m_mutex;
  std::vector<Hosted> m_hosted;
};

}  // namespace hn::service
