// udp.cpp — UdpAnnouncer / UdpListener (M02 §3.4, §3.5, §4.4).
#include "discovery/udp.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/multicast.hpp>

#include "discovery/discovery_log.h"

namespace hn::discovery {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

constexpr std::string_view COMPONENT = "discovery.udp";

Result<asio::ip::address_v4> parse_group(const std::string& text) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address_v4(text, ec);
  if (ec || !addr.is_multicast()) {
    return make_error(ErrorCode::bad_request, "not an IPv4 multicast group: " + text);
  }
  return addr;
}

Result<asio::ip::address_v4> parse_interface(const std::string& text) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address_v4(text, ec);
  if (ec) return make_error(ErrorCode::bad_request, "not an IPv4 interface address: " + text);
  return addr;
}

}  // namespace

// --- UdpAnnouncer ---------------------------------------------------------------------------

std::shared_ptr<UdpAnnouncer> UdpAnnouncer::create(
    asio::io_context& io, const identity::KeyPair& keys, std::string community_short,
    std::uint16_t https_port, std::vector<std::string> caps,
    std::function<std::size_t()> peer_count, UdpConfig config, const Clock& clock) {
  return std::shared_ptr<UdpAnnouncer>(new UdpAnnouncer(io, keys, std::move(community_short),
                                                        https_port, std::move(caps),
                                                        std::move(peer_count),
                                                        std::move(config), clock));
}

UdpAnnouncer::UdpAnnouncer(asio::io_context& io, const identity::KeyPair& keys,
                           std::string community_short, std::uint16_t https_port,
                           std::vector<std::string> caps,
                           std::function<std::size_t()> peer_count, UdpConfig config,
                           const Clock& clock)
    : m_keys(keys),
      m_community_short(std::move(community_short)),
      m_https_port(https_port),
      m_caps(std::move(caps)),
      m_peer_count(std::move(peer_count)),
      m_config(std::move(config)),
      m_clock(clock),
      m_socket(io),
      m_timer(io) {}

Status UdpAnnouncer::start() {
  if (m_running) return {};
  HN_TRY_ASSIGN(auto group, parse_group(m_config.group));
  boost::system::error_code ec;
  m_socket.open(udp::v4(), ec);
  if (ec) return make_error(ErrorCode::io_error, "udp announcer socket: " + ec.message());
  m_socket.set_option(asio::ip::multicast::hops(m_config.ttl), ec);
  if (!ec) m_socket.set_option(asio::ip::multicast::enable_loopback(m_config.loopback), ec);
  if (!ec && !m_config.interface_address.empty()) {
    auto iface = parse_interface(m_config.interface_address);
    if (!iface) {
      m_socket.close(ec);
      return iface.take_error();
    }
    m_socket.set_option(asio::ip::multicast::outbound_interface(*iface), ec);
  }
  if (ec) {
    boost::system::error_code ignored;
    m_socket.close(ignored);
    return make_error(ErrorCode::io_error, "udp announcer options: " + ec.message());
  }
  m_group_endpoint = udp::endpoint(group, m_config.port);
  m_running = true;
  announce_now();  // M02 §3.4: announce at start
  arm();
  return {};
}

void UdpAnnouncer::stop() {
  if (!m_running) return;
  m_running = false;
  m_timer.cancel();
  boost::system::error_code ignored;
  m_socket.close(ignored);
}

void UdpAnnouncer::update_capabilities(std::vector<std::string> caps) {
  if (caps == m_caps) return;
  m_caps = std::move(caps);
  if (m_running) announce_now();
}

void UdpAnnouncer::set_fast_mode(bool enabled) {
  bool was = m_fast.exchange(enabled);
  if (enabled && !was && m_running) {  // M02 §4.3: switch to the fast interval at once
    announce_now();
    arm();
  }
}

void UdpAnnouncer::answer_newcomer() {
  if (!m_running) return;
  const std::int64_t now = m_clock.now_ms();
  if (now - m_last_answer_ms < ANSWER_MIN_GAP.count()) return;
  m_last_answer_ms = now;
  announce_now();
}

void UdpAnnouncer::announce_now() {
  if (!m_running) return;
  auto datagram = std::make_shared<std::string>(
      encode_beacon(m_keys, m_community_short, m_https_port, m_caps, m_clock.now_seconds()));
  m_socket.async_send_to(
      asio::buffer(*datagram), m_group_endpoint,
      [self = shared_from_this(), datagram](const boost::system::error_code& ec, std::size_t) {
        if (!ec) {
          self->m_sent.fetch_add(1);
        } else if (ec != asio::error::operation_aborted) {
          discovery_log(LogSeverity::debug, COMPONENT, "send failed: " + ec.message());
        }
      });
}

void UdpAnnouncer::arm() {
  std::size_t peers = m_peer_count ? m_peer_count() : 0;
  m_timer.expires_after(next_announce_interval(peers, m_fast.load()));
  m_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || !self->m_running) return;
    self->announce_now();
    self->arm();
  });
}

// --- UdpListener ----------------------------------------------------------------------------

std::shared_ptr<UdpListener> UdpListener::create(asio::io_context& io, NodeId our_node_id,
                                                 std::string our_community_short,
                                                 SightingSink sink, UdpConfig config,
                                                 const Clock& clock) {
  return std::shared_ptr<UdpListener>(new UdpListener(io, std::move(our_node_id),
                                                      std::move(our_community_short),
                                                      std::move(sink), std::move(config),
                                                      clock));
}

UdpListener::UdpListener(asio::io_context& io, NodeId our_node_id,
                         std::string our_community_short, SightingSink sink, UdpConfig config,
                         const Clock& clock)
    : m_our_node_id(std::move(our_node_id)),
      m_our_community_short(std::move(our_community_short)),
      m_sink(std::move(sink)),
      m_config(std::move(config)),
      m_clock(clock),
      m_socket(io) {}

Status UdpListener::start() {
  if (m_running) return {};
  HN_TRY_ASSIGN(auto group, parse_group(m_config.group));
  std::optional<asio::ip::address_v4> iface;
  if (!m_config.interface_address.empty()) {
    HN_TRY_ASSIGN(iface, parse_interface(m_config.interface_address));
  }
  boost::system::error_code ec;
  auto fail = [&](ErrorCode code, const std::string& what) {
    boost::system::error_code ignored;
    m_socket.close(ignored);
    return make_error(code, what + ": " + ec.message());
  };
  m_socket.open(udp::v4(), ec);
  if (ec) return fail(ErrorCode::io_error, "udp listener socket");
  // M02 §4.4: several processes on one host share the port.
  m_socket.set_option(udp::socket::reuse_address(true), ec);
  if (ec) return fail(ErrorCode::io_error, "SO_REUSEADDR");
#ifdef SO_REUSEPORT
  m_socket.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
  if (ec) return fail(ErrorCode::io_error, "SO_REUSEPORT");
#endif
#ifdef IP_MULTICAST_ALL
  // Only the groups this socket joined, not every group any socket on the host joined.
  int off = 0;
  ::setsockopt(m_socket.native_handle(), IPPROTO_IP, IP_MULTICAST_ALL, &off, sizeof off);
#endif
  m_socket.bind(udp::endpoint(asio::ip::address_v4::any(), m_config.port), ec);
  if (ec) {
    return fail(ec == asio::error::address_in_use ? ErrorCode::socket_in_use : ErrorCode::io_error,
                "bind udp port " + std::to_string(m_config.port));
  }
  if (iface) {
    m_socket.set_option(asio::ip::multicast::join_group(group, *iface), ec);
  } else {
    m_socket.set_option(asio::ip::multicast::join_group(group), ec);
  }
  if (ec) return fail(ErrorCode::io_error, "join multicast group " + m_config.group);
  m_running = true;
  receive();
  return {};
}

void UdpListener::stop() {
  if (!m_running) return;
  m_running = false;
  boost::system::error_code ignored;
  m_socket.close(ignored);
}

UdpListenerStats UdpListener::stats() const {
  std::lock_guard lock(m_stats_mutex);
  return m_stats;
}

void UdpListener::receive() {
  m_socket.async_receive_from(
      asio::buffer(m_buffer), m_sender,
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t size) {
        if (!self->m_running || ec == asio::error::operation_aborted) return;
        if (!ec) self->handle_datagram(size);
        self->receive();
      });
}

void UdpListener::handle_datagram(std::size_t size) {
  auto count = [&](std::uint64_t UdpListenerStats::*field) {
    std::lock_guard lock(m_stats_mutex);
    ++(m_stats.*field);
  };
  count(&UdpListenerStats::received);
  auto beacon = parse_beacon(std::span<const std::uint8_t>(m_buffer.data(), size));
  if (!beacon) {
    count(beacon.error().code == ErrorCode::invalid_signature ? &UdpListenerStats::bad_signature
                                                              : &UdpListenerStats::malformed);
    return;
  }
  if (beacon->node_id == m_our_node_id) {
    count(&UdpListenerStats::own);
    return;
  }
  if (!is_beacon_fresh(*beacon, m_clock.now_seconds())) {
    count(&UdpListenerStats::stale);
    return;
  }
  if (beacon->community_short != m_our_community_short) {
    count(&UdpListenerStats::foreign);
    return;
  }
  count(&UdpListenerStats::accepted);
  if (!m_sink) return;
  Sighting s;
  s.endpoint = PeerEndpoint{m_sender.address().to_string(), beacon->port};
  s.source = PeerSource::udp;
  s.node_id = beacon->node_id;
  s.node_short = beacon->node_short;
  m_sink(s);
}

}  // namespace hn::discovery
