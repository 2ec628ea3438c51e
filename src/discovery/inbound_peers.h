// inbound_peers.h — members that dial us are peers too (doc/design/events.md "Push"): a
// member that names this node as a static peer (a founder, a hub) calls it for its sync
// rounds and pushes, but this node learns peers only from discovery, so without this it
// would never push back. The node notes each verified member caller here with the port the
// caller says it listens on (transport's X-HearthNet-Listen-Port) at the address the call
// came from; that endpoint goes through the ordinary first-contact flow (PeerIntake: manifest
// fetched, verified as the caller's, membership checked) like a static peer, and is sighted
// again every poll interval so the registry keeps it — for as long as the member keeps
// calling (`keep` after its last call), then it is left to the registry's pruning.
//
// Thread-safety: note() and size() from any thread (a mutex; the sink is called without it);
// start/stop on the io_context's thread (or before it runs). Lifetime: create() returns a
// shared_ptr; the timer handler keeps it alive until stop(). Invariant: at most
// `max_entries` members are held (a note beyond is ignored until one expires).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/clock.h"
#include "core/types.h"
#include "discovery/peer_intake.h"

namespace hn::discovery {

struct InboundPeersOptions {
  // Re-sighting period (the node uses its static peers' period).
  std::chrono::milliseconds poll_interval{std::chrono::seconds(30)};
  // How long after a member's last call it is still sighted: three default sync periods,
  // so a member whose rounds are the only contact stays a peer between them.
  std::chrono::milliseconds keep{std::chrono::minutes(15)};
  std::size_t max_entries = 1024;
};

class InboundPeers : public std::enable_shared_from_this<InboundPeers> {
 public:
  static std::shared_ptr<InboundPeers> create(boost::asio::io_context& io, SightingSink sink,
                                              const Clock& clock, InboundPeersOptions options = {});

  // `node` (a verified member) called us from `endpoint.host` and listens on `endpoint.port`:
  // a sighting at once when it is new or moved, and its keep period starts again.
  void note(const NodeId& node, const PeerEndpoint& endpoint);
  // Whether `node` is held (noted within `keep`).
  bool holds(const NodeId& node) const;
  // Sights every member noted within `keep`, forgets the others; then every poll_interval.
  void start();
  void stop();
  // One round of what the timer does (tests).
  void poll_once();
  std::size_t size() const;

 private:
  InboundPeers(boost::asio::io_context& io, SightingSink sink, const Clock& clock,
               InboundPeersOptions options);
  void arm();
  static Sighting sighting_of(const NodeId& node, const PeerEndpoint& endpoint);

  struct Entry {
    PeerEndpoint endpoint;
    std::int64_t last_call_ms = 0;
  };
  SightingSink m_sink;
  const Clock& m_clock;
  InboundPeersOptions m_options;
  boost::asio::steady_timer m_timer;
  bool m_running = false;
  mutable std::mutex m_mutex;
  std::map<NodeId, Entry> m_entries;
};

}  // namespace hn::discovery
