// manifest_publisher.h — republishes our own node manifest (M01 §5.2, M02 §3.2): every
// MANIFEST_REPUBLISH_INTERVAL_SECONDS (20 s) and whenever the peer registry changes, it
// calls the node's "build my manifest" function and pushes the result to its sinks — the
// announcers (capability names → mDNS TXT / UDP beacon) and whatever serves GET /manifest.
//
// Thread-safety: lives on the caller's io_context; start/stop/add_sink/publish_now on its
// thread (or before it runs). Registry events from any thread are posted to the io_context
// and coalesced. current() may be called from any thread.
// Lifetime: create() returns a shared_ptr; call stop() before the watched registry dies.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/constants.h"
#include "core/error.h"
#include "discovery/peer_registry.h"
#include "identity/manifest.h"

namespace hn::discovery {

// The capability names of a manifest, in manifest order (for TXT "caps" and beacons).
std::vector<std::string> capability_names(const identity::NodeManifest& manifest);

class ManifestPublisher : public std::enable_shared_from_this<ManifestPublisher> {
 public:
  using BuildFn = std::function<Result<identity::NodeManifest>()>;
  using Sink = std::function<void(const identity::NodeManifest&)>;

  static std::shared_ptr<ManifestPublisher> create(
      boost::asio::io_context& io, BuildFn build,
      std::chrono::milliseconds interval =
          std::chrono::seconds(MANIFEST_REPUBLISH_INTERVAL_SECONDS));
  ~ManifestPublisher();

  void add_sink(Sink sink);
  // Republish on every added/removed/updated event of registry (until stop()).
  void watch_registry(PeerRegistry& registry);
  // Publishes now, then every interval.
  void start();
  void stop();
  // Builds and pushes once; the build error when building fails (sinks keep the old one).
  Status publish_now();
  std::optional<identity::NodeManifest> current() const;
  std::uint64_t publish_count() const { return m_published.load(); }

 private:
  ManifestPublisher(boost::asio::io_context& io, BuildFn build, std::chrono::milliseconds interval);
  void arm();
  void schedule_publish();

  boost::asio::io_context& m_io;
  BuildFn m_build;
  std::chrono::milliseconds m_interval;
  boost::asio::steady_timer m_timer;
  std::vector<Sink> m_sinks;
  bool m_running = false;
  PeerRegistry* m_registry = nullptr;
  PeerRegistry::SubscriptionId m_subscription = 0;
  std::shared_ptr<std::atomic<bool>> m_pending = std::make_shared<std::atomic<bool>>(false);
  mutable std::mutex m_mutex;
  std::optional<identity::NodeManifest> m_current;
  std::atomic<std::uint64_t> m_published{0};
};

}  // namespace hn::discovery
