// static_peers.h — configured bootstrap peers ("host:port" list): their manifests are
// fetched at start and then periodically, and fed through the same first-contact flow as
// multicast sightings (M02 §4.1). Useful where multicast does not cross the network.
//
// Thread-safety: lives on the caller's io_context; call start/stop/poll_once from its
// thread (or before it runs). Lifetime: create() returns a shared_ptr; the timer handler
// keeps it alive until stop().
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/error.h"
#include "discovery/manifest_source.h"
#include "discovery/peer_intake.h"

namespace hn::discovery {

class StaticPeers : public std::enable_shared_from_this<StaticPeers> {
 public:
  static constexpr std::chrono::seconds DEFAULT_INTERVAL{30};

  static std::shared_ptr<StaticPeers> create(boost::asio::io_context& io,
                                             std::vector<PeerEndpoint> peers, SightingSink sink,
                                             std::chrono::milliseconds interval = DEFAULT_INTERVAL);
  // Parses each "host:port" (bad_request naming the first bad entry).
  static Result<std::vector<PeerEndpoint>> parse_list(const std::vector<std::string>& entries);

  // Polls every peer now, then every interval.
  void start();
  void stop();
  // One round: a sighting (source "static") for every configured peer.
  void poll_once();
  const std::vector<PeerEndpoint>& peers() const { return m_peers; }

 private:
  StaticPeers(boost::asio::io_context& io, std::vector<PeerEndpoint> peers, SightingSink sink,
              std::chrono::milliseconds interval);
  void arm();

  std::vector<PeerEndpoint> m_peers;
  SightingSink m_sink;
  std::chrono::milliseconds m_interval;
  boost::asio::steady_timer m_timer;
  bool m_running = false;
};

}  // namespace hn::discovery
