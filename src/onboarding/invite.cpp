// invite.cpp — invite blob: build, sign, encode, strict decode (see invite.h).
#include "onboarding/invite.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "core/encoding.h"
#include "core/time.h"
#include "core/ulid.h"

namespace hn::onboarding {
namespace {

constexpr std::array<std::string_view, 11> INVITE_FIELDS = {
    "schema_version", "invite_id",   "community_id",  "community_name",
    "inviter_node_id", "invitee_node_id", "display_name", "initial_level",
    "bootstrap_endpoints", "expires_at", "signature"};

Error invalid(std::string message, std::string_view cause, Json detail = Json::object()) {
  detail["cause"] = std::string(cause);
  return make_error(ErrorCode::invite_invalid, std::move(message), std::move(detail));
}

Error bad_field(std::string_view field, std::string_view why) {
  return invalid("invite field '" + std::string(field) + "' " + std::string(why), "field",
                 Json{{"field", std::string(field)}});
}

// Levels an invite may grant: CONTRACT §4.17 "member" or "trusted". An anchor is made by
// a co-signed promotion (events/governance.h), never by one inviter.
std::optional<TrustLevel> invite_level(std::string_view text) {
  auto level = parse_trust_level(text);
  if (!level || (*level != TrustLevel::member && *level != TrustLevel::trusted)) return std::nullopt;
  return level;
}

Json endpoint_json(const identity::Endpoint& e) {
  return Json{{"transport", e.transport}, {"host", e.host}, {"port", e.port}};
}

bool valid_host(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == ':' || c == '_' || c == '%';
  });
}

std::string_view trim(std::string_view text) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

Result<std::string> req_string(const Json& j, std::string_view key, std::size_t max_bytes) {
  auto it = j.find(key);
  if (it == j.end()) return bad_field(key, "is missing");
  if (!it->is_string()) return bad_field(key, "is not a string");
  auto value = it->get<std::string>();
  if (value.size() > max_bytes) return bad_field(key, "is too long");
  return value;
}

Result<NodeId> req_node_id(const Json& j, std::string_view key) {
  HN_TRY_ASSIGN(auto text, req_string(j, key, 128));
  if (!identity::parse_node_id(text)) return bad_field(key, "is not a full node id");
  return NodeId(std::move(text));
}

Result<identity::Endpoint> parse_endpoint_json(const Json& j, std::size_t index) {
  const std::string field = "bootstrap_endpoints[" + std::to_string(index) + "]";
  if (!j.is_object() || j.size() != 3) return bad_field(field, "is not a {transport,host,port} object");
  identity::Endpoint e;
  auto transport = j.find("transport");
  auto host = j.find("host");
  auto port = j.find("port");
  if (transport == j.end() || !transport->is_string() || transport->get<std::string>().empty() ||
      transport->get<std::string>().size() > 16) {
    return bad_field(field + ".transport", "is not a short string");
  }
  if (host == j.end() || !host->is_string() || !valid_host(host->get<std::string>())) {
    return bad_field(field + ".host", "is not a host name or address");
  }
  if (port == j.end() || !port->is_number_integer()) return bad_field(field + ".port", "is not an integer");
  auto p = port->get<std::int64_t>();
  if (p < 1 || p > 65535) return bad_field(field + ".port", "is out of range");
  e.transport = transport->get<std::string>();
  e.host = host->get<std::string>();
  e.port = static_cast<int>(p);
  return e;
}

// Validates what make_invite gets from its caller (a user, through the CLI).
Status validate_request(const identity::KeyPair& inviter, const identity::CommunityManifest& community,
                        const InviteRequest& request) {
  if (!identity::parse_node_id(request.invitee_node_id.str())) {
    return make_error(ErrorCode::bad_node_id, "invitee is not a full node id (ed25519:<43 chars>)");
  }
  if (request.invitee_node_id == inviter.node_id()) {
    return make_error(ErrorCode::bad_request, "an inviter cannot invite itself");
  }
  if (!invite_level(to_string(request.initial_level))) {
    return make_error(ErrorCode::bad_request, "initial_level must be member or trusted (CONTRACT §4.17)");
  }
  if (request.ttl_seconds < 1 || request.ttl_seconds > MAX_INVITE_TTL_SECONDS) {
    return make_error(ErrorCode::bad_request,
                      "ttl must be 1.." + std::to_string(MAX_INVITE_TTL_SECONDS) + " seconds");
  }
  if (request.bootstrap_endpoints.empty() || request.bootstrap_endpoints.size() > INVITE_MAX_ENDPOINTS) {
    return make_error(ErrorCode::bad_request,
                      "an invite needs 1.." + std::to_string(INVITE_MAX_ENDPOINTS) + " bootstrap endpoints");
  }
  for (const auto& e : request.bootstrap_endpoints) {
    if (!valid_host(e.host) || e.port < 1 || e.port > 65535 || e.transport.empty() ||
        e.transport.size() > 16) {
      return make_error(ErrorCode::bad_request, "bad bootstrap endpoint '" + format_endpoint_text(e) + "'");
    }
  }
  if (request.display_name.size() > INVITE_MAX_NAME_BYTES || community.name.size() > INVITE_MAX_NAME_BYTES) {
    return make_error(ErrorCode::bad_request, "display or community name too long");
  }
  if (!identity::parse_node_id(community.community_id.str())) {
    return make_error(ErrorCode::bad_request, "community manifest has no valid community_id");
  }
  return {};
}

}  // namespace

Json Invite::to_json() const {
  Json endpoints = Json::array();
  for (const auto& e : bootstrap_endpoints) endpoints.push_back(endpoint_json(e));
  Json j = {{"schema_version", schema_version},
            {"invite_id", invite_id.str()},
            {"community_id", community_id.str()},
            {"community_name", community_name},
            {"inviter_node_id", inviter_node_id.str()},
            {"invitee_node_id", invitee_node_id.str()},
            {"display_name", display_name},
            {"initial_level", std::string(to_string(initial_level))},
            {"bootstrap_endpoints", std::move(endpoints)},
            {"expires_at", expires_at}};
  if (!signature.empty()) j["signature"] = signature;
  return j;
}

bool Invite::is_expired(const Clock& clock) const {
  auto expires = parse_rfc3339_ms(expires_at);
  return !expires || clock.now_ms() > *expires;
}

Result<Invite> make_invite(const identity::KeyPair& inviter, const identity::CommunityManifest& community,
                           const InviteRequest& request, const Clock& clock, const EventId& invite_id) {
  HN_TRY(validate_request(inviter, community, request));
  if (!invite_id.str().empty() && !is_valid_ulid(invite_id.str())) {
    return make_error(ErrorCode::bad_request, "invite_id must be a ULID");
  }
  Invite invite;
  invite.invite_id = invite_id.str().empty() ? EventId(UlidGenerator(clock).next()) : invite_id;
  invite.community_id = community.community_id;
  invite.community_name = community.name;
  invite.inviter_node_id = inviter.node_id();
  invite.invitee_node_id = request.invitee_node_id;
  invite.display_name = request.display_name;
  invite.initial_level = request.initial_level;
  invite.bootstrap_endpoints = request.bootstrap_endpoints;
  invite.expires_at = format_rfc3339(clock.now_seconds() + request.ttl_seconds);
  HN_TRY(sign_invite(invite, inviter));
  return invite;
}

Status sign_invite(Invite& invite, const identity::KeyPair& inviter) {
  if (invite.inviter_node_id != inviter.node_id()) {
    return make_error(ErrorCode::sign_failed, "invite's inviter_node_id is not the signing key's");
  }
  invite.signature.clear();
  Json signed_json = inviter.sign(invite.to_json());
  invite.signature = signed_json.at("signature").get<std::string>();
  return {};
}

Status verify_invite_signature(const Invite& invite) {
  auto status = identity::verify_payload_with_node_id(invite.to_json(), invite.inviter_node_id.str());
  if (!status) {
    return invalid("invite signature does not verify: " + status.error().message, "invalid_signature");
  }
  return {};
}

std::string encode_invite(const Invite& invite) {
  const std::string body = canonical_json(invite.to_json());
  return std::string(INVITE_SCHEME) + std::string(INVITE_VERSION_PREFIX) + base64url_encode(as_bytes(body));
}

Result<Invite> parse_invite_json(const Json& j) {
  if (!j.is_object()) return invalid("invite is not a JSON object", "field");
  for (const auto& [key, value] : j.items()) {
    (void)value;
    if (std::find(INVITE_FIELDS.begin(), INVITE_FIELDS.end(), key) == INVITE_FIELDS.end()) {
      return bad_field(key.substr(0, 64), "is not an invite field");
    }
  }
  Invite inv;
  auto version = j.find("schema_version");
  if (version == j.end()) return bad_field("schema_version", "is missing");
  if (!version->is_number_integer() || version->get<std::int64_t>() != INVITE_SCHEMA_VERSION) {
    return bad_field("schema_version", "is not 1");
  }
  inv.schema_version = INVITE_SCHEMA_VERSION;

  HN_TRY_ASSIGN(auto invite_id, req_string(j, "invite_id", 26));
  if (!is_valid_ulid(invite_id)) return bad_field("invite_id", "is not a ULID");
  inv.invite_id = EventId(std::move(invite_id));
  HN_TRY_ASSIGN(auto community, req_node_id(j, "community_id"));
  inv.community_id = CommunityId(community.str());
  HN_TRY_ASSIGN(inv.community_name, req_string(j, "community_name", INVITE_MAX_NAME_BYTES));
  HN_TRY_ASSIGN(inv.inviter_node_id, req_node_id(j, "inviter_node_id"));
  HN_TRY_ASSIGN(inv.invitee_node_id, req_node_id(j, "invitee_node_id"));
  HN_TRY_ASSIGN(inv.display_name, req_string(j, "display_name", INVITE_MAX_NAME_BYTES));
  HN_TRY_ASSIGN(auto level_text, req_string(j, "initial_level", 16));
  auto level = invite_level(level_text);
  if (!level) return bad_field("initial_level", "is not member or trusted");
  inv.initial_level = *level;

  auto endpoints = j.find("bootstrap_endpoints");
  if (endpoints == j.end() || !endpoints->is_array()) return bad_field("bootstrap_endpoints", "is not an array");
  if (endpoints->empty() || endpoints->size() > INVITE_MAX_ENDPOINTS) {
    return bad_field("bootstrap_endpoints", "must hold 1..8 endpoints");
  }
  for (std::size_t i = 0; i < endpoints->size(); ++i) {
    HN_TRY_ASSIGN(auto e, parse_endpoint_json((*endpoints)[i], i));
    inv.bootstrap_endpoints.push_back(std::move(e));
  }

  HN_TRY_ASSIGN(inv.expires_at, req_string(j, "expires_at", 40));
  if (!parse_rfc3339_ms(inv.expires_at)) return bad_field("expires_at", "is not an RFC 3339 UTC time");
  HN_TRY_ASSIGN(inv.signature, req_string(j, "signature", 128));
  if (inv.signature.rfind("ed25519:", 0) != 0) return bad_field("signature", "is not an ed25519 signature");
  return inv;
}

Result<Invite> decode_invite(std::string_view text) {
  text = trim(text);
  if (text.size() > INVITE_MAX_TEXT_BYTES) return invalid("invite text is too long", "scheme");
  if (text.substr(0, INVITE_SCHEME.size()) != INVITE_SCHEME) {
    return invalid("not a HearthNet invite (expected hearthnet://v1/…)", "scheme");
  }
  text.remove_prefix(INVITE_SCHEME.size());
  if (text.substr(0, INVITE_VERSION_PREFIX.size()) != INVITE_VERSION_PREFIX) {
    return invalid("unsupported invite version (this node reads v1)", "version");
  }
  text.remove_prefix(INVITE_VERSION_PREFIX.size());
  auto bytes = base64url_decode(text);
  if (!bytes || bytes->empty()) return invalid("invite payload is not base64url", "base64url");
  auto json = parse_json(as_chars(*bytes));
  if (!json) return invalid("invite payload is not JSON: " + json.error().message, "json");
  HN_TRY_ASSIGN(auto invite, parse_invite_json(*json));
  // Verify over the object as received (strict parsing makes to_json() reproduce it).
  auto status = identity::verify_payload_with_node_id(*json, invite.inviter_node_id.str());
  if (!status) {
    return invalid("invite signature does not verify: " + status.error().message, "invalid_signature");
  }
  return invite;
}

Status check_invite(const Invite& invite, const NodeId& my_node_id, const Clock& clock) {
  if (invite.is_expired(clock)) {
    return make_error(ErrorCode::invite_expired,
                      "invite expired at " + invite.expires_at + "; ask for a new one",
                      Json{{"expires_at", invite.expires_at}});
  }
  if (invite.invitee_node_id != my_node_id) {
    return make_error(ErrorCode::invitee_mismatch, "invite is addressed to another device",
                      Json{{"invitee_node_id", invite.invitee_node_id.str()},
                           {"node_id", my_node_id.str()}});
  }
  return {};
}

Result<identity::Endpoint> parse_endpoint_text(std::string_view text) {
  text = trim(text);
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return make_error(ErrorCode::bad_request, "endpoint must be [v6-address]:port");
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return make_error(ErrorCode::bad_request, "endpoint must be host:port");
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  int port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535) {
    return make_error(ErrorCode::bad_request, "endpoint port must be 1..65535");
  }
  if (!valid_host(host)) return make_error(ErrorCode::bad_request, "endpoint host is not valid");
  return identity::Endpoint{"https", std::string(host), port};
}

std::string format_endpoint_text(const identity::Endpoint& endpoint) {
  if (endpoint.host.find(':') != std::string::npos) {
    return "[" + endpoint.host + "]:" + std::to_string(endpoint.port);
  }
  return endpoint.host + ":" + std::to_string(endpoint.port);
}

}  // namespace hn::onboarding
