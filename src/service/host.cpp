// host.cpp — ServiceHost: build, queue, register, start; withdraw, drain, stop.
#include "service/host.h"

#include <algorithm>
#include <system_error>

#include "observability/logging.h"

namespace hn::service {
namespace {

observability::Logger& host_log() {
  static observability::Logger log("service.host");
  return log;
}

Json queue_json(const WorkQueueStats& q) {
  return Json{{"threads", q.threads},     {"capacity", q.capacity}, {"queued", q.queued},
              {"running", q.running},     {"completed", q.completed}, {"rejected", q.rejected}};
}

}  // namespace

ServiceHost::~ServiceHost() { stop_all(); }

Status ServiceHost::start_all(const std::vector<ServiceFactory>& list, ServiceContext ctx,
                              const std::filesystem::path& base_dir) {
  for (const auto& f : list) {
    ServiceContext own = ctx;
    own.data_dir = base_dir / f.name;
    own.offer = [this, name = f.name](bus::LocalCapability cap) { return offer(name, std::move(cap)); };
    std::error_code ec;
    std::filesystem::create_directories(own.data_dir, ec);
    if (ec) {
      stop_all();
      return make_error(ErrorCode::io_error,
                        "service " + f.name + ": cannot create " + own.data_dir.string() + ": " + ec.message());
    }
    std::unique_ptr<bus::Service> service;
    try {
      service = f.make(own);
    } catch (const std::exception& e) {
      stop_all();
      return make_error(ErrorCode::internal_error, "service " + f.name + " failed to build: " + e.what());
    }
    if (!service) {
      stop_all();
      return make_error(ErrorCode::internal_error, "service " + f.name + " failed to build");
    }
    if (Status s = start(std::move(service)); !s) {
      stop_all();
      Error e = s.error();
      e.message = "service " + f.name + ": " + e.message;
      return e;
    }
    std::lock_guard lock(m_mutex);
    m_hosted.back().list_name = f.name;
  }
  return {};
}

Status ServiceHost::start(std::unique_ptr<bus::Service> service) {
  Hosted h;
  const bus::ExecutionSpec spec = service->execution();
  WorkQueueOptions qo;
  qo.name = service->name();
  qo.threads = spec.threads;
  qo.capacity = spec.queue;
  qo.nice = 5;  // below the network thread, like every worker (architecture.md)
  h.queue = std::make_shared<WorkQueue>(qo);
  HN_TRY(service->start());
  auto caps = service->capabilities();
  const auto prefixes = service->namespace_prefixes();
  // Check all first, so a bad capability leaves nothing half-registered.
  for (const auto& cap : caps) {
    if (Status s = bus::validate_capability_name(cap.descriptor.name, prefixes); !s) {
      service->stop();
      return s;
    }
    if (Status s = m_bus.schema().check_descriptor(cap.descriptor); !s) {
      service->stop();
      return s;
    }
  }
  for (auto& cap : caps) {
    if (!cap.executor) cap.executor = h.queue;
    const auto key = std::make_pair(cap.descriptor.name, cap.descriptor.version);
    if (Status s = m_bus.register_capability(std::move(cap), prefixes); !s) {
      for (const auto& [name, version] : h.registered) (void)m_bus.registry().deregister_local(name, version);
      service->stop();
      return s;
    }
    h.registered.push_back(key);
  }
  h.running = true;
  host_log().info("service started", Json{{"service", service->name()},
                                          {"capabilities", h.registered.size()},
                                          {"threads", spec.threads}});
  h.list_name = service->name();
  h.service = std::move(service);
  std::lock_guard lock(m_mutex);
  m_hosted.push_back(std::move(h));
  return {};
}

Status ServiceHost::offer(const std::string& service, bus::LocalCapability cap) {
  // Under the host's mutex, so a stop cannot withdraw the service's capabilities between
  // the check and the registration (the registry never calls back into the host).
  std::lock_guard lock(m_mutex);
  for (auto& h : m_hosted) {
    if (h.list_name != service && h.service->name() != service) continue;
    if (!h.running) {
      return make_error(ErrorCode::partition, "service " + service + " is stopping");
    }
    if (!cap.executor) cap.executor = h.queue;
    const auto key = std::make_pair(cap.descriptor.name, cap.descriptor.version);
    HN_TRY(m_bus.register_capability(std::move(cap), h.service->namespace_prefixes()));
    if (std::find(h.registered.begin(), h.registered.end(), key) == h.registered.end()) {
      h.registered.push_back(key);
      host_log().info("capability offered",
                      Json{{"service", h.service->name()},
                           {"capability", key.first + "@" + key.second.to_string()}});
    }
    return {};
  }
  return make_error(ErrorCode::not_found, "no running service " + service);
}

void ServiceHost::stop_one(Hosted& h) {
  std::vector<std::pair<CapabilityName, Version>> registered;
  {
    std::lock_guard lock(m_mutex);
    if (!h.running) return;
    h.running = false;  // offer() refuses from here on
    registered = h.registered;
  }
  for (const auto& [name, version] : registered) (void)m_bus.registry().deregister_local(name, version);
  h.queue->drain();
  h.service->stop();
  h.queue->stop();
  host_log().info("service stopped", Json{{"service", h.service->name()}});
}

void ServiceHost::stop_all() {
  std::vector<Hosted*> order;
  {
    std::lock_guard lock(m_mutex);
    for (auto& h : m_hosted) order.push_back(&h);
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) stop_one(**it);
}

Json ServiceHost::health() const {
  std::lock_guard lock(m_mutex);
  Json out = Json::object();
  for (const auto& h : m_hosted) {
    Json caps = Json::array();
    for (const auto& [name, version] : h.registered) caps.push_back(name + "@" + version.to_string());
    out[h.service->name()] = Json{{"state", h.running ? "running" : "stopped"},
                                  {"version", h.service->version()},
                                  {"capabilities", caps},
                                  {"queue", queue_json(h.queue->stats())},
                                  {"health", h.service->health()}};
  }
  return out;
}

std::vector<WorkQueueStats> ServiceHost::queues() const {
  std::lock_guard lock(m_mutex);
  std::vector<WorkQueueStats> out;
  for (const auto& h : m_hosted) out.push_back(h.queue->stats());
  return out;
}

std::vector<std::string> ServiceHost::names() const {
  std::lock_guard lock(m_mutex);
  std::vector<std::string> out;
  for (const auto& h : m_hosted) out.push_back(h.service->name());
  return out;
}

}  // namespace hn::service
