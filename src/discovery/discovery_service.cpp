// discovery_service.cpp — DiscoveryService (M02 as a whole; §4.3, §5 fallbacks).
#include "discovery/discovery_service.h"

#include "discovery/discovery_log.h"

namespace hn::discovery {
namespace {
constexpr std::string_view COMPONENT = "discovery";
}  // namespace

DiscoveryService::DiscoveryService(boost::asio::io_context& io, const identity::KeyPair& keys,
                                   PeerRegistry& registry, ManifestFetcher& fetcher,
                                   ManifestVerifier verifier, MembershipCheck membership,
                                   DiscoveryOptions options)
    : m_io(io),
      m_keys(keys),
      m_registry(registry),
      m_options(std::move(options)),
      m_community_short(short_community_id(registry.community_id())),
      m_intake(PeerIntake::create(registry, fetcher, std::move(verifier), std::move(membership),
                                  m_options.intake)) {}

DiscoveryService::~DiscoveryService() { stop(); }

Status DiscoveryService::start() {
  if (m_started) return {};
  std::optional<Error> last_error;
  std::size_t running = 0;

  if (m_options.udp_enabled) {
    // A beacon from a node not yet in the registry is answered with ours at once: the
    // newcomer would otherwise wait for our next period (5-30 s) to learn of us. The
    // listener stops (and so stops calling this) before the service goes away.
    SightingSink intake = m_intake->sink();
    auto sink = [this, intake](const Sighting& s) {
      const bool newcomer = s.node_id && !m_registry.get(*s.node_id);
      intake(s);
      if (newcomer && m_udp_announcer) m_udp_announcer->answer_newcomer();
    };
    m_udp_listener =
        UdpListener::create(m_io, m_keys.node_id(), m_community_short, sink, m_options.udp);
    Status st = m_udp_listener->start();
    if (st) {
      PeerRegistry* registry = &m_registry;
      m_udp_announcer = UdpAnnouncer::create(
          m_io, m_keys, m_community_short, m_options.https_port, m_options.caps,
          [registry] { return registry->size(); }, m_options.udp);
      st = m_udp_announcer->start();
      if (!st) m_udp_listener->stop();
    }
    if (st) {
      m_udp_active = true;
      ++running;
    } else {
      discovery_log(LogSeverity::warning, COMPONENT, "UDP discovery off: " + st.error().to_string());
      last_error = st.take_error();
    }
  }

  if (m_options.mdns_enabled) {
    MdnsServiceInfo info;
    info.node_short = m_keys.short_id();
    info.display_name = m_options.display_name;
    info.community_short = m_community_short;
    info.profile = m_options.profile;
    info.port = m_options.https_port;
    info.caps = m_options.caps;
    info.manifest_url = m_options.manifest_url;
    m_mdns_announcer = std::make_unique<MdnsAnnouncer>(std::move(info));
    Status st = m_mdns_announcer->start();  // logs its own single warning when unavailable
    if (st) {
      m_mdns_browser = std::make_unique<MdnsBrowser>(m_io, m_keys.short_id(), m_community_short,
                                                     m_intake->sink());
      st = m_mdns_browser->start();
      if (!st) m_mdns_announcer->stop();
    }
    if (st) {
      m_mdns_active = true;
      ++running;
    } else {
      m_mdns_announcer.reset();
      m_mdns_browser.reset();
      last_error = st.take_error();
    }
  }

  if (!m_options.static_peers.empty()) {
    m_static = StaticPeers::create(m_io, m_options.static_peers, m_intake->sink(),
                                   m_options.static_poll_interval);
    m_static->start();
    ++running;
  }

  m_maintenance =
      std::make_unique<DiscoveryMaintenance>(m_io, m_intake, m_options.maintenance_interval);
  m_maintenance->start();
  m_started = true;
  if (running == 0 && last_error) return *last_error;
  return {};
}

void DiscoveryService::stop() {
  if (!m_started) return;
  m_started = false;
  if (m_udp_announcer) m_udp_announcer->stop();
  if (m_udp_listener) m_udp_listener->stop();
  if (m_mdns_browser) m_mdns_browser->stop();
  if (m_mdns_announcer) m_mdns_announcer->stop();
  if (m_static) m_static->stop();
  if (m_maintenance) m_maintenance->stop();
  m_udp_active = false;
  m_mdns_active = false;
}

void DiscoveryService::set_emergency_mode(bool offline) {
  m_registry.set_pruning_aggressive(offline);
  if (m_udp_announcer) m_udp_announcer->set_fast_mode(offline);
  // MdnsAnnouncer does not change (M02 §4.3).
}

void DiscoveryService::update_capabilities(const std::vector<std::string>& caps) {
  m_options.caps = caps;
  if (m_udp_announcer) m_udp_announcer->update_capabilities(caps);
  if (m_mdns_announcer) (void)m_mdns_announcer->update_capabilities(caps);
}

}  // namespace hn::discovery
