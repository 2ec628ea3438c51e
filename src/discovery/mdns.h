// mdns.h — mDNS / DNS-SD discovery through the Avahi daemon (M02 §3.2, §3.3):
// MdnsAnnouncer publishes our `_hearthnet._tcp` service with the §3.3 TXT records and
// updates / withdraws it; MdnsBrowser browses + resolves other nodes' services and hands
// sightings to the first-contact flow (like UDP beacons, M02 §4.1).
//
// When the Avahi daemon cannot be reached, start() returns mdns_unavailable after one
// warning and the node carries on with UDP multicast only (M02 §5).
//
// Thread-safety: each object runs an AvahiThreadedPoll thread; the public members may be
// called from any one thread at a time (they take the poll lock). The browser posts every
// result to the caller's io_context, so sinks and observers run on that io_context's thread.
// Invariants: the TXT "caps" value is at most MDNS_CAPS_MAX_BYTES and holds whole names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/error.h"
#include "core/types.h"
#include "discovery/peer_intake.h"

namespace hn::discovery {

inline constexpr const char* MDNS_SERVICE_TYPE = "_hearthnet._tcp";  // M02 §3.3
inline constexpr std::size_t MDNS_CAPS_MAX_BYTES = 200;              // M02 §3.3
inline constexpr std::size_t MDNS_INSTANCE_MAX_BYTES = 63;           // DNS label limit

// What we announce — M02 §3.2 constructor arguments.
struct MdnsServiceInfo {
  std::string node_short;       // "ed25519:XXXX-XXXX-XXXX-XXXX"
  std::string display_name;
  std::string community_short;  // short form of the community id
  Profile profile = Profile::hearth;
  std::uint16_t port = 0;       // our HTTPS port (the manifest's first endpoint)
  std::vector<std::string> caps;
  std::string manifest_url;     // "https://<host>:<port>/manifest"
};

// "<display_name>-<first 4 chars of the short id, after "ed25519:">" — M02 §3.3; the
// display name is cut (at a UTF-8 boundary) so the label fits MDNS_INSTANCE_MAX_BYTES.
std::string mdns_instance_name(std::string_view display_name, std::string_view node_short);
// Comma-joined names, dropping whole names from the end to stay within max_bytes.
std::string join_caps_truncated(const std::vector<std::string>& caps,
                                std::size_t max_bytes = MDNS_CAPS_MAX_BYTES);
// The §3.3 TXT records in order: v, node, community, profile, caps, manifest_url,
// contract_version.
std::vector<std::pair<std::string, std::string>> build_txt_records(const MdnsServiceInfo& info);

// The §3.3 TXT records as read from the network.
struct MdnsTxt {
  std::string node_short;
  std::string community_short;
  Profile profile = Profile::hearth;
  std::vector<std::string> caps;
  std::string manifest_url;
  std::string contract_version;
};
// bad_request when v is not "1" or node / community / profile is missing or invalid.
Result<MdnsTxt> parse_txt_records(const std::map<std::string, std::string>& txt);

class MdnsAnnouncer {
 public:
  explicit MdnsAnnouncer(MdnsServiceInfo info);
  ~MdnsAnnouncer();
  MdnsAnnouncer(const MdnsAnnouncer&) = delete;
  MdnsAnnouncer& operator=(const MdnsAnnouncer&) = delete;

  // Connects to the Avahi daemon and publishes; mdns_unavailable (one warning) when the
  // daemon cannot be reached.
  Status start();
  // Withdraws the service and disconnects.
  void stop();
  // Refreshes the TXT records when the capability names changed (M02 §3.2 update).
  Status update_capabilities(std::vector<std::string> caps);
  // The instance name in use (Avahi may pick an alternative after a name collision).
  std::string instance_name() const;
  // Whether the daemon confirmed the registration.
  bool established() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> m_impl;
};

// One resolved service, as seen (before any filtering).
struct MdnsResolved {
  std::string instance_name;
  std::string host_name;
  std::string address;
  std::uint16_t port = 0;
  std::map<std::string, std::string> txt;
};

struct MdnsBrowserStats {
  std::uint64_t resolved = 0;
  std::uint64_t accepted = 0;
  std::uint64_t own = 0;
  std::uint64_t malformed = 0;
  std::uint64_t foreign = 0;
};

class MdnsBrowser {
 public:
  using Observer = std::function<void(const MdnsResolved&)>;

  // Services whose TXT node is our_node_short are ignored; other communities dropped.
  // observer (optional) sees every resolved service first, e.g. for diagnostics and tests.
  MdnsBrowser(boost::asio::io_context& io, std::string our_node_short,
              std::string our_community_short, SightingSink sink, Observer observer = {});
  ~MdnsBrowser();
  MdnsBrowser(const MdnsBrowser&) = delete;
  MdnsBrowser& operator=(const MdnsBrowser&) = delete;

  // mdns_unavailable (one warning) when the Avahi daemon cannot be reached.
  Status start();
  void stop();
  MdnsBrowserStats stats() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> m_impl;
};

}  // namespace hn::discovery
