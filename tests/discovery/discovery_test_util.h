// discovery_test_util.h — shared helpers for the discovery tests: signed manifests for
// throw-away identities and a fake ManifestFetcher (test double for the X01 client).
//
// Thread-safety: FakeFetcher is internally locked.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <array>
#include <random>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/multicast.hpp>
#include <boost/asio/ip/udp.hpp>

#include "core/clock.h"
#include "discovery/manifest_source.h"
#include "identity/keys.h"
#include "identity/manifest.h"

namespace hn::discovery::test {

inline identity::NodeManifest make_manifest(const identity::KeyPair& keys,
                                            const CommunityId& community, std::uint16_t port,
                                            const Clock& clock,
                                            std::vector<std::string> caps = {"llm.chat"},
                                            std::string name = "test-node") {
  identity::NodeManifestInput in;
  in.community_id = community;
  in.display_name = std::move(name);
  in.profile = Profile::hearth;
  in.endpoints = {identity::Endpoint{"https", "10.0.0.9", port}};
  in.hardware.cpu_cores = 2;
  for (const auto& c : caps) {
    identity::CapabilitySpec spec;
    spec.name = c;
    spec.schema_hash = SchemaHash("blake3:" + std::string(64, 'a'));
    in.capabilities.push_back(spec);
  }
  return identity::build_node_manifest(keys, in, clock);
}

inline CommunityId community_of(const identity::KeyPair& root) {
  return CommunityId(root.node_id().str());
}

// Answers fetches from a table: endpoint → JSON body (or an error). Synchronous by
// default; with defer=true the callbacks wait for complete_all().
class FakeFetcher final : public ManifestFetcher {
 public:
  void set(const PeerEndpoint& ep, Json body) {
    std::lock_guard lock(m_mutex);
    m_bodies[ep] = std::move(body);
  }
  void set_manifest(const PeerEndpoint& ep, const identity::NodeManifest& m) { set(ep, m.to_json()); }
  void clear(const PeerEndpoint& ep) {
    std::lock_guard lock(m_mutex);
    m_bodies.erase(ep);
  }
  void set_defer(bool defer) { m_defer = defer; }

  void fetch_manifest(const PeerEndpoint& endpoint, Callback callback) override {
    Result<Json> result = make_error(ErrorCode::manifest_fetch_failed, "no such peer");
    {
      std::lock_guard lock(m_mutex);
      m_calls.push_back(endpoint);
      auto it = m_bodies.find(endpoint);
      if (it != m_bodies.end()) result = it->second;
      if (m_defer) {
        m_pending.push_back([callback, result]() mutable { callback(std::move(result)); });
        return;
      }
    }
    callback(std::move(result));
  }
  void complete_all() {
    std::vector<std::function<void()>> pending;
    {
      std::lock_guard lock(m_mutex);
      pending.swap(m_pending);
    }
    for (auto& p : pending) p();
  }
  std::size_t calls() const {
    std::lock_guard lock(m_mutex);
    return m_calls.size();
  }

 private:
  mutable std::mutex m_mutex;
  std::map<PeerEndpoint, Json> m_bodies;
  std::vector<PeerEndpoint> m_calls;
  std::vector<std::function<void()>> m_pending;
  bool m_defer = false;
};

// Runs io until pred() holds or the deadline passes (a wait bound, not a timed assertion).
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& pred,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds(20));
  }
  return true;
}

// A random high port, so tests do not clash with real nodes on 42424.
inline std::uint16_t random_port() {
  std::random_device rd;
  return static_cast<std::uint16_t>(40000 + rd() % 20000);
}

// Whether a datagram sent to the group comes back to a member socket on this host.
inline bool multicast_works(const std::string& group, std::uint16_t port) {
  namespace asio = boost::asio;
  using asio::ip::udp;
  asio::io_context io;
  boost::system::error_code ec;
  udp::socket rx(io), tx(io);
  rx.open(udp::v4(), ec);
  rx.set_option(udp::socket::reuse_address(true), ec);
  rx.bind(udp::endpoint(asio::ip::address_v4::any(), port), ec);
  if (ec) return false;
  rx.set_option(asio::ip::multicast::join_group(asio::ip::make_address_v4(group)), ec);
  if (ec) return false;
  tx.open(udp::v4(), ec);
  tx.set_option(asio::ip::multicast::enable_loopback(true), ec);
  tx.send_to(asio::buffer(std::string("probe")),
             udp::endpoint(asio::ip::make_address_v4(group), port), 0, ec);
  if (ec) return false;
  bool got = false;
  std::array<char, 16> buf{};
  udp::endpoint from;
  rx.async_receive_from(asio::buffer(buf), from,
                        [&](const boost::system::error_code& e, std::size_t) { got = !e; });
  run_until(io, [&] { return got; }, std::chrono::seconds(2));
  return got;
}

}  // namespace hn::discovery::test
