// manifest_source.cpp — endpoint parsing, the default manifest verifier.
#include "discovery/manifest_source.h"

#include <charconv>

#include "observability/standard_metrics.h"

namespace hn::discovery {

std::string PeerEndpoint::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string PeerEndpoint::manifest_url() const { return "https://" + to_string() + "/manifest"; }

Result<PeerEndpoint> parse_peer_endpoint(std::string_view text) {
  auto bad = [&] {
    return make_error(ErrorCode::bad_request, "expected host:port, got '" + std::string(text) + "'");
  };
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad();
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad();
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad();  // bare IPv6 needs brackets
  }
  if (host.empty() || port_text.empty() || port_text.size() > 5) return bad();
  for (char c : host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '[' || c == ']') return bad();
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return bad();
  }
  return PeerEndpoint{std::string(host), static_cast<std::uint16_t>(port)};
}

ManifestVerifier make_default_manifest_verifier(const Clock& clock,
                                                identity::KeyPinStore* pins) {
  return [&clock, pins](const Json& json) -> Result<identity::NodeManifest> {
    HN_TRY_ASSIGN(auto manifest, identity::parse_node_manifest(json));
    if (Status st = identity::verify_node_manifest(manifest, clock, pins); !st) {
      // X03 §4.2: a peer manifest whose signature fails counts.
      if (st.error().code == ErrorCode::invalid_signature) {
        observability::standard_metrics().signature_failures_total->inc({"peer_manifest"});
      }
      return st.take_error();
    }
    return manifest;
  };
}

std::string short_community_id(const CommunityId& community_id) {
  auto key = identity::parse_node_id(community_id.str());
  if (!key) return community_id.str();
  return identity::short_node_id(*key);
}

}  // namespace hn::discovery
