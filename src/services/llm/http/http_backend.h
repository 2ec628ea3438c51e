// http_backend.h — the common base of the HTTP backends (OpenAI-compatible, Ollama,
// Anthropic, HF): the settings of their [[llm.backends]] entry, the models they serve, the
// reachability record behind health(), the model-list probe of start() for a backend
// configured without a model, and one streamed generation (POST, read each event, record the
// outcome, finish). A subclass adds its wire format: the bodies and how an event reads.
//
// Thread-safety: as LlmBackend — everything but m_health is fixed after start();
// BackendHealth is internally locked.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "services/llm/backend.h"
#include "services/llm/http/common.h"

namespace hn::services::llm::http {

class HttpBackend : public LlmBackend {
 public:
  std::string name() const override { return m_s.name; }
  std::string kind() const override { return m_kind; }
  std::vector<BackendModel> models() const override { return m_models; }
  bool requires_internet() const override { return m_s.requires_internet; }
  int max_concurrent() const override { return m_s.max_concurrent; }
  // {"ok", "last_error"?, "calls", "failures", "url"} — never the key.
  Json health() const override;

 protected:
  // `kind` empty: the configured type (the OpenAI-compatible family: lmstudio, vllm, …).
  explicit HttpBackend(HttpBackendSettings settings, std::string kind = "");
  // GETs the server's model list at `url` (start() of a backend configured without a model,
  // 10 s idle timeout). A failure is recorded in health and returned as config_error naming
  // `what` ("/api/tags").
  Result<Json> list_models(const Url& url, std::string_view what);
  // Reads one SSE event (or, for NDJSON, one line as the event's data) into the generation.
  using EventReader = std::function<Status(const SseEvent& event, GenerationState& state)>;
  // One streamed generation: POSTs `body` to `url`, hands each event to `read`, records the
  // outcome in health and returns finish_generation's answer (prompt_text for approximate
  // usage when the server reports none).
  Result<Generation> stream(const Url& url, const httpc::Headers& headers, const Json& body,
                            StreamFormat format, const EventReader& read,
                            std::string_view prompt_text, const TokenSink& on_token,
                            const bus::CancelToken& cancel);
  // A model this backend serves, from the settings (ctx, requires_internet).
  BackendModel model_named(std::string name, std::string quant = "unknown") const;

  HttpBackendSettings m_s;
  std::vector<BackendModel> m_models;
  BackendHealth m_health;

 private:
  std::string m_kind;
};

}  // namespace hn::services::llm::http
