// manifest_source.h — the seams through which discovery gets and judges a peer's node
// manifest (M02 §4.1): a ManifestFetcher (the node plugs the X01 transport client in:
// GET https://<host>:<port>/manifest), a verifier (default: M01 parse + verify) and a
// membership check (the node plugs the community manifest in).
//
// Thread-safety: a ManifestFetcher must accept calls from any thread and may invoke the
// callback on any thread (also synchronously, inside fetch_manifest).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "core/json.h"
#include "core/types.h"
#include "identity/keys.h"
#include "identity/manifest.h"

namespace hn::discovery {

// Where a peer's HTTPS server listens.
struct PeerEndpoint {
  std::string host;  // IPv4/IPv6 literal or DNS name, without brackets
  std::uint16_t port = 0;
  bool operator==(const PeerEndpoint&) const = default;
  auto operator<=>(const PeerEndpoint&) const = default;
  // "host:port" ("[v6]:port" for IPv6).
  std::string to_string() const;
  // "https://host:port/manifest" — M02 §3.3.
  std::string manifest_url() const;
};

// Parses "host:port" or "[v6]:port"; bad_request on anything else.
Result<PeerEndpoint> parse_peer_endpoint(std::string_view text);

// Fetches a peer's node manifest (the JSON body of GET /manifest).
class ManifestFetcher {
 public:
  // Result: the parsed JSON body, or manifest_fetch_failed (or timeout) on any failure.
  using Callback = std::function<void(Result<Json>)>;
  virtual ~ManifestFetcher() = default;
  // Starts a fetch; callback is called exactly once. Implementations must bound the time
  // a fetch may take (every socket operation has a deadline — STYLE).
  virtual void fetch_manifest(const PeerEndpoint& endpoint, Callback callback) = 0;
};

// An adapter for a plain function.
class FunctionManifestFetcher final : public ManifestFetcher {
 public:
  using Fn = std::function<void(const PeerEndpoint&, Callback)>;
  explicit FunctionManifestFetcher(Fn fn) : m_fn(std::move(fn)) {}
  void fetch_manifest(const PeerEndpoint& endpoint, Callback callback) override {
    m_fn(endpoint, std::move(callback));
  }

 private:
  Fn m_fn;
};

// Parses and verifies a fetched manifest; the error says why it is refused.
using ManifestVerifier = std::function<Result<identity::NodeManifest>(const Json&)>;

// The default verifier: identity::parse_node_manifest + verify_node_manifest with clock
// (and the optional pin store), M01 §3.2.
ManifestVerifier make_default_manifest_verifier(const Clock& clock,
                                                identity::KeyPinStore* pins = nullptr);

// Whether node may take part in community (the community manifest's is_member, M01 §3.2):
// ok, or not_member / revoked.
using MembershipCheck = std::function<Status(const NodeId& node, const CommunityId& community)>;

// The short display form of a community id (same derivation as a short node id);
// the input verbatim when it is not a full id.
std::string short_community_id(const CommunityId& community_id);

}  // namespace hn::discovery
