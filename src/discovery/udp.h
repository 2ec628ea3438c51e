// udp.h — UDP multicast discovery (M02 §3.4, §4.4): UdpAnnouncer sends our signed beacon
// to the group (at start, then every 5 s while fewer than 2 peers are known, else 30 s);
// UdpListener joins the group, parses and verifies beacons and hands sightings on.
//
// Several nodes on one host: the listener sets SO_REUSEADDR + SO_REUSEPORT so all can bind
// the group port, and the announcer enables IP_MULTICAST_LOOP so they hear each other.
//
// Thread-safety: both classes live on the caller's io_context; call their members from
// that io_context's thread (or before it runs). stats() may be read from any thread.
// Lifetime: create() returns a shared_ptr; pending handlers keep the object alive; stop()
// closes sockets and cancels timers.
#pragma once

#include <atomic>
#include <chrono>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/clock.h"
#include "core/error.h"
#include "discovery/beacon.h"
#include "discovery/peer_intake.h"
#include "identity/keys.h"

namespace hn::discovery {

inline constexpr const char* DEFAULT_MULTICAST_GROUP = "239.255.42.42";  // M02 §3.4
inline constexpr std::uint16_t DEFAULT_MULTICAST_PORT = 42424;           // M02 §3.4

struct UdpConfig {
  std::string group = DEFAULT_MULTICAST_GROUP;  // IPv4 multicast group
  std::uint16_t port = DEFAULT_MULTICAST_PORT;
  // Local IPv4 address of the interface to send on / join on; empty = the kernel's choice.
  std::string interface_address;
  int ttl = 1;          // stay on the LAN
  bool loopback = true;  // IP_MULTICAST_LOOP: nodes on one host see each other
};

class UdpAnnouncer : public std::enable_shared_from_this<UdpAnnouncer> {
 public:
  // peer_count is asked before each pause (normally registry.size()).
  static std::shared_ptr<UdpAnnouncer> create(boost::asio::io_context& io,
                                              const identity::KeyPair& keys,
                                              std::string community_short,
                                              std::uint16_t https_port,
                                              std::vector<std::string> caps,
                                              std::function<std::size_t()> peer_count,
                                              UdpConfig config = {},
                                              const Clock& clock = SystemClock::instance());
  // Opens the socket and announces at once. bad_request for a bad group/interface address,
  // io_error when the socket cannot be opened.
  Status start();
  void stop();
  // New capability names for later beacons (M02 §3.2 update); announces at once if changed.
  void update_capabilities(std::vector<std::string> caps);
  // M09 offline: always the active interval.
  void set_fast_mode(bool enabled);
  // Sends one beacon now (the timer keeps its schedule).
  void announce_now();
  // A beacon from a node we do not know yet arrived: answer with our beacon at once, so a
  // newcomer sees us within one round trip instead of our next period (at most one answer
  // per ANSWER_MIN_GAP, so a crowd of newcomers cannot make us flood the group).
  void answer_newcomer();
  static constexpr std::chrono::milliseconds ANSWER_MIN_GAP{250};
  std::uint64_t sent_count() const { return m_sent.load(); }

 private:
  UdpAnnouncer(boost::asio::io_context& io, const identity::KeyPair& keys,
               std::string community_short, std::uint16_t https_port,
               std::vector<std::string> caps, std::function<std::size_t()> peer_count,
               UdpConfig config, const Clock& clock);
  void arm();

  identity::KeyPair m_keys;
  std::string m_community_short;
  std::uint16_t m_https_port;
  std::vector<std::string> m_caps;
  std::function<std::size_t()> m_peer_count;
  UdpConfig m_config;
  const Clock& m_clock;
  boost::asio::ip::udp::socket m_socket;
  boost::asio::ip::udp::endpoint m_group_endpoint;
  boost::asio::steady_timer m_timer;
  bool m_running = false;
  std::atomic<bool> m_fast{false};
  std::atomic<std::uint64_t> m_sent{0};
  std::int64_t m_last_answer_ms = -1'000'000;
};

struct UdpListenerStats {
  std::uint64_t received = 0;
  std::uint64_t accepted = 0;
  std::uint64_t own = 0;        // our own beacons, ignored
  std::uint64_t malformed = 0;  // bad_request: size, JSON, fields
  std::uint64_t bad_signature = 0;  // unsigned or wrong signature
  std::uint64_t stale = 0;      // ts outside the allowed skew
  std::uint64_t foreign = 0;    // another community
};

class UdpListener : public std::enable_shared_from_this<UdpListener> {
 public:
  // our_node_id: beacons signed by it are ignored. our_community_short: others are dropped.
  static std::shared_ptr<UdpListener> create(boost::asio::io_context& io, NodeId our_node_id,
                                             std::string our_community_short, SightingSink sink,
                                             UdpConfig config = {},
                                             const Clock& clock = SystemClock::instance());
  // Binds the group port and joins the group. socket_in_use when the port cannot be bound
  // (M02 §5), bad_request for bad addresses, io_error when the group cannot be joined.
  Status start();
  void stop();
  UdpListenerStats stats() const;

 private:
  UdpListener(boost::asio::io_context& io, NodeId our_node_id, std::string our_community_short,
              SightingSink sink, UdpConfig config, const Clock& clock);
  void receive();
  void handle_datagram(std::size_t size);

  NodeId m_our_node_id;
  std::string m_our_community_short;
  SightingSink m_sink;
  UdpConfig m_config;
  const Clock& m_clock;
  boost::asio::ip::udp::socket m_socket;
  boost::asio::ip::udp::endpoint m_sender;
  std::array<std::uint8_t, 2048> m_buffer{};
  bool m_running = false;
  mutable std::mutex m_stats_mutex;
  UdpListenerStats m_stats;
};

}  // namespace hn::discovery
