// discovery_service.h — one object that runs M02 for a node: UDP multicast announcer +
// listener, mDNS announcer + browser (when Avahi is reachable), static bootstrap peers,
// the first-contact intake and the maintenance loop (prune + refresh). The node layer
// builds it with the transport's ManifestFetcher and the community's MembershipCheck, and
// wires a ManifestPublisher's sink to update_capabilities.
//
// Errors are logged but not fatal (M02 §5): start() succeeds when at least one discovery
// source runs; a missing Avahi daemon means UDP-only after one warning.
//
// Thread-safety: call every member from the io_context's thread (or before it runs).
// Lifetime: keys, registry and fetcher must outlive the service; call stop() before the
// io_context is destroyed.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/error.h"
#include "discovery/manifest_source.h"
#include "discovery/mdns.h"
#include "discovery/peer_intake.h"
#include "discovery/peer_registry.h"
#include "discovery/static_peers.h"
#include "discovery/udp.h"
#include "identity/keys.h"

namespace hn::discovery {

// Plain options (the node maps X04 config.discovery.* onto them, M02 §6).
struct DiscoveryOptions {
  bool mdns_enabled = true;  // config.discovery.mdns_enabled
  bool udp_enabled = true;   // config.discovery.udp_enabled
  UdpConfig udp;             // config.discovery.udp_multicast_group / udp_port
  std::vector<PeerEndpoint> static_peers;
  std::chrono::milliseconds static_poll_interval = StaticPeers::DEFAULT_INTERVAL;
  std::chrono::milliseconds maintenance_interval = DiscoveryMaintenance::DEFAULT_INTERVAL;
  IntakeOptions intake;
  // What we announce.
  std::string display_name;
  Profile profile = Profile::hearth;
  std::uint16_t https_port = 0;
  std::string manifest_url;  // "https://<host>:<port>/manifest"
  std::vector<std::string> caps;
};

class DiscoveryService {
 public:
  DiscoveryService(boost::asio::io_context& io, const identity::KeyPair& keys,
                   PeerRegistry& registry, ManifestFetcher& fetcher, ManifestVerifier verifier,
                   MembershipCheck membership, DiscoveryOptions options);
  ~DiscoveryService();
  DiscoveryService(const DiscoveryService&) = delete;
  DiscoveryService& operator=(const DiscoveryService&) = delete;

  // Starts every enabled source; the last error only when none could start.
  Status start();
  void stop();
  // M09: offline → fast UDP cadence and 30 s pruning; online → normal (M02 §4.3).
  void set_emergency_mode(bool offline);
  // New capability names for the mDNS TXT record and the UDP beacon.
  void update_capabilities(const std::vector<std::string>& caps);

  bool udp_active() const { return m_udp_active; }
  bool mdns_active() const { return m_mdns_active; }
  std::shared_ptr<PeerIntake> intake() const { return m_intake; }
  std::shared_ptr<UdpListener> udp_listener() const { return m_udp_listener; }

 private:
  boost::asio::io_context& m_io;
  const identity::KeyPair& m_keys;
  PeerRegistry& m_registry;
  DiscoveryOptions m_options;
  std::string m_community_short;
  std::shared_ptr<PeerIntake> m_intake;
  std::shared_ptr<UdpListener> m_udp_listener;
  std::shared_ptr<UdpAnnouncer> m_udp_announcer;
  std::unique_ptr<MdnsAnnouncer> m_mdns_announcer;
  std::unique_ptr<MdnsBrowser> m_mdns_browser;
  std::shared_ptr<StaticPeers> m_static;
  std::unique_ptr<DiscoveryMaintenance> m_maintenance;
  bool m_udp_active = false;
  bool m_mdns_active = false;
  bool m_started = false;
};

}  // namespace hn::discovery
