// envelope.h — the signed request envelope of CONTRACT §5.1, signed responses (§5.2), the
// error envelope (§5.4) with its status mapping (§5.5), and the small HTTP helpers both the
// server and the client need (header lookup, query strings). Pure functions, no sockets.
//
// What is signed (CONTRACT §5.1, §10): the canonical JSON of
//   {capability, version, request_id, from, community, timestamp, body}
// where every field but `body` is the value of its X-HearthNet-* header and `body` is the
// parsed request body. Decisions where the contract is silent (doc/design/transport.md):
//  - Routes other than POST /bus/v1/call carry the request path as their capability
//    (X-HearthNet-Capability: /sync/v1/events); the server refuses a capability that does
//    not match the route, so a signature is bound to one route.
//  - A request without a body (GET) signs the object of its query parameters (string
//    values; {} when there are none), so query parameters are covered by the signature.
//  - A signed response (§5.2) signs {request_id, from, timestamp, status, body}.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/json.h"
#include "core/types.h"
#include "identity/keys.h"

namespace hn::transport {

// Header names — CONTRACT §5.1, §5.2.
inline constexpr std::string_view HEADER_CAPABILITY = "X-HearthNet-Capability";
inline constexpr std::string_view HEADER_VERSION = "X-HearthNet-Capability-Version";
inline constexpr std::string_view HEADER_REQUEST_ID = "X-HearthNet-Request-Id";
inline constexpr std::string_view HEADER_FROM = "X-HearthNet-From";
inline constexpr std::string_view HEADER_COMMUNITY = "X-HearthNet-Community";
inline constexpr std::string_view HEADER_TIMESTAMP = "X-HearthNet-Timestamp";
inline constexpr std::string_view HEADER_SIGNATURE = "X-HearthNet-Signature";
// Our addition: the id a client names in stream acks (equals the request id).
inline constexpr std::string_view HEADER_STREAM_ID = "X-HearthNet-Stream-Id";
// Our addition: the port the calling node's own server listens on, at the address the call
// comes from. Not signed: a hint the callee checks by fetching the manifest there, which
// must be the caller's (discovery/inbound_peers.h, doc/design/events.md "Push").
inline constexpr std::string_view HEADER_LISTEN_PORT = "X-HearthNet-Listen-Port";

// Routes with a fixed meaning in the transport.
inline constexpr std::string_view BUS_CALL_PATH = "/bus/v1/call";
inline constexpr std::string_view STREAM_ACK_PATH = "/stream/v1/ack";
// In-band acks (transport.md): during a stream the client writes "ack <upto>\n" on the
// stream's own connection; at most STREAM_ACK_LINE_MAX bytes per line.
inline constexpr std::string_view STREAM_ACK_LINE_PREFIX = "ack ";
inline constexpr std::size_t STREAM_ACK_LINE_MAX = 64;
inline constexpr std::string_view PUBSUB_SUBSCRIBE_PATH = "/pubsub/v1/subscribe";

// Limits (doc/design/transport.md).
inline constexpr std::size_t MAX_REQUEST_BODY_BYTES = 8 * 1024 * 1024;
inline constexpr std::size_t MAX_HEADER_BYTES = 16 * 1024;
inline constexpr std::size_t MAX_HEADER_VALUE_BYTES = 512;

// An ordered list of (name, value) header pairs; lookups are case-insensitive.
using Headers = std::vector<std::pair<std::string, std::string>>;
std::optional<std::string_view> find_header(const Headers& headers, std::string_view name);

// The X-HearthNet-* fields of one request.
struct RequestEnvelope {
  std::string capability;
  std::string version;     // "major.minor"
  std::string request_id;  // ULID, unique per (from, request) — the replay key
  std::string from;        // full node id
  std::string community;   // full community id
  std::string timestamp;   // RFC 3339 UTC
  std::string signature;   // "ed25519:<b64url>", empty before signing
};

// The synthetic object whose canonical JSON is signed — CONTRACT §5.1.
Json build_signed_payload(const RequestEnvelope& envelope, const Json& body);
// canonical_json(build_signed_payload(envelope, body)), written directly (no copy of the
// body); bad_request where the body has no canonical form (a non-finite number).
Result<std::string> request_signing_string(const RequestEnvelope& envelope, const Json& body);

// Fills from/timestamp (and request_id when empty) and signs — CONTRACT §5.1.
RequestEnvelope sign_request(const identity::KeyPair& keys, std::string capability,
                             std::string version, std::string community, const Json& body,
                             const Clock& clock, std::string request_id = {});
// The same for a body already in canonical form (the bytes a client sends): signs without
// canonicalising the body again.
RequestEnvelope sign_request_canonical(const identity::KeyPair& keys, std::string capability,
                                       std::string version, std::string community,
                                       std::string_view canonical_body, const Clock& clock,
                                       std::string request_id = {});

// The seven X-HearthNet-* request headers of an envelope.
Headers envelope_headers(const RequestEnvelope& envelope);
// Reads the envelope back; invalid_signature when any header is missing or oversized
// (an unsigned request), bad_request for a malformed timestamp or version.
Result<RequestEnvelope> envelope_from_headers(const Headers& headers);
// The same from any header lookup (name → value, case-insensitive): a server passes its
// parsed HTTP fields without copying them into Headers first.
using HeaderLookup = std::function<std::optional<std::string_view>(std::string_view name)>;
Result<RequestEnvelope> envelope_from_lookup(const HeaderLookup& find);

// Checks the signature against the key in `from`: invalid_signature on any failure.
// Does not look at time or replay (ReplayGuard does).
Status verify_request(const RequestEnvelope& envelope, const Json& body);

// A signed response's headers — CONTRACT §5.2.
struct ResponseSignature {
  std::string request_id;
  std::string from;
  std::string timestamp;
  std::string signature;
};
Json build_response_payload(const ResponseSignature& sig, int status, const Json& body);
// canonical_json(build_response_payload(sig, status, body)), written directly.
Result<std::string> response_signing_string(const ResponseSignature& sig, int status,
                                            const Json& body);
ResponseSignature sign_response(const identity::KeyPair& keys, std::string request_id,
                                int status, const Json& body, const Clock& clock);
// The same for a body already in canonical form (the bytes a server sends).
ResponseSignature sign_response_canonical(const identity::KeyPair& keys, std::string request_id,
                                          int status, std::string_view canonical_body,
                                          const Clock& clock);
Headers response_signature_headers(const ResponseSignature& sig);
// nullopt when the response carries no signature header at all.
std::optional<ResponseSignature> response_signature_from_headers(const Headers& headers);
// invalid_signature unless `from` is expected_from and the signature verifies.
Status verify_response(const ResponseSignature& sig, int status, const Json& body,
                       std::string_view expected_from);
// Whether CONTRACT §5.2 makes response verification mandatory for a capability
// (`*.post`, `*.invite`, `*.revoke`, `*.ingest`, `*.expire`, `chat.send`).
bool response_signature_mandatory(std::string_view capability);

// An error as the wire carries it — CONTRACT §5.4 / §5.5.
struct ErrorResponse {
  int status = 500;
  Json body;
};
// Status from http_status(to_wire_code(code)); detail fields alt_capabilities, alt_nodes and
// schema_hash_expected are lifted to the top level as §5.4 shows them.
ErrorResponse make_error_response(const Error& error);
// The client side: an Error from a non-2xx response (unknown/missing codes fall back to the
// code the status maps to). alt_* and schema_hash_expected go into detail.
Error parse_error_response(int status, const Json& body);

// Splits "a=b&c=d" (percent- and '+'-decoded). Malformed escapes → bad_request.
Result<std::map<std::string, std::string>> parse_query(std::string_view query);
// Encodes a flat object as a query string (non-string values as their JSON text).
std::string encode_query(const Json& params);
// The object a GET request signs: the query parameters as strings.
Json query_to_json(const std::map<std::string, std::string>& query);
// Whether the method carries a JSON body (POST, PUT, PATCH).
bool method_has_body(std::string_view method);

}  // namespace hn::transport
