// diag_echo.h — the one capability the bus ships itself: diag.echo@1.0, a diagnostic that
// round-trips text (00-OVERVIEW §6 step "bus with fake echo service"), used by the CLI's
// connectivity checks and by bus tests (quarantine, failover, streaming, cancellation).
//
// Request  {"params"?: {}, "input": {"text": string, "fail"?: bool, "delay_ms"?: 0..10000,
//           "n"?: 0..100000}}
// Response {"output": {"text": <input.text>}, "meta": {"node_id": <provider>}}
// Stream   n frames `echo` {"seq": i, "text": <input.text>} (n defaults to 3), then done
//          {"frames": n}. "fail": true answers internal_error before any frame;
//          "delay_ms" waits before answering / between frames, cancellable.
//
// Thread-safety: stateless handlers; safe for concurrent use.
#pragma once

#include <string>
#include <vector>

#include "bus/capability.h"
#include "bus/service.h"

namespace hn::bus {

inline constexpr const char* DIAG_ECHO_CAPABILITY = "diag.echo";
inline constexpr int DIAG_ECHO_DEFAULT_FRAMES = 3;

// The descriptor (schemas, trust member, idempotent, max_concurrent 16).
CapabilityDescriptor diag_echo_descriptor();

class DiagEchoService final : public Service {
 public:
  explicit DiagEchoService(NodeId our_node_id) : m_node_id(std::move(our_node_id)) {}
  std::string name() const override { return "diag"; }
  std::string version() const override { return "1.0.0"; }
  std::vector<std::string> namespace_prefixes() const override { return {"diag"}; }
  std::vector<LocalCapability> capabilities() override;

 private:
  NodeId m_node_id;
};

}  // namespace hn::bus
