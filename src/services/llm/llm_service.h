// llm_service.h — the llm service (M04): llm.chat@1.0 and llm.complete@1.0 over the
// configured backends (CONTRACT §4.1, §4.2).
//
// One llm.chat@1.0 and one llm.complete@1.0 per node, whose params advertise the primary
// model in `model` and the whole catalogue in `models` (CONTRACT §4.1 "Multi-model
// providers"; the bus keys entries by (node, name, version), so M04 §3.5's entry per
// (backend, model) cannot be registered — doc/design/llm.md). `backends` lists each
// backend {name, kind, models, requires_internet}; a requested `model` picks the backend.
//
// A backend whose entry is wrong (bad URL, unset key variable, missing file) or whose
// start fails is left out and named in health() (`backends_failed`); the service and the
// node still start. health() is what doctor's llm_backend_reachable reads.
//
// Frames: `token` {"text", "logprob"?} per generated piece, then always a terminal `done`
// {"tokens_out", "stop_reason", "ms", "tokens_in", "model", "backend"} or `error`.
// A caller that goes away cancels the token handed to the backend.
// Metrics: hearthnet_llm_tokens_generated_total{model,backend},
// hearthnet_llm_concurrent{model}.
//
// Thread-safety: handlers run concurrently on the service's queue threads; the backend list
// is fixed after start().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bus/service.h"
#include "config/config.h"
#include "service/context.h"
#include "services/llm/backend.h"
#include "services/llm/make_backend.h"

namespace hn::services::llm {

inline constexpr const char* LLM_CHAT_CAPABILITY = "llm.chat";
inline constexpr const char* LLM_COMPLETE_CAPABILITY = "llm.complete";
inline constexpr int LLM_GENERATION_DEFAULT_TIMEOUT_SECONDS = 120;  // M04 §6

// The descriptors without params (schemas, trust member, not idempotent).
bus::CapabilityDescriptor llm_chat_descriptor();
bus::CapabilityDescriptor llm_complete_descriptor();

// M04 §3.6 extended to the catalogue: the requested model must be offered (`model` or in
// `models`), a requested ctx must not exceed the offered one; no model requested: any.
bool llm_params_compatible(const Json& offered, const Json& requested);

class LlmService final : public bus::Service {
 public:
  LlmService(std::vector<config::LlmBackendConfig> configs, BackendFactory factory = make_backend);
  // For tests: already built backends (start() still starts each).
  explicit LlmService(std::vector<std::unique_ptr<LlmBackend>> backends);
  ~LlmService() override;

  std::string name() const override { return "llm"; }
  std::string version() const override { return "1.0.0"; }
  std::vector<bus::LocalCapability> capabilities() override;
  // One thread per generation slot across the backends (at least 1, at most 64).
  bus::ExecutionSpec execution() const override;
  Status start() override;
  void stop() override;
  // {"backends": [{name, kind, models, requires_internet, ok, ...}],
  //  "backends_failed": [{name, kind, error}]}
  Json health() const override;

  // The params both capabilities advertise (null when no backend started).
  Json params() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

// The service host's factory (src/node/service_list.cpp): reads config.llm.backends.
std::unique_ptr<bus::Service> make_service(const service::ServiceContext& ctx);

}  // namespace hn::services::llm
