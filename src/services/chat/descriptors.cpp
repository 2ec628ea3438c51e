// descriptors.cpp — chat descriptors and their schemas.
#include "services/chat/descriptors.h"

#include <string>

#include "bus/descriptor.h"

namespace hn::services::chat {
using bus::CapabilityDescriptor;

namespace {

// {"params"?: {}, "input": <input>} with no other top-level field.
Json request_of(Json input) {
  return Json{{"type", "object"},
              {"required", Json::array({"input"})},
              {"properties", {{"params", {{"type", "object"}}}, {"input", std::move(input)}}},
              {"additionalProperties", false}};
}

// {"output": <output>, "meta"?: {}}.
Json response_of(Json output) {
  return Json{{"type", "object"},
              {"required", Json::array({"output"})},
              {"properties", {{"output", std::move(output)}, {"meta", {{"type", "object"}}}}}};
}

CapabilityDescriptor base(const char* name, TrustLevel trust, int timeout_seconds, Json input,
                          Json output) {
  CapabilityDescriptor d = bus::stable_descriptor(name, trust, 8, timeout_seconds);  // 8: M10 §3.4
  d.request_schema = request_of(std::move(input));
  d.response_schema = response_of(std::move(output));
  return d;
}

const Json EVENT_INPUT = Json::parse(R"({
  "type": "object", "required": ["event"],
  "properties": {"event": {"type": "object"}}, "additionalProperties": false
})");

}  // namespace

CapabilityDescriptor chat_send_descriptor() {
  return base(CHAT_SEND, TrustLevel::member, 15, Json::parse(R"({
    "type": "object", "required": ["recipient"],
    "properties": {
      "client_id": {"type": "string"},
      "recipient": {"type": "string"},
      "body": {"type": "string"},
      "attachments": {"type": "array", "items": {
        "type": "object", "required": ["cid"],
        "properties": {"cid": {"type": "string"}, "name": {"type": "string"}}}}
    },
    "additionalProperties": false
  })"), Json::parse(R"({
    "type": "object", "required": ["event_id", "lamport", "delivered"],
    "properties": {
      "event_id": {"type": "string"},
      "lamport": {"type": "integer"},
      "delivered": {"enum": ["direct", "forwarded", "queued"]}
    }
  })"));
}

CapabilityDescriptor chat_history_descriptor() {
  return base(CHAT_HISTORY, TrustLevel::self, 5, Json::parse(R"({
    "type": "object",
    "properties": {
      "peer": {"type": "string"},
      "since_lamport": {"type": "integer", "minimum": 0},
      "since_event_id": {"type": "string"},
      "limit": {"type": "integer", "minimum": 1, "maximum": 1000}
    },
    "additionalProperties": false
  })"), Json::parse(R"({
    "type": "object", "required": ["messages"],
    "properties": {"messages": {"type": "array"}, "next": {"type": "object"}}
  })"));
}

CapabilityDescriptor chat_peers_descriptor() {
  return base(CHAT_PEERS, TrustLevel::self, 5,
              Json::parse(R"({"type": "object", "additionalProperties": false})"),
              Json::parse(R"({"type": "object", "required": ["peers"],
                              "properties": {"peers": {"type": "array"}}})"));
}

CapabilityDescriptor chat_read_descriptor() {
  return base(CHAT_READ, TrustLevel::self, 15, Json::parse(R"({
    "type": "object", "required": ["peer"],
    "properties": {"peer": {"type": "string"}}, "additionalProperties": false
  })"), Json::parse(R"({"type": "object", "required": ["marked"],
                        "properties": {"marked": {"type": "integer"}}})"));
}

CapabilityDescriptor chat_deliver_descriptor() {
  return base(CHAT_DELIVER, TrustLevel::member, 5, EVENT_INPUT,
              Json::parse(R"({"type": "object",
                              "properties": {"receipt": {"type": ["object", "null"]}}})"));
}

CapabilityDescriptor chat_forward_descriptor() {
  return base(CHAT_FORWARD, TrustLevel::member, 5, EVENT_INPUT,
              Json::parse(R"({"type": "object", "required": ["held"],
                              "properties": {"held": {"type": "boolean"}}})"));
}

}  // namespace hn::services::chat
