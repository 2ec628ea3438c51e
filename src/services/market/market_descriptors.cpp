// market_descriptors.cpp — the descriptors of market.list, market.post, market.expire and
// market.search @1.0 (M06 §3.4, CONTRACT §4.11–4.14). The request schemas check shapes
// only; the limits a user can get wrong (lengths, ranges, enums) are the handlers' and
// come back as bad_request naming the field (post.h).
#include "services/market/market_service.h"

#include "bus/descriptor.h"

namespace hn::services::market {
namespace {

// {"params"?: {}, "input": <input>} with no other top-level key.
Json request_schema(Json input) {
  return Json{{"type", "object"},
              {"required", Json::array({"input"})},
              {"properties", {{"params", {{"type", "object"}}}, {"input", std::move(input)}}},
              {"additionalProperties", false}};
}

Json posts_response(bool with_score) {
  Json post = Json::parse(R"({
    "type": "object",
    "required": ["event_id", "lamport", "author", "category", "title", "body", "tags", "created_at", "expires_at"],
    "properties": {
      "event_id": {"type": "string"}, "lamport": {"type": "integer"}, "author": {"type": "string"},
      "category": {"enum": ["offer", "request", "info", "emergency"]},
      "title": {"type": "string"}, "body": {"type": "string"},
      "location": {"type": "object"}, "tags": {"type": "array", "items": {"type": "string"}},
      "created_at": {"type": "string"}, "expires_at": {"type": "string"},
      "score": {"type": "number"}
    }
  })");
  if (with_score) post["required"].push_back("score");
  return Json{{"type", "object"},
              {"required", Json::array({"output"})},
              {"properties",
               {{"output",
                 {{"type", "object"},
                  {"required", Json::array({"posts", "max_lamport"})},
                  {"properties",
                   {{"posts", {{"type", "array"}, {"items", post}}},
                    {"max_lamport", {{"type", "integer"}}},
                    {"next_cursor", {{"type", "string"}}}}}}},
                {"meta", {{"type", "object"}}}}}};
}

Json written_response() {
  return Json::parse(R"({
    "type": "object",
    "required": ["output"],
    "properties": {
      "output": {
        "type": "object",
        "required": ["event_id", "lamport"],
        "properties": {"event_id": {"type": "string"}, "lamport": {"type": "integer"},
                       "duplicate": {"type": "boolean"}}
      },
      "meta": {"type": "object"}
    }
  })");
}

bus::CapabilityDescriptor descriptor(const char* name, Json request, Json response,
                                     int max_concurrent, int timeout_seconds) {
  bus::CapabilityDescriptor d =
      bus::stable_descriptor(name, TrustLevel::member, max_concurrent, timeout_seconds);
  d.request_schema = std::move(request);
  d.response_schema = std::move(response);
  return d;
}

}  // namespace

std::vector<bus::CapabilityDescriptor> market_descriptors() {
  const Json any_input = Json{{"type", "object"}};
  return {
      descriptor("market.list", request_schema(any_input), posts_response(false), 8, 5),
      descriptor("market.post", request_schema(any_input), written_response(), 4, 10),
      descriptor("market.expire", request_schema(any_input), written_response(), 4, 5),
      descriptor("market.search", request_schema(any_input), posts_response(true), 4, 10),
  };
}

}  // namespace hn::services::market
