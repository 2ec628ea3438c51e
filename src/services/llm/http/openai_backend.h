// openai_backend.h — the OpenAI-compatible HTTP backend: llama-server, vLLM, LM Studio,
// SGLang, and the spec's `nemotron` (NVIDIA NIM) and `openbmb` (MiniCPM on vLLM/SGLang)
// as configured instances of it. POST /v1/chat/completions and /v1/completions with
// "stream": true; the answer is SSE `data:` chunks ending with `data: [DONE]` (usage from
// the last chunk when the server honours stream_options.include_usage). A configured URL
// that does not end in /v1 gets it appended. Without a configured model, start() lists
// GET /v1/models.
//
// Thread-safety: as LlmBackend (concurrent calls; health internally locked).
#pragma once

#include "services/llm/http/http_backend.h"

namespace hn::services::llm::http {

// kind() is the configured type (lmstudio, vllm, llama_server, nemotron, openbmb).
class OpenAiBackend final : public HttpBackend {
 public:
  explicit OpenAiBackend(HttpBackendSettings settings);
  Status start() override;
  Result<Generation> chat(const ChatRequest& request, const TokenSink& on_token,
                          const bus::CancelToken& cancel) override;
  Result<Generation> complete(const CompletionRequest& request, const TokenSink& on_token,
                              const bus::CancelToken& cancel) override;

 private:
  // POSTs an OpenAI-style body with "stream": true and usage asked for.
  Result<Generation> run(const Url& url, Json body, std::string_view prompt_text, bool chat,
                         const TokenSink& on_token, const bus::CancelToken& cancel);
  Url m_base;  // …/v1
};

// Sampling fields shared by the OpenAI-style request bodies (max_tokens, temperature,
// top_p, stop, seed).
void put_openai_sampling(Json& body, const Sampling& s);
// Reads one OpenAI-style stream chunk (chat `delta.content` or completion `text`,
// finish_reason, usage) into the state; an in-stream {"error": …} is internal_error.
Status read_openai_chunk(const SseEvent& ev, bool chat, GenerationState& state,
                         std::string_view backend);

}  // namespace hn::services::llm::http
