// capability.cpp — descriptor hashing, manifest-entry parsing, namespace and version rules.
#include "bus/capability.h"

#include <algorithm>
#include <array>

#include "bus/schema.h"
#include "core/hash.h"

namespace hn::bus {
namespace {

// CONTRACT §3.1: prefixes that may be used, and those reserved for Phase 2.
constexpr std::array<std::string_view, 10> ALLOWED_PREFIXES = {
    "llm", "embed", "rag", "file", "market", "chat", "community", "federation",
    "experimental", "diag"};
constexpr std::array<std::string_view, 5> RESERVED_PREFIXES = {"ocr", "tts", "stt", "trans",
                                                               "img"};

bool is_valid_segment(std::string_view seg) {
  if (seg.empty() || seg.front() < 'a' || seg.front() > 'z') return false;
  return std::all_of(seg.begin(), seg.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

Json endpoint_to_json(const Endpoint& e) {
  return Json{{"transport", e.transport}, {"host", e.host}, {"port", e.port}};
}

SchemaHash CapabilityDescriptor::schema_hash() const {
  return SchemaHash(compute_schema_hash(Json{{"name", name},
                                             {"version", version_str()},
                                             {"request_schema", request_schema.get()},
                                             {"response_schema", response_schema.get()},
                                             {"stream_schema", stream_schema.get()}}));
}

Json CapabilityDescriptor::to_manifest_entry() const {
  return Json{{"name", name},
              {"version", version_str()},
              {"stability", std::string(to_string(stability))},
              {"schema_hash", schema_hash().str()},
              {"params", params.get()},
              {"max_concurrent", max_concurrent}};
}

CapabilitySpec CapabilityDescriptor::to_spec() const {
  CapabilitySpec s;
  s.name = name;
  s.version = version;
  s.stability = stability;
  s.schema_hash = schema_hash();
  s.params = params.get();
  s.max_concurrent = max_concurrent;
  return s;
}

Json CapabilityDescriptor::to_json() const {
  return Json{{"name", name},
              {"version", version_str()},
              {"stability", std::string(to_string(stability))},
              {"request_schema", request_schema.get()},
              {"response_schema", response_schema.get()},
              {"stream_schema", stream_schema.get()},
              {"params", params.get()},
              {"max_concurrent", max_concurrent},
              {"trust_required", std::string(to_string(trust_required))},
              {"timeout_seconds", timeout_seconds},
              {"idempotent", idempotent}};
}

bool is_version_compatible(Version offered, Version requested) {
  return offered.major == requested.major && offered.minor >= requested.minor;
}

Result<std::pair<CapabilityName, Version>> parse_capability_ref(std::string_view text) {
  auto at = text.find('@');
  if (at == std::string_view::npos || at == 0) {
    return make_error(ErrorCode::bad_request, "expected name@major.minor");
  }
  auto v = Version::parse(text.substr(at + 1));
  if (!v) return make_error(ErrorCode::bad_request, "bad version in capability reference");
  return std::make_pair(CapabilityName(text.substr(0, at)), *v);
}

Status validate_capability_name(std::string_view name,
                                const std::vector<std::string>& declared_prefixes) {
  auto fail = [&](std::string why) {
    return make_error(ErrorCode::namespace_violation,
                      "capability \"" + std::string(name) + "\": " + std::move(why));
  };
  if (name.size() > 128) return fail("name too long");
  std::vector<std::string_view> segs;
  size_t start = 0;
  while (true) {
    auto dot = name.find('.', start);
    segs.push_back(name.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (segs.size() < 2) return fail("must be <prefix>.<name>");
  for (auto seg : segs) {
    if (!is_valid_segment(seg)) return fail("segments must match [a-z][a-z0-9_]*");
  }
  auto prefix = segs.front();
  if (std::find(RESERVED_PREFIXES.begin(), RESERVED_PREFIXES.end(), prefix) !=
      RESERVED_PREFIXES.end()) {
    return fail("prefix \"" + std::string(prefix) + "\" is reserved (CONTRACT §3.1)");
  }
  if (std::find(ALLOWED_PREFIXES.begin(), ALLOWED_PREFIXES.end(), prefix) ==
      ALLOWED_PREFIXES.end()) {
    return fail("unallocated prefix; use experimental.* (CONTRACT §3.1)");
  }
  if (!declared_prefixes.empty() && prefix != "experimental" &&
      std::find(declared_prefixes.begin(), declared_prefixes.end(), prefix) ==
          declared_prefixes.end()) {
    return fail("outside the service's declared prefixes");
  }
  return {};
}

namespace {

// body.input.stream when it is a boolean.
std::optional<bool> requested_stream(const Json& body) {
  if (!body.is_object()) return std::nullopt;
  auto input = body.find("input");
  if (input == body.end() || !input->is_object()) return std::nullopt;
  auto stream = input->find("stream");
  if (stream == input->end() || !stream->is_boolean()) return std::nullopt;
  return stream->get<bool>();
}

// The request schema's default for input.stream, when it declares a boolean one.
std::optional<bool> declared_stream_default(const CapabilityDescriptor& d) {
  const Json* at = &d.request_schema.get();
  for (const char* key : {"properties", "input", "properties", "stream", "default"}) {
    if (!at->is_object()) return std::nullopt;
    auto it = at->find(key);
    if (it == at->end()) return std::nullopt;
    at = &*it;
  }
  if (!at->is_boolean()) return std::nullopt;
  return at->get<bool>();
}

}  // namespace

bool answers_with_stream(const CapabilityDescriptor* d, const Json& body, Accepted accept) {
  if (d != nullptr) {
    if (!d->has_stream()) return false;
    if (!d->has_response()) return true;
  }
  if (auto asked = requested_stream(body)) return *asked;
  if (accept != Accepted::both) return accept == Accepted::only_stream;
  if (d != nullptr) {
    if (auto declared = declared_stream_default(*d)) return *declared;
  }
  return false;
}

std::string EntryKey::to_string() const {
  return name + "@" + version.to_string() + " on " + node_id.str();
}

Json CapabilityEntry::to_json() const {
  Json j{{"node_id", node_id.str()},
         {"name", descriptor.name},
         {"version", descriptor.version_str()},
         {"stability", std::string(hn::to_string(descriptor.stability))},
         {"schema_hash", schema_hash.str()},
         {"params", descriptor.params.get()},
         {"max_concurrent", descriptor.max_concurrent},
         {"is_local", is_local},
         {"peer_trust", std::string(hn::to_string(peer_trust))},
         {"in_flight", in_flight},
         {"last_seen_ms", last_seen_ms},
         {"p50_latency_ms", p50_latency_ms},
         {"p99_latency_ms", p99_latency_ms},
         {"success_rate", success_rate},
         {"quarantined_until_ms", quarantined_until_ms},
         {"sticky_sessions", sticky_sessions}};
  if (endpoint) j["endpoint"] = endpoint_to_json(*endpoint);
  return j;
}

}  // namespace hn::bus
