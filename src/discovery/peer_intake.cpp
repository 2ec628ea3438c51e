// peer_intake.cpp — the first-contact flow (M02 §4.1) and refresh (§4.2).
#include "discovery/peer_intake.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "core/time.h"
#include "discovery/discovery_log.h"

namespace hn::discovery {
namespace {

constexpr std::string_view COMPONENT = "discovery.intake";

std::optional<std::int64_t> expires_ms(const identity::NodeManifest& m) {
  auto sec = parse_rfc3339(m.expires_at);
  if (!sec) return std::nullopt;
  return *sec * 1000;
}

bool has_endpoint(const PeerRecord& rec, const PeerEndpoint& ep) {
  return std::any_of(rec.endpoints.begin(), rec.endpoints.end(), [&](const identity::Endpoint& e) {
    return e.host == ep.host && e.port == ep.port;
  });
}

}  // namespace

std::shared_ptr<PeerIntake> PeerIntake::create(PeerRegistry& registry, ManifestFetcher& fetcher,
                                               ManifestVerifier verifier,
                                               MembershipCheck membership,
                                               IntakeOptions options) {
  return std::shared_ptr<PeerIntake>(new PeerIntake(registry, fetcher, std::move(verifier),
                                                    std::move(membership), options));
}

PeerIntake::PeerIntake(PeerRegistry& registry, ManifestFetcher& fetcher,
                       ManifestVerifier verifier, MembershipCheck membership,
                       IntakeOptions options)
    : m_registry(registry),
      m_fetcher(fetcher),
      m_verifier(std::move(verifier)),
      m_membership(std::move(membership)),
      m_options(options) {}

bool PeerIntake::is_fresh(const PeerRecord& record, std::int64_t now_ms) const {
  if (!record.manifest) return false;
  auto exp = expires_ms(*record.manifest);
  return exp && *exp - now_ms > std::int64_t{m_options.refresh_window_seconds} * 1000;
}

void PeerIntake::on_sighting(const Sighting& sighting) {
  const std::int64_t now = m_registry.clock().now_ms();
  std::optional<NodeId> owner = sighting.node_id;
  {
    std::lock_guard lock(m_mutex);
    ++m_stats.sightings;
    if (!owner) {
      auto it = m_endpoint_owner.find(sighting.endpoint);
      if (it != m_endpoint_owner.end()) owner = it->second;
    }
  }
  if (owner && *owner == m_registry.our_node_id()) return;
  if (owner && !sighting.changed) {
    auto rec = m_registry.get(*owner);
    if (rec && has_endpoint(*rec, sighting.endpoint) && is_fresh(*rec, now)) {
      m_registry.touch(*owner);
      return;
    }
  }
  {
    std::lock_guard lock(m_mutex);
    if (m_in_flight.count(sighting.endpoint)) return;
    auto b = m_backoff_until_ms.find(sighting.endpoint);
    if (b != m_backoff_until_ms.end()) {
      if (now < b->second && !sighting.changed) return;
      m_backoff_until_ms.erase(b);
    }
    m_in_flight.insert(sighting.endpoint);
    ++m_stats.fetches;
  }
  start_fetch(sighting);
}

void PeerIntake::start_fetch(const Sighting& sighting) {
  auto self = shared_from_this();
  m_fetcher.fetch_manifest(sighting.endpoint, [self, sighting](Result<Json> body) {
    self->on_fetched(sighting, std::move(body));
  });
}

void PeerIntake::note_failure(const PeerEndpoint& endpoint) {
  std::lock_guard lock(m_mutex);
  m_backoff_until_ms[endpoint] =
      m_registry.clock().now_ms() + std::int64_t{m_options.failure_backoff_seconds} * 1000;
}

void PeerIntake::on_fetched(const Sighting& sighting, Result<Json> body) {
  {
    std::lock_guard lock(m_mutex);
    m_in_flight.erase(sighting.endpoint);
  }
  const std::string where = sighting.endpoint.to_string();
  auto refuse = [&](std::uint64_t IntakeStats::*counter, const std::string& why) {
    {
      std::lock_guard lock(m_mutex);
      ++(m_stats.*counter);
    }
    note_failure(sighting.endpoint);
    discovery_log(LogSeverity::debug, COMPONENT, "peer at " + where + " refused: " + why);
  };

  if (!body) {  // M02 §5 manifest_fetch_failed: logged, not fatal
    refuse(&IntakeStats::fetch_failures, body.error().to_string());
    return;
  }
  Result<identity::NodeManifest> verified = [&]() -> Result<identity::NodeManifest> {
    try {
      return m_verifier(*body);
    } catch (const std::exception& e) {  // a verifier must not throw; be safe at the edge
      return make_error(ErrorCode::manifest_invalid, e.what());
    }
  }();
  if (!verified) {  // M02 §5 manifest_invalid
    refuse(&IntakeStats::manifest_invalid, verified.error().to_string());
    return;
  }
  identity::NodeManifest manifest = std::move(verified).value();
  auto key = identity::parse_node_id(manifest.node_id.str());
  if (!key) {
    refuse(&IntakeStats::manifest_invalid, "bad node id");
    return;
  }
  const std::string short_id = identity::short_node_id(*key);
  if ((sighting.node_id && *sighting.node_id != manifest.node_id) ||
      (!sighting.node_short.empty() && sighting.node_short != short_id)) {
    refuse(&IntakeStats::mismatched, "manifest is of node " + manifest.node_id.str());
    return;
  }
  if (manifest.node_id == m_registry.our_node_id()) {  // e.g. ourselves in a static list
    std::lock_guard lock(m_mutex);
    m_endpoint_owner[sighting.endpoint] = manifest.node_id;
    return;
  }
  // M02 §4.1: keep only our community's members; otherwise remove.
  if (manifest.community_id != m_registry.community_id()) {
    refuse(&IntakeStats::foreign, "community " + manifest.community_id.str());
    m_registry.remove(manifest.node_id);
    return;
  }
  if (m_membership) {
    Status member = m_membership(manifest.node_id, manifest.community_id);
    if (!member) {
      refuse(&IntakeStats::not_member, member.error().to_string());
      m_registry.remove(manifest.node_id);
      return;
    }
  }

  PeerRecord rec;
  rec.node_id = short_id;
  rec.node_id_full = manifest.node_id;
  rec.display_name = manifest.display_name;
  rec.community_id = manifest.community_id;
  rec.profile = manifest.profile;
  rec.endpoints.push_back(
      identity::Endpoint{"https", sighting.endpoint.host, int{sighting.endpoint.port}});
  for (const auto& e : manifest.endpoints) {
    if (std::find(rec.endpoints.begin(), rec.endpoints.end(), e) == rec.endpoints.end()) {
      rec.endpoints.push_back(e);
    }
  }
  rec.source = sighting.source;
  if (auto old = m_registry.get(manifest.node_id)) rec.rtt_ms = old->rtt_ms;
  rec.manifest = std::move(manifest);
  {
    std::lock_guard lock(m_mutex);
    m_endpoint_owner[sighting.endpoint] = rec.node_id_full;
    ++m_stats.accepted;
  }
  if (m_registry.upsert(std::move(rec))) {
    discovery_log(LogSeverity::info, COMPONENT, "new peer at " + where);
  }
}

std::size_t PeerIntake::refresh_expiring() {
  const std::int64_t now = m_registry.clock().now_ms();
  std::vector<Sighting> due;
  for (const auto& rec : m_registry.all()) {
    if (rec.endpoints.empty() || is_fresh(rec, now)) continue;
    const auto& e = rec.endpoints.front();
    if (e.port <= 0 || e.port > 65535) continue;
    Sighting s;
    s.endpoint = PeerEndpoint{e.host, static_cast<std::uint16_t>(e.port)};
    s.source = rec.source;
    s.node_id = rec.node_id_full;
    s.changed = true;  // bypass the failure backoff: this is the scheduled retry
    due.push_back(std::move(s));
  }
  std::size_t started = 0;
  for (const auto& s : due) {
    {
      std::lock_guard lock(m_mutex);
      if (m_in_flight.count(s.endpoint)) continue;
      m_in_flight.insert(s.endpoint);
      ++m_stats.fetches;
    }
    start_fetch(s);
    ++started;
  }
  return started;
}

SightingSink PeerIntake::sink() {
  return [self = shared_from_this()](const Sighting& s) { self->on_sighting(s); };
}

IntakeStats PeerIntake::stats() const {
  std::lock_guard lock(m_mutex);
  return m_stats;
}

// --- DiscoveryMaintenance -------------------------------------------------------------------

DiscoveryMaintenance::DiscoveryMaintenance(boost::asio::io_context& io,
                                           std::shared_ptr<PeerIntake> intake,
                                           std::chrono::milliseconds interval)
    : m_timer(io),
      m_intake(std::move(intake)),
      m_interval(interval),
      m_running(std::make_shared<std::atomic<bool>>(false)) {}

DiscoveryMaintenance::~DiscoveryMaintenance() { stop(); }

void DiscoveryMaintenance::start() {
  if (m_running->exchange(true)) return;
  arm();
}

void DiscoveryMaintenance::stop() {
  m_running->store(false);
  m_timer.cancel();
}

void DiscoveryMaintenance::run_once() {
  m_intake->registry().prune_stale();
  m_intake->refresh_expiring();
}

void DiscoveryMaintenance::arm() {
  m_timer.expires_after(m_interval);
  m_timer.async_wait([this, running = m_running](const boost::system::error_code& ec) {
    if (ec || !running->load()) return;
    run_once();
    arm();
  });
}

}  // namespace hn::discovery
