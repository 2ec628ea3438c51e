// peers.cpp — the node's peer table (M02 → M03): discovery (UDP beacons, mDNS, static and
// bootstrap peers) feeds one PeerRegistry; its events verify each peer's manifest, check
// membership, feed the bus and the peer table, and start a sync round when a peer appears.
// Revoked peers leave the table (DESIGN.md "revoked wins").
#include <algorithm>
#include <string>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include "node/detail/node_impl.h"
#include "node/platform.h"

namespace hn::node {
namespace asio = boost::asio;
using detail::node_log;

Result<std::pair<std::string, std::uint16_t>> parse_peer_address(const std::string& text) {
  std::string s = text;
  for (const char* scheme : {"https://", "http://"}) {
    if (s.rfind(scheme, 0) == 0) s = s.substr(std::string(scheme).size());
  }
  if (auto slash = s.find('/'); slash != std::string::npos) s = s.substr(0, slash);
  std::string host, port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return make_error(ErrorCode::bad_request, "bad peer address '" + text + "'");
    }
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos || s.find(':') != colon) {
      return make_error(ErrorCode::bad_request, "peer address '" + text + "' needs host:port");
    }
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  int n = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || n > 65535)
      return make_error(ErrorCode::bad_request, "bad port in '" + text + "'");
    n = n * 10 + (c - '0');
  }
  if (host.empty() || port.empty() || n < 1 || n > 65535) {
    return make_error(ErrorCode::bad_request, "bad peer address '" + text + "'");
  }
  return std::pair<std::string, std::uint16_t>{host, static_cast<std::uint16_t>(n)};
}

Status Node::Impl::on_peer_manifest(const identity::NodeManifest& m, const identity::Endpoint& ep) {
  if (m.node_id == keys->node_id()) return {};
  HN_TRY(identity::verify_node_manifest(m, clock, &key_pins, verification_cache.get()));
  if (m.community_id != community) {
    return make_error(ErrorCode::unauthorized,
                      "peer " + m.node_id.str() + " is in another community");
  }
  auto trust = membership(m.node_id, m.community_id);
  if (!trust) {
    if (trust.error().code == ErrorCode::revoked) on_peer_removed(m.node_id);
    return trust.take_error();
  }
  HN_TRY_ASSIGN(auto diff, bus->on_peer_manifest(m.node_id, m.capabilities, ep, *trust));
  bool is_new = false;
  {
    std::lock_guard lock(peers_mutex);
    auto [it, inserted] = peers.try_emplace(m.node_id);
    is_new = inserted;
    it->second = Peer{m.node_id, m.display_name, ep, *trust, m.capabilities.size(), clock.now_ms()};
  }
  if (is_new || !diff.empty()) {
    node_log().info(is_new ? "peer added" : "peer updated",
                    Json{{"peer", m.node_id.str()},
                         {"name", m.display_name},
                         {"host", ep.host},
                         {"port", ep.port},
                         {"capabilities", m.capabilities.size()}});
  }
  return {};
}

void Node::Impl::on_peer_removed(const NodeId& node) {
  bus->on_peer_removed(node);
  std::size_t erased = 0;
  {
    std::lock_guard lock(peers_mutex);
    erased = peers.erase(node);
  }
  if (erased) node_log().info("peer removed", Json{{"peer", node.str()}});
}

void Node::Impl::drop_revoked_peers() {
  if (!registry) return;
  for (const auto& rec : registry->all()) {
    if (view.is_revoked(rec.node_id_full)) {
      node_log().info("revoked peer dropped", Json{{"peer", rec.node_id_full.str()}});
      registry->remove(rec.node_id_full);
    }
  }
}

void Node::Impl::on_registry_event(const discovery::PeerEvent& event) {
  const auto& peer = event.peer;
  if (event.kind == discovery::PeerEventKind::removed) {
    on_peer_removed(peer.node_id_full);
    return;
  }
  if (!peer.manifest || peer.endpoints.empty()) return;
  Status st = on_peer_manifest(*peer.manifest, peer.endpoints.front());
  if (!st) {
    node_log().debug("peer not usable",
                     Json{{"peer", peer.node_id_full.str()}, {"error", st.error().to_string()}});
    return;
  }
  // X02 §3.6: a round with every peer when one appears.
  if (event.kind == discovery::PeerEventKind::added) schedule_sync();
}

asio::awaitable<void> Node::Impl::async_fetch_manifest(discovery::PeerEndpoint ep,
                                                       discovery::ManifestFetcher::Callback cb) {
  if (stopping.load() || !probe_client) {
    cb(make_error(ErrorCode::manifest_fetch_failed, "node is stopping"));
    co_return;
  }
  // Pinned by address for the probe; the main client pins by node id on the first call.
  transport::Endpoint tep{ep.host, ep.port, NodeId("address:" + ep.to_string())};
  auto op = probe_client->async_get_public(tep, "/manifest");
  auto r = co_await std::move(op);
  if (!r) {
    cb(r.take_error());
  } else if (r->status != 200) {
    cb(make_error(ErrorCode::manifest_fetch_failed,
                  "GET /manifest answered " + std::to_string(r->status)));
  } else {
    cb(std::move(r->body));
  }
}

// config.discovery.bootstrap_peers become static peers; a malformed entry is logged and
// skipped.
void Node::Impl::add_bootstrap_peers() {
  for (const auto& entry : home.config.discovery.bootstrap_peers) {
    auto parsed = parse_peer_address(entry);
    if (!parsed) {
      node_log().warning("bootstrap peer ignored",
                         Json{{"entry", entry}, {"error", parsed.error().message}});
      continue;
    }
    static_peers.push_back({parsed->first, parsed->second});
    peers_configured = true;
  }
}

// Before start(): joins the list discovery starts with; after: polled on its own.
void Node::Impl::add_static_peer(discovery::PeerEndpoint p) {
  peers_configured = true;
  if (!started.load() || !discovery) {
    static_peers.push_back(p);
    return;
  }
  auto s = discovery::StaticPeers::create(io, {p}, discovery->intake()->sink(),
                                          static_peer_interval);
  s->start();
  extra_static.push_back(std::move(s));
}

void Node::Impl::note_inbound_peer(const transport::Request& r) {
  if (!inbound_peers || r.listen_port == 0 || r.caller == keys->node_id()) return;
  if (r.trust == TrustLevel::unknown || r.trust == TrustLevel::self) return;  // members only
  {
    // Known by discovery or a static list: nothing to add (its own source keeps it).
    std::lock_guard lock(peers_mutex);
    if (peers.count(r.caller) && !inbound_peers->holds(r.caller)) return;
  }
  std::string host = r.remote_address;
  if (host.rfind("::ffff:", 0) == 0 && host.find('.') != std::string::npos) host = host.substr(7);
  inbound_peers->note(r.caller, discovery::PeerEndpoint{std::move(host), r.listen_port});
}

Status Node::Impl::start_discovery() {
  const auto& dc = home.config.discovery;
  registry->set_pruning_aggressive(dc.aggressive_pruning);
  registry_subscription =
      registry->subscribe([this](const discovery::PeerEvent& e) { on_registry_event(e); });
  fetcher = std::make_unique<discovery::FunctionManifestFetcher>(
      [this](const discovery::PeerEndpoint& ep, discovery::ManifestFetcher::Callback cb) {
        asio::post(io, [this, ep, cb = std::move(cb)]() mutable {
          asio::co_spawn(io, async_fetch_manifest(ep, std::move(cb)), asio::detached);
        });
      });
  discovery::DiscoveryOptions o;
  o.mdns_enabled = dc.mdns_enabled;
  o.udp_enabled = dc.udp_enabled;
  o.udp.group = dc.udp_multicast_group;
  o.udp.port = static_cast<std::uint16_t>(dc.udp_port);
  if (!is_wildcard(home.config.transport.host) && home.config.transport.host != "localhost") {
    // Bound to one address: send and join multicast there.
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(home.config.transport.host, ec);
    if (!ec && addr.is_v4()) o.udp.interface_address = home.config.transport.host;
  }
  o.static_peers = static_peers;
  o.static_poll_interval = static_peer_interval;
  // A shorter re-poll (the test hook) would still wait out the intake's 15 s failure
  // backoff; the backoff is at most one re-poll period so each poll fetches.
  const auto poll_s = std::chrono::duration_cast<std::chrono::seconds>(static_peer_interval);
  o.intake.failure_backoff_seconds = static_cast<int>(std::clamp<std::int64_t>(
      poll_s.count(), 1, o.intake.failure_backoff_seconds));
  o.display_name = home.config.node.display_name;
  o.profile = home.config.node.profile;
  o.https_port = port.load();
  o.manifest_url = discovery::PeerEndpoint{advertised, port.load()}.manifest_url();
  for (const auto& e : bus->registry().all_local()) o.caps.push_back(e.descriptor.name);
  discovery::MembershipCheck member = [this](const NodeId& n, const CommunityId& c) -> Status {
    auto t = membership(n, c);
    if (!t) return t.take_error();
    return {};
  };
  discovery = std::make_unique<discovery::DiscoveryService>(
      io, *keys, *registry, *fetcher, discovery::make_default_manifest_verifier(clock, &key_pins),
      std::move(member), std::move(o));
  if (auto st = discovery->start(); !st) {
    node_log().warning("discovery not running", Json{{"error", st.error().to_string()}});
  }
  inbound_peers = discovery::InboundPeers::create(
      io, discovery->intake()->sink(), clock,
      discovery::InboundPeersOptions{.poll_interval = static_peer_interval});
  inbound_peers->start();
  // M01 §5.2: our manifest, republished every 20 s and on peer changes, feeds the beacons.
  publisher = discovery::ManifestPublisher::create(
      io, [this]() -> Result<identity::NodeManifest> { return manifest(); });
  publisher->add_sink([this](const identity::NodeManifest& m) {
    if (discovery) discovery->update_capabilities(discovery::capability_names(m));
    // CONTRACT §8 node.manifest.updated: each (re)issued manifest, signed, as it is.
    if (service_publisher)
      service_publisher->publish(std::string(transport::TOPIC_NODE_MANIFEST_UPDATED), m.to_json());
  });
  publisher->watch_registry(*registry);
  publisher->start();
  // A capability a service offers or changes later (a RAG corpus made by an ingest) is in
  // the manifest peers fetch next, not one republish period later. Coalesced: one publish
  // for a burst of registry changes.
  bus_caps_subscription = bus->registry().subscribe([this](const bus::RegistryEvent& ev) {
    if (!ev.entry.is_local || stopping.load() || caps_publish_pending.exchange(true)) return;
    asio::post(io, [this] {
      caps_publish_pending = false;
      if (!stopping.load() && publisher) (void)publisher->publish_now();
    });
  });
  return {};
}

}  // namespace hn::node
