// static_peers.cpp — StaticPeers (bootstrap peer list).
#include "discovery/static_peers.h"

namespace hn::discovery {

std::shared_ptr<StaticPeers> StaticPeers::create(boost::asio::io_context& io,
                                                 std::vector<PeerEndpoint> peers,
                                                 SightingSink sink,
                                                 std::chrono::milliseconds interval) {
  return std::shared_ptr<StaticPeers>(
      new StaticPeers(io, std::move(peers), std::move(sink), interval));
}

StaticPeers::StaticPeers(boost::asio::io_context& io, std::vector<PeerEndpoint> peers,
                         SightingSink sink, std::chrono::milliseconds interval)
    : m_peers(std::move(peers)), m_sink(std::move(sink)), m_interval(interval), m_timer(io) {}

Result<std::vector<PeerEndpoint>> StaticPeers::parse_list(
    const std::vector<std::string>& entries) {
  std::vector<PeerEndpoint> out;
  for (const auto& e : entries) {
    HN_TRY_ASSIGN(auto ep, parse_peer_endpoint(e));
    out.push_back(std::move(ep));
  }
  return out;
}

void StaticPeers::start() {
  if (m_running) return;
  m_running = true;
  poll_once();
  arm();
}

void StaticPeers::stop() {
  m_running = false;
  m_timer.cancel();
}

void StaticPeers::poll_once() {
  if (!m_sink) return;
  for (const auto& ep : m_peers) {
    Sighting s;
    s.endpoint = ep;
    s.source = PeerSource::static_peer;
    m_sink(s);
  }
}

void StaticPeers::arm() {
  m_timer.expires_after(m_interval);
  m_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || !self->m_running) return;
    self->poll_once();
    self->arm();
  });
}

}  // namespace hn::discovery
