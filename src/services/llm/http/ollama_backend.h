// ollama_backend.h — Ollama on its native API: POST /api/chat and /api/generate answer
// NDJSON (one JSON object a line: `message.content` / `response` pieces with "done":
// false, then a last line with "done": true, done_reason "stop" | "length",
// prompt_eval_count and eval_count); an {"error": "..."} line is a failure mid-stream.
// Sampling goes in "options" (num_predict, temperature, top_p, stop, seed). Without a
// configured model, start() lists GET /api/tags.
//
// Thread-safety: as LlmBackend.
#pragma once

#include "services/llm/http/http_backend.h"

namespace hn::services::llm::http {

class OllamaBackend final : public HttpBackend {
 public:
  explicit OllamaBackend(HttpBackendSettings settings);
  Status start() override;
  Result<Generation> chat(const ChatRequest& request, const TokenSink& on_token,
                          const bus::CancelToken& cancel) override;
  Result<Generation> complete(const CompletionRequest& request, const TokenSink& on_token,
                              const bus::CancelToken& cancel) override;

 private:
  Result<Generation> run(const Url& url, Json body, std::string_view prompt_text, bool chat,
                         const TokenSink& on_token, const bus::CancelToken& cancel);
};

}  // namespace hn::services::llm::http
