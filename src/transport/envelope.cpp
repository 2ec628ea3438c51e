// envelope.cpp — CONTRACT §5.1/§5.2/§5.4/§5.5 as pure functions.
#include "transport/envelope.h"

#include <algorithm>
#include <cctype>

#include "core/time.h"
#include "core/ulid.h"
#include "core/encoding.h"

namespace hn::transport {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= s.size()) {
        return make_error(ErrorCode::bad_request, "truncated percent escape in query");
      }
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return make_error(ErrorCode::bad_request, "bad percent escape in query");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace

std::optional<std::string_view> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

Json build_signed_payload(const RequestEnvelope& e, const Json& body) {
  return Json{{"capability", e.capability}, {"version", e.version},
              {"request_id", e.request_id}, {"from", e.from},
              {"community", e.community},   {"timestamp", e.timestamp},
              {"body", body}};
}

namespace {
// `"key":` for the piecewise signing strings (keys are plain ASCII, written in code-unit
// order by the callers, as RFC 8785 sorts them).
void append_key(std::string& out, std::string_view key, bool first) {
  if (!first) out.push_back(',');
  out.push_back('"');
  out.append(key);
  out.append("\":");
}

// Every field after "body", in key order.
void append_request_fields(std::string& out, const RequestEnvelope& e) {
  const std::pair<std::string_view, const std::string*> fields[] = {
      {"capability", &e.capability}, {"community", &e.community},   {"from", &e.from},
      {"request_id", &e.request_id}, {"timestamp", &e.timestamp}, {"version", &e.version}};
  for (const auto& [key, value] : fields) {
    append_key(out, key, false);
    append_json_string(out, *value);
  }
  out.push_back('}');
}

RequestEnvelope unsigned_envelope(const identity::KeyPair& keys, std::string capability,
                                  std::string version, std::string community, const Clock& clock,
                                  std::string request_id) {
  RequestEnvelope e;
  e.capability = std::move(capability);
  e.version = std::move(version);
  e.request_id = request_id.empty() ? new_ulid() : std::move(request_id);
  e.from = keys.node_id().str();
  e.community = std::move(community);
  e.timestamp = format_rfc3339(clock.now_seconds());
  return e;
}

// `{"body":…,<fields>}` — a §5.1/§5.2 signing string around a body that `write_body`
// appends (false: the body has no canonical form). Keys go in code-unit order.
template <typename WriteBody, typename WriteFields>
bool write_signing_string(std::string& out, WriteBody&& write_body, WriteFields&& write_fields) {
  out.push_back('{');
  append_key(out, "body", true);
  if (!write_body(out)) return false;
  write_fields(out);
  return true;
}
}  // namespace

Result<std::string> request_signing_string(const RequestEnvelope& e, const Json& body) {
  std::string out;
  out.reserve(256);
  if (!write_signing_string(out, [&](std::string& o) { return append_canonical_json(o, body); },
                            [&](std::string& o) { append_request_fields(o, e); })) {
    return make_error(ErrorCode::bad_request, "body has no canonical form");
  }
  return out;
}

RequestEnvelope sign_request(const identity::KeyPair& keys, std::string capability,
                             std::string version, std::string community, const Json& body,
                             const Clock& clock, std::string request_id) {
  RequestEnvelope e = unsigned_envelope(keys, std::move(capability), std::move(version),
                                        std::move(community), clock, std::move(request_id));
  auto signing = request_signing_string(e, body);
  // A body with no canonical form (a non-finite number) cannot be verified by anyone; it
  // is signed as canonical_json always rendered it (asserting in debug builds).
  if (!signing) signing = canonical_json(build_signed_payload(e, body));
  e.signature = keys.sign_bytes(as_bytes(std::string_view(*signing)));
  return e;
}

RequestEnvelope sign_request_canonical(const identity::KeyPair& keys, std::string capability,
                                       std::string version, std::string community,
                                       std::string_view canonical_body, const Clock& clock,
                                       std::string request_id) {
  RequestEnvelope e = unsigned_envelope(keys, std::move(capability), std::move(version),
                                        std::move(community), clock, std::move(request_id));
  std::string signing;
  signing.reserve(canonical_body.size() + 256);
  write_signing_string(signing, [&](std::string& o) { o.append(canonical_body); return true; },
                       [&](std::string& o) { append_request_fields(o, e); });
  e.signature = keys.sign_bytes(as_bytes(std::string_view(signing)));
  return e;
}

Headers envelope_headers(const RequestEnvelope& e) {
  return {{std::string(HEADER_CAPABILITY), e.capability}, {std::string(HEADER_VERSION), e.version},
          {std::string(HEADER_REQUEST_ID), e.request_id}, {std::string(HEADER_FROM), e.from},
          {std::string(HEADER_COMMUNITY), e.community},   {std::string(HEADER_TIMESTAMP), e.timestamp},
          {std::string(HEADER_SIGNATURE), e.signature}};
}

Result<RequestEnvelope> envelope_from_headers(const Headers& headers) {
  return envelope_from_lookup([&headers](std::string_view name) { return find_header(headers, name); });
}

Result<RequestEnvelope> envelope_from_lookup(const HeaderLookup& find) {
  RequestEnvelope e;
  struct Field {
    std::string_view name;
    std::string* out;
  };
  const Field fields[] = {{HEADER_CAPABILITY, &e.capability}, {HEADER_VERSION, &e.version},
                          {HEADER_REQUEST_ID, &e.request_id}, {HEADER_FROM, &e.from},
                          {HEADER_COMMUNITY, &e.community},   {HEADER_TIMESTAMP, &e.timestamp},
                          {HEADER_SIGNATURE, &e.signature}};
  for (const auto& f : fields) {
    auto v = find(f.name);
    if (!v || v->empty()) {
      return make_error(ErrorCode::invalid_signature,
                        "unsigned request: missing " + std::string(f.name));
    }
    if (v->size() > MAX_HEADER_VALUE_BYTES) {
      return make_error(ErrorCode::invalid_signature, std::string(f.name) + " too long");
    }
    *f.out = std::string(*v);
  }
  if (!Version::parse(e.version)) {
    return make_error(ErrorCode::bad_request, "malformed X-HearthNet-Capability-Version");
  }
  if (!parse_rfc3339_ms(e.timestamp)) {
    return make_error(ErrorCode::bad_request, "malformed X-HearthNet-Timestamp");
  }
  return e;
}

Status verify_request(const RequestEnvelope& e, const Json& body) {
  auto key = identity::parse_node_id(e.from);
  if (!key) return make_error(ErrorCode::invalid_signature, "X-HearthNet-From is not a node id");
  auto canonical = request_signing_string(e, body);
  if (!canonical) return canonical.error();
  auto st = identity::verify_bytes(as_bytes(*canonical), e.signature, *key);
  if (!st) return make_error(ErrorCode::invalid_signature, "request signature does not verify");
  return {};
}

namespace {
// Every field after "body", in key order.
void append_response_fields(std::string& out, const ResponseSignature& s, int status) {
  append_key(out, "from", false);
  append_json_string(out, s.from);
  append_key(out, "request_id", false);
  append_json_string(out, s.request_id);
  append_key(out, "status", false);
  out += std::to_string(status);
  append_key(out, "timestamp", false);
  append_json_string(out, s.timestamp);
  out.push_back('}');
}

ResponseSignature unsigned_response(const identity::KeyPair& keys, std::string request_id,
                                    const Clock& clock) {
  ResponseSignature s;
  s.request_id = std::move(request_id);
  s.from = keys.node_id().str();
  s.timestamp = format_rfc3339(clock.now_seconds());
  return s;
}
}  // namespace

Result<std::string> response_signing_string(const ResponseSignature& s, int status,
                                            const Json& body) {
  std::string out;
  out.reserve(256);
  if (!write_signing_string(out, [&](std::string& o) { return append_canonical_json(o, body); },
                            [&](std::string& o) { append_response_fields(o, s, status); })) {
    return make_error(ErrorCode::bad_request, "response has no canonical form");
  }
  return out;
}

Json build_response_payload(const ResponseSignature& s, int status, const Json& body) {
  return Json{{"request_id", s.request_id}, {"from", s.from},   {"timestamp", s.timestamp},
              {"status", status},           {"body", body}};
}

ResponseSignature sign_response(const identity::KeyPair& keys, std::string request_id,
                                int status, const Json& body, const Clock& clock) {
  ResponseSignature s = unsigned_response(keys, std::move(request_id), clock);
  auto signing = response_signing_string(s, status, body);
  if (!signing) signing = canonical_json(build_response_payload(s, status, body));  // as in sign_request
  s.signature = keys.sign_bytes(as_bytes(std::string_view(*signing)));
  return s;
}

ResponseSignature sign_response_canonical(const identity::KeyPair& keys, std::string request_id,
                                          int status, std::string_view canonical_body,
                                          const Clock& clock) {
  ResponseSignature s = unsigned_response(keys, std::move(request_id), clock);
  std::string signing;
  signing.reserve(canonical_body.size() + 192);
  write_signing_string(signing, [&](std::string& o) { o.append(canonical_body); return true; },
                       [&](std::string& o) { append_response_fields(o, s, status); });
  s.signature = keys.sign_bytes(as_bytes(std::string_view(signing)));
  return s;
}

Headers response_signature_headers(const ResponseSignature& s) {
  return {{std::string(HEADER_REQUEST_ID), s.request_id},
          {std::string(HEADER_FROM), s.from},
          {std::string(HEADER_TIMESTAMP), s.timestamp},
          {std::string(HEADER_SIGNATURE), s.signature}};
}

std::optional<ResponseSignature> response_signature_from_headers(const Headers& headers) {
  auto sig = find_header(headers, HEADER_SIGNATURE);
  if (!sig) return std::nullopt;
  ResponseSignature s;
  s.signature = std::string(*sig);
  s.request_id = std::string(find_header(headers, HEADER_REQUEST_ID).value_or(""));
  s.from = std::string(find_header(headers, HEADER_FROM).value_or(""));
  s.timestamp = std::string(find_header(headers, HEADER_TIMESTAMP).value_or(""));
  return s;
}

Status verify_response(const ResponseSignature& s, int status, const Json& body,
                       std::string_view expected_from) {
  if (s.from != expected_from) {
    return make_error(ErrorCode::invalid_signature, "response signed by an unexpected node");
  }
  auto key = identity::parse_node_id(s.from);
  if (!key) return make_error(ErrorCode::invalid_signature, "response From is not a node id");
  auto canonical = response_signing_string(s, status, body);
  if (!canonical) return make_error(ErrorCode::invalid_signature, "response has no canonical form");
  if (!identity::verify_bytes(as_bytes(*canonical), s.signature, *key)) {
    return make_error(ErrorCode::invalid_signature, "response signature does not verify");
  }
  return {};
}

bool response_signature_mandatory(std::string_view capability) {
  if (capability == "chat.send") return true;
  auto dot = capability.rfind('.');
  if (dot == std::string_view::npos) return false;
  auto verb = capability.substr(dot + 1);
  return verb == "post" || verb == "invite" || verb == "revoke" || verb == "ingest" ||
         verb == "expire";
}

ErrorResponse make_error_response(const Error& error) {
  ErrorResponse r;
  ErrorCode wire = to_wire_code(error.code);
  r.status = http_status(wire);
  r.body = error.to_json();
  if (r.body.contains("detail") && r.body["detail"].is_object()) {
    Json& d = r.body["detail"];
    for (const char* k : {"alt_capabilities", "alt_nodes", "schema_hash_expected"}) {
      if (d.contains(k)) {
        r.body[k] = d[k];
        d.erase(k);
      }
    }
    if (d.empty()) r.body.erase("detail");
  }
  return r;
}

namespace {
ErrorCode code_for_status(int status) {
  switch (status) {
    case 400: return ErrorCode::bad_request;
    case 401: return ErrorCode::invalid_signature;
    case 403: return ErrorCode::revoked;
    case 404: return ErrorCode::not_found;
    case 408: return ErrorCode::timeout;
    case 410: return ErrorCode::expired;
    case 429: return ErrorCode::rate_limited;
    case 501: return ErrorCode::not_implemented;
    case 503: return ErrorCode::partition;
    default: return ErrorCode::internal_error;
  }
}
}  // namespace

Error parse_error_response(int status, const Json& body) {
  Error e;
  e.code = code_for_status(status);
  if (!body.is_object()) {
    e.message = "HTTP " + std::to_string(status);
    return e;
  }
  if (auto it = body.find("error"); it != body.end() && it->is_string()) {
    auto code = error_code_from_string(it->get<std::string>());
    if (code && to_wire_code(*code) == *code) e.code = *code;
  }
  if (auto it = body.find("message"); it != body.end() && it->is_string()) {
    e.message = it->get<std::string>();
  }
  if (auto it = body.find("retry_after_ms"); it != body.end() && it->is_number_integer()) {
    e.retry_after_ms = it->get<int>();
  }
  Json detail = body.contains("detail") && body["detail"].is_object() ? body["detail"] : Json::object();
  for (const char* k : {"alt_capabilities", "alt_nodes", "schema_hash_expected"}) {
    if (body.contains(k)) detail[k] = body[k];
  }
  if (!detail.empty()) e.detail = std::move(detail);
  return e;
}

Result<std::map<std::string, std::string>> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    HN_TRY_ASSIGN(auto key, percent_decode(part.substr(0, eq)));
    std::string value;
    if (eq != std::string_view::npos) {
      HN_TRY_ASSIGN(value, percent_decode(part.substr(eq + 1)));
    }
    out[std::move(key)] = std::move(value);
  }
  return out;
}

std::string encode_query(const Json& params) {
  std::string out;
  if (!params.is_object()) return out;
  for (const auto& [k, v] : params.items()) {
    if (!out.empty()) out.push_back('&');
    out += percent_encode(k);
    out.push_back('=');
    out += percent_encode(v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

Json query_to_json(const std::map<std::string, std::string>& query) {
  Json j = Json::object();
  for (const auto& [k, v] : query) j[k] = v;
  return j;
}

bool method_has_body(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

}  // namespace hn::transport
