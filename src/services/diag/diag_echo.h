// diag_echo.h — the diag service: diag.echo@1.0, a diagnostic that round-trips text
// (00-OVERVIEW §6 step "bus with fake echo service"), used by the CLI's connectivity checks,
// by bus tests (quarantine, failover, streaming, cancellation) and by the execution-model
// tests (delay_ms holds a queue thread; `n` + a slow consumer hold a stream).
// The prefix `diag` extends CONTRACT §3.1's table (doc/design/architecture.md).
// With the test hook HEARTHNET_DIAG_REQUIRES_INTERNET=1 the service also offers
// experimental.internet_echo@1.0 — the same echo, its descriptor marked
// `params.requires_internet: true`, so tests see M09 take it off the bus while offline
// (doc/design/emergency.md).
//
// Request  {"params"?: {}, "input": {"text": string, "fail"?: bool, "delay_ms"?: 0..10000,
//           "n"?: 0..100000, "stream"?: bool (default false: a plain answer; true: the
//           stream — CONTRACT §5.1, bus::answers_with_stream)}}
// Response {"output": {"text": <input.text>}, "meta": {"node_id": <provider>}}
// Stream   n frames `echo` {"seq": i, "text": <input.text>} (n defaults to 3), then done
//          {"frames": n}. "fail": true answers internal_error before any frame;
//          "delay_ms" waits before answering / between frames, cancellable.
//
// Thread-safety: stateless handlers; safe for concurrent use.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bus/capability.h"
#include "bus/service.h"
#include "service/context.h"

namespace hn::services::diag {

using bus::CapabilityDescriptor;
using bus::LocalCapability;

inline constexpr const char* DIAG_ECHO_CAPABILITY = "diag.echo";
inline constexpr int DIAG_ECHO_DEFAULT_FRAMES = 3;
inline constexpr const char* DIAG_INTERNET_ECHO_CAPABILITY = "experimental.internet_echo";

// The descriptor (schemas, trust member, idempotent, max_concurrent 16).
CapabilityDescriptor diag_echo_descriptor();

// `fail_every_call`: every call answers internal_error (the node sets it from the test hook
// HEARTHNET_DIAG_FAIL=1, so health quarantine and re-routing show across real processes).
class DiagEchoService final : public bus::Service {
 public:
  explicit DiagEchoService(NodeId our_node_id, bool fail_every_call = false,
                           bool internet_echo = false)
      : m_node_id(std::move(our_node_id)), m_fail(fail_every_call), m_internet_echo(internet_echo) {}
  std::string name() const override { return "diag"; }
  std::string version() const override { return "1.0.0"; }
  std::vector<std::string> namespace_prefixes() const override {
    if (m_internet_echo) return {"diag", "experimental"};
    return {"diag"};
  }
  std::vector<LocalCapability> capabilities() override;
  // Up to 4 calls at once (delay_ms waits hold a thread), 64 waiting.
  bus::ExecutionSpec execution() const override { return {4, 64}; }

 private:
  NodeId m_node_id;
  bool m_fail = false;
  bool m_internet_echo = false;
};

// The service host's factory (src/node/service_list.cpp).
std::unique_ptr<bus::Service> make_service(const service::ServiceContext& ctx);

}  // namespace hn::services::diag
