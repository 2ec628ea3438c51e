// descriptors.cpp — the llm.chat@1.0 / llm.complete@1.0 descriptors (CONTRACT §4.1, §4.2)
// and the params predicate (M04 §3.6).
#include "services/llm/llm_service.h"

#include "bus/descriptor.h"

namespace hn::services::llm {
namespace {

// Sampling fields shared by both request schemas.
constexpr const char* SAMPLING_PROPERTIES = R"(
  "max_tokens": {"type": "integer", "minimum": 1, "maximum": 1000000},
  "temperature": {"type": "number", "minimum": 0, "maximum": 2},
  "top_p": {"type": "number", "minimum": 0, "maximum": 1},
  "stop": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 256},
           "maxItems": 16},
  "seed": {"type": ["integer", "null"]},
  "stream": {"type": "boolean", "default": true}
)";

constexpr const char* PARAMS_SCHEMA = R"({
  "type": "object",
  "properties": {
    "model": {"type": "string", "minLength": 1, "maxLength": 512},
    "ctx": {"type": "integer", "minimum": 1}
  }
})";

constexpr const char* META_SCHEMA = R"({
  "type": "object",
  "required": ["model", "tokens_in", "tokens_out", "stop_reason", "ms"],
  "properties": {
    "model": {"type": "string"},
    "tokens_in": {"type": "integer", "minimum": 0},
    "tokens_out": {"type": "integer", "minimum": 0},
    "stop_reason": {"enum": ["end", "max_tokens", "stop_sequence", "cancelled"]},
    "ms": {"type": "integer", "minimum": 0}
  }
})";

constexpr const char* TOKEN_FRAME_SCHEMA = R"({
  "type": "object",
  "required": ["text"],
  "properties": {"text": {"type": "string"}, "logprob": {"type": "number"}},
  "additionalProperties": false
})";

bus::CapabilityDescriptor base(const char* name) {
  bus::CapabilityDescriptor d = bus::stable_descriptor(name, TrustLevel::member, 4,
                                                       LLM_GENERATION_DEFAULT_TIMEOUT_SECONDS);
  d.stream_schema = Json::parse(TOKEN_FRAME_SCHEMA);
  d.idempotent = false;  // CONTRACT §4.1: sampling is not deterministic
  return d;
}

}  // namespace

bus::CapabilityDescriptor llm_chat_descriptor() {
  bus::CapabilityDescriptor d = base(LLM_CHAT_CAPABILITY);
  d.request_schema = Json::parse(std::string(R"({
    "type": "object",
    "required": ["input"],
    "properties": {
      "params": )") + PARAMS_SCHEMA + R"(,
      "input": {
        "type": "object",
        "required": ["messages"],
        "properties": {
          "messages": {
            "type": "array", "minItems": 1, "maxItems": 4096,
            "items": {
              "type": "object",
              "required": ["role", "content"],
              "properties": {
                "role": {"enum": ["system", "user", "assistant"]},
                "content": {"type": "string", "maxLength": 1048576}
              }
            }
          },
          "tools": {"type": "array"},
          "tool_choice": {},
          )" + SAMPLING_PROPERTIES + R"(
        },
        "additionalProperties": false
      }
    }
  })");
  d.response_schema = Json::parse(std::string(R"({
    "type": "object",
    "required": ["output", "meta"],
    "properties": {
      "output": {
        "type": "object",
        "required": ["message"],
        "properties": {
          "message": {
            "type": "object",
            "required": ["role", "content"],
            "properties": {"role": {"const": "assistant"}, "content": {"type": "string"}}
          },
          "tool_calls": {"type": "array"}
        }
      },
      "meta": )") + META_SCHEMA + "}}");
  return d;
}

bus::CapabilityDescriptor llm_complete_descriptor() {
  bus::CapabilityDescriptor d = base(LLM_COMPLETE_CAPABILITY);
  d.request_schema = Json::parse(std::string(R"({
    "type": "object",
    "required": ["input"],
    "properties": {
      "params": )") + PARAMS_SCHEMA + R"(,
      "input": {
        "type": "object",
        "required": ["prompt"],
        "properties": {
          "prompt": {"type": "string", "maxLength": 4194304},
          )" + SAMPLING_PROPERTIES + R"(
        },
        "additionalProperties": false
      }
    }
  })");
  d.response_schema = Json::parse(std::string(R"({
    "type": "object",
    "required": ["output", "meta"],
    "properties": {
      "output": {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
      "meta": )") + META_SCHEMA + "}}");
  return d;
}

bool llm_params_compatible(const Json& offered, const Json& requested) {
  if (!requested.is_object()) return true;
  auto model = requested.find("model");
  if (model != requested.end() && model->is_string()) {
    bool found = offered.is_object() && offered.value("model", Json()) == *model;
    if (!found && offered.is_object()) {
      auto models = offered.find("models");
      if (models != offered.end() && models->is_array()) {
        for (const auto& m : *models) {
          if (m == *model) found = true;
        }
      }
    }
    if (!found) return false;
  }
  auto ctx = requested.find("ctx");
  if (ctx != requested.end() && ctx->is_number_integer() && offered.is_object()) {
    auto have = offered.find("ctx");
    if (have != offered.end() && have->is_number_integer() && have->get<std::int64_t>() > 0 &&
        ctx->get<std::int64_t>() > have->get<std::int64_t>()) {
      return false;
    }
  }
  return true;
}

}  // namespace hn::services::llm
