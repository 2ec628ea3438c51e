// peer_intake.h — the first-contact flow of M02 §4.1 shared by every discovery source
// (UDP beacons, mDNS, static bootstrap peers): a sighting of <host:port> leads to a
// manifest fetch, M01 verification, community + membership checks, and only then to a
// registry upsert. Also the refresh rule of §4.2 (refetch manifests close to expiry) and
// a maintenance loop that prunes stale peers.
//
// Decision: unlike the spec's flow we do not upsert an unverified stub record before the
// fetch — the registry holds only peers whose manifest verified (the bus trusts it).
//
// Thread-safety: on_sighting / refresh_expiring may be called from any thread; fetch
// callbacks may arrive on any thread. Internal state is guarded by a mutex that is never
// held while calling the fetcher, the verifier, the membership check or the registry.
// Lifetime: create() returns a shared_ptr; pending fetch callbacks keep the intake alive.
// The registry and the fetcher must outlive it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "discovery/manifest_source.h"
#include "discovery/peer_registry.h"

namespace hn::discovery {

// One observation of a peer's server.
struct Sighting {
  PeerEndpoint endpoint;
  PeerSource source = PeerSource::udp;
  std::optional<NodeId> node_id;  // the full id, when the sighting is signed by it (UDP)
  std::string node_short;         // the short id, when announced unsigned (mDNS TXT)
  bool changed = false;           // the announcement itself changed (mDNS TXT): refetch
};

// Receives sightings from a discovery source (UDP, mDNS, static peers).
using SightingSink = std::function<void(const Sighting&)>;

struct IntakeOptions {
  // Refetch a peer's manifest this close to its expires_at — M02 §4.2.
  int refresh_window_seconds = 10;
  // After a failed fetch or a refused manifest, ignore that endpoint this long (unless
  // its announcement changes), so a broken peer is not fetched on every beacon.
  int failure_backoff_seconds = 15;
};

struct IntakeStats {
  std::uint64_t sightings = 0;
  std::uint64_t fetches = 0;
  std::uint64_t fetch_failures = 0;    // manifest_fetch_failed
  std::uint64_t manifest_invalid = 0;  // parse/verify failed (M01)
  std::uint64_t mismatched = 0;        // manifest is another node than announced
  std::uint64_t foreign = 0;           // other community
  std::uint64_t not_member = 0;        // membership check refused
  std::uint64_t accepted = 0;          // upserted into the registry
};

class PeerIntake : public std::enable_shared_from_this<PeerIntake> {
 public:
  // membership may be empty (every node of our community is accepted).
  static std::shared_ptr<PeerIntake> create(PeerRegistry& registry, ManifestFetcher& fetcher,
                                            ManifestVerifier verifier,
                                            MembershipCheck membership = {},
                                            IntakeOptions options = {});

  // Handles one sighting: a touch when the peer is known at that endpoint with a fresh
  // manifest, else (at most one at a time per endpoint) a fetch + verify + upsert.
  void on_sighting(const Sighting& sighting);
  // Starts refetches for peers whose manifest expires within the refresh window (or has
  // expired); returns how many were started — M02 §4.2.
  std::size_t refresh_expiring();
  IntakeStats stats() const;
  PeerRegistry& registry() { return m_registry; }
  // A sink that feeds this intake (keeps it alive).
  SightingSink sink();

 private:
  PeerIntake(PeerRegistry& registry, ManifestFetcher& fetcher, ManifestVerifier verifier,
             MembershipCheck membership, IntakeOptions options);
  bool is_fresh(const PeerRecord& record, std::int64_t now_ms) const;
  void start_fetch(const Sighting& sighting);
  void on_fetched(const Sighting& sighting, Result<Json> body);
  void note_failure(const PeerEndpoint& endpoint);

  PeerRegistry& m_registry;
  ManifestFetcher& m_fetcher;
  ManifestVerifier m_verifier;
  MembershipCheck m_membership;
  IntakeOptions m_options;

  mutable std::mutex m_mutex;
  std::set<PeerEndpoint> m_in_flight;
  std::map<PeerEndpoint, NodeId> m_endpoint_owner;
  std::map<PeerEndpoint, std::int64_t> m_backoff_until_ms;
  IntakeStats m_stats;
};

// Every interval: registry.prune_stale() (90 s / 30 s aggressive) and
// intake.refresh_expiring() — M02 §4.2. Runs on the caller's io_context.
// Thread-safety: start/stop on the io_context's thread (or before it runs).
class DiscoveryMaintenance {
 public:
  // The spec's refresh cadence (M02 §4.2).
  static constexpr std::chrono::seconds DEFAULT_INTERVAL{30};

  DiscoveryMaintenance(boost::asio::io_context& io, std::shared_ptr<PeerIntake> intake,
                       std::chrono::milliseconds interval = DEFAULT_INTERVAL);
  ~DiscoveryMaintenance();
  void start();
  void stop();
  // One round (what the timer does), for tests and for M09 to force a sweep.
  void run_once();

 private:
  void arm();
  boost::asio::steady_timer m_timer;
  std::shared_ptr<PeerIntake> m_intake;
  std::chrono::milliseconds m_interval;
  std::shared_ptr<std::atomic<bool>> m_running;
};

}  // namespace hn::discovery
