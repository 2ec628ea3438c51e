// inbound_peers.cpp — InboundPeers (members that dial us).
#include "discovery/inbound_peers.h"

#include <utility>
#include <vector>

namespace hn::discovery {

std::shared_ptr<InboundPeers> InboundPeers::create(boost::asio::io_context& io, SightingSink sink,
                                                   const Clock& clock,
                                                   InboundPeersOptions options) {
  return std::shared_ptr<InboundPeers>(new InboundPeers(io, std::move(sink), clock, options));
}

InboundPeers::InboundPeers(boost::asio::io_context& io, SightingSink sink, const Clock& clock,
                           InboundPeersOptions options)
    : m_sink(std::move(sink)), m_clock(clock), m_options(options), m_timer(io) {}

Sighting InboundPeers::sighting_of(const NodeId& node, const PeerEndpoint& endpoint) {
  Sighting s;
  s.endpoint = endpoint;
  s.source = PeerSource::inbound;
  s.node_id = node;  // the manifest fetched there must be this member's
  return s;
}

void InboundPeers::note(const NodeId& node, const PeerEndpoint& endpoint) {
  if (endpoint.host.empty() || endpoint.port == 0) return;
  bool sight = false;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find(node);
    if (it == m_entries.end()) {
      if (m_entries.size() >= m_options.max_entries) return;
      it = m_entries.emplace(node, Entry{endpoint, 0}).first;
      sight = true;
    } else if (it->second.endpoint != endpoint) {
      it->second.endpoint = endpoint;
      sight = true;
    }
    it->second.last_call_ms = m_clock.now_ms();
  }
  if (sight && m_sink) m_sink(sighting_of(node, endpoint));
}

void InboundPeers::start() {
  if (m_running) return;
  m_running = true;
  arm();
}

void InboundPeers::stop() {
  m_running = false;
  m_timer.cancel();
}

void InboundPeers::poll_once() {
  std::vector<Sighting> due;
  {
    std::lock_guard lock(m_mutex);
    const std::int64_t oldest = m_clock.now_ms() - m_options.keep.count();
    for (auto it = m_entries.begin(); it != m_entries.end();) {
      if (it->second.last_call_ms < oldest) {
        it = m_entries.erase(it);  // silent for `keep`: the registry prunes it as usual
        continue;
      }
      due.push_back(sighting_of(it->first, it->second.endpoint));
      ++it;
    }
  }
  if (!m_sink) return;
  for (const auto& s : due) m_sink(s);
}

bool InboundPeers::holds(const NodeId& node) const {
  std::lock_guard lock(m_mutex);
  return m_entries.count(node) > 0;
}

std::size_t InboundPeers::size() const {
  std::lock_guard lock(m_mutex);
  return m_entries.size();
}

void InboundPeers::arm() {
  m_timer.expires_after(m_options.poll_interval);
  m_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || !self->m_running) return;
    self->poll_once();
    self->arm();
  });
}

}  // namespace hn::discovery
