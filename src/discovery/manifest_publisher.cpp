// manifest_publisher.cpp — ManifestPublisher (M01 §5.2).
#include "discovery/manifest_publisher.h"

#include <boost/asio/post.hpp>

#include "discovery/discovery_log.h"

namespace hn::discovery {

std::vector<std::string> capability_names(const identity::NodeManifest& manifest) {
  std::vector<std::string> out;
  out.reserve(manifest.capabilities.size());
  for (const auto& c : manifest.capabilities) out.push_back(c.name);
  return out;
}

std::shared_ptr<ManifestPublisher> ManifestPublisher::create(boost::asio::io_context& io,
                                                             BuildFn build,
                                                             std::chrono::milliseconds interval) {
  return std::shared_ptr<ManifestPublisher>(new ManifestPublisher(io, std::move(build), interval));
}

ManifestPublisher::ManifestPublisher(boost::asio::io_context& io, BuildFn build,
                                     std::chrono::milliseconds interval)
    : m_io(io), m_build(std::move(build)), m_interval(interval), m_timer(io) {}

ManifestPublisher::~ManifestPublisher() {
  if (m_registry) m_registry->unsubscribe(m_subscription);
}

void ManifestPublisher::add_sink(Sink sink) { m_sinks.push_back(std::move(sink)); }

void ManifestPublisher::watch_registry(PeerRegistry& registry) {
  if (m_registry) m_registry->unsubscribe(m_subscription);
  m_registry = &registry;
  std::weak_ptr<ManifestPublisher> weak = weak_from_this();
  m_subscription = registry.subscribe([weak](const PeerEvent&) {
    if (auto self = weak.lock()) self->schedule_publish();
  });
}

void ManifestPublisher::start() {
  if (m_running) return;
  m_running = true;
  (void)publish_now();
  arm();
}

void ManifestPublisher::stop() {
  m_running = false;
  m_timer.cancel();
  if (m_registry) {
    m_registry->unsubscribe(m_subscription);
    m_registry = nullptr;
  }
}

Status ManifestPublisher::publish_now() {
  Result<identity::NodeManifest> built = [&]() -> Result<identity::NodeManifest> {
    try {
      return m_build();
    } catch (const std::exception& e) {
      return make_error(ErrorCode::internal_error, e.what());
    }
  }();
  if (!built) {
    discovery_log(LogSeverity::warning, "discovery.publisher",
                  "building our manifest failed: " + built.error().to_string());
    return built.take_error();
  }
  {
    std::lock_guard lock(m_mutex);
    m_current = *built;
  }
  for (const auto& sink : m_sinks) sink(*built);
  m_published.fetch_add(1);
  return {};
}

std::optional<identity::NodeManifest> ManifestPublisher::current() const {
  std::lock_guard lock(m_mutex);
  return m_current;
}

void ManifestPublisher::arm() {
  m_timer.expires_after(m_interval);
  m_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || !self->m_running) return;
    (void)self->publish_now();
    self->arm();
  });
}

void ManifestPublisher::schedule_publish() {
  if (m_pending->exchange(true)) return;  // one publish covers a burst of events
  boost::asio::post(m_io, [self = shared_from_this()] {
    self->m_pending->store(false);
    if (self->m_running) (void)self->publish_now();
  });
}

}  // namespace hn::discovery
