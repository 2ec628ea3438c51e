// diag_echo.cpp — diag.echo@1.0 plain and streamed handlers.
#include "services/diag/diag_echo.h"

#include <cstdlib>

#include <algorithm>
#include <chrono>
#include <thread>

#include "bus/descriptor.h"

namespace hn::services::diag {
using namespace hn::bus;  // NOLINT: the bus types this file implements against
namespace {

// Waits up to delay_ms of real time in short slices; false when cancelled or past deadline.
bool wait_cancellable(const CallContext& ctx, std::int64_t delay_ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
  while (std::chrono::steady_clock::now() < until) {
    if (ctx.cancelled() || ctx.past_deadline()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        until - std::chrono::steady_clock::now(), std::chrono::milliseconds(5)));
  }
  return !ctx.cancelled();
}

Error stopped(const CallContext& ctx) {
  if (ctx.cancelled()) {
    return make_error(ErrorCode::timeout, "cancelled by the caller", Json{{"cancelled", true}});
  }
  return make_error(ErrorCode::timeout, "diag.echo: deadline passed");
}

}  // namespace

CapabilityDescriptor diag_echo_descriptor() {
  CapabilityDescriptor d = bus::stable_descriptor(DIAG_ECHO_CAPABILITY, TrustLevel::member, 16,
                                                  RPC_DEFAULT_TIMEOUT_SECONDS);
  d.request_schema = Json::parse(R"({
    "type": "object",
    "required": ["input"],
    "properties": {
      "params": {"type": "object"},
      "input": {
        "type": "object",
        "required": ["text"],
        "properties": {
          "text": {"type": "string", "maxLength": 65536},
          "fail": {"type": "boolean"},
          "delay_ms": {"type": "integer", "minimum": 0, "maximum": 10000},
          "n": {"type": "integer", "minimum": 0, "maximum": 100000},
          "stream": {"type": "boolean", "default": false}
        },
        "additionalProperties": false
      }
    },
    "additionalProperties": false
  })");
  d.response_schema = Json::parse(R"({
    "type": "object",
    "required": ["output"],
    "properties": {
      "output": {
        "type": "object",
        "required": ["text"],
        "properties": {"text": {"type": "string"}}
      },
      "meta": {"type": "object"}
    }
  })");
  d.stream_schema = Json::parse(R"({
    "type": "object",
    "required": ["seq", "text"],
    "properties": {
      "seq": {"type": "integer", "minimum": 0},
      "text": {"type": "string"}
    },
    "additionalProperties": false
  })");
  return d;
}

std::vector<LocalCapability> DiagEchoService::capabilities() {
  LocalCapability cap;
  cap.descriptor = diag_echo_descriptor();
  const NodeId node = m_node_id;
  // The bus validated the body against the request schema before calling.
  cap.handler = [node](const CallContext& ctx, const Json& body) -> Result<Json> {
    const Json& input = body["input"];
    if (input.value("fail", false)) {
      return make_error(ErrorCode::internal_error, "diag.echo: failure requested");
    }
    if (auto delay = input.value("delay_ms", std::int64_t{0}); delay > 0) {
      if (!wait_cancellable(ctx, delay)) return stopped(ctx);
    }
    return Json{{"output", {{"text", input["text"]}}}, {"meta", {{"node_id", node.str()}}}};
  };
  cap.stream_handler = [](const CallContext& ctx, const Json& body,
                          const FrameSink& emit) -> Result<Json> {
    const Json& input = body["input"];
    if (input.value("fail", false)) {
      return make_error(ErrorCode::internal_error, "diag.echo: failure requested");
    }
    const auto n = input.value("n", std::int64_t{DIAG_ECHO_DEFAULT_FRAMES});
    const auto delay = input.value("delay_ms", std::int64_t{0});
    for (std::int64_t i = 0; i < n; ++i) {
      if (ctx.cancelled() || ctx.past_deadline()) return stopped(ctx);
      if (delay > 0 && !wait_cancellable(ctx, delay)) return stopped(ctx);
      HN_TRY(emit(StreamFrame{"echo", Json{{"seq", i}, {"text", input["text"]}}}));
    }
    return Json{{"frames", n}};
  };
  if (m_fail) {
    cap.handler = [](const CallContext&, const Json&) -> Result<Json> {
      return make_error(ErrorCode::internal_error, "diag.echo fails (HEARTHNET_DIAG_FAIL)");
    };
    cap.stream_handler = [](const CallContext&, const Json&, const FrameSink&) -> Result<Json> {
      return make_error(ErrorCode::internal_error, "diag.echo fails (HEARTHNET_DIAG_FAIL)");
    };
  }
  if (!m_internet_echo) return {std::move(cap)};
  // The same handlers under an experimental name, marked as needing the internet (M09 §5.2).
  LocalCapability internet = cap;
  internet.descriptor.name = DIAG_INTERNET_ECHO_CAPABILITY;
  internet.descriptor.stability = Stability::experimental;
  internet.descriptor.params = Json{{"requires_internet", true}};
  return {std::move(cap), std::move(internet)};
}

std::unique_ptr<bus::Service> make_service(const service::ServiceContext& ctx) {
  const auto hook = [](const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && std::string(v) == "1";
  };
  return std::make_unique<DiagEchoService>(ctx.node_id, hook("HEARTHNET_DIAG_FAIL"),
                                           hook("HEARTHNET_DIAG_REQUIRES_INTERNET"));
}

}  // namespace hn::services::diag
