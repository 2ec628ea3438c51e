// hosted_backends.h — the hosted APIs (requires_internet; the key from the environment
// variable the config names):
//   AnthropicBackend — the Messages API: POST /v1/messages with x-api-key and
//     anthropic-version: 2023-06-01, "stream": true; SSE events message_start (usage.
//     input_tokens), content_block_start, ping, content_block_delta (delta.type text_delta,
//     delta.text), content_block_stop, message_delta (delta.stop_reason end_turn |
//     max_tokens | stop_sequence, usage.output_tokens), message_stop; an `error` event
//     ({"type":"error","error":{"type":"overloaded_error",…}}) fails the stream. System
//     messages go in the top-level "system"; a completion is one user message.
//   HfApiBackend — the Hugging Face Inference API: completions on the text-generation task
//     (POST <url>/models/<model> {"inputs", "parameters": {max_new_tokens, temperature,
//     top_p, stop, seed, details, return_full_text: false}, "stream": true}; SSE data
//     {"token": {"text", "logprob", "special"}, "generated_text", "details":
//     {"finish_reason": "length" | "eos_token" | "stop_sequence", "generated_tokens"}}),
//     chat on the OpenAI-compatible Messages API at <url>/models/<model>/v1/chat/completions.
//
// Thread-safety: as LlmBackend.
#pragma once

#include "services/llm/http/http_backend.h"

namespace hn::services::llm::http {

class AnthropicBackend final : public HttpBackend {
 public:
  explicit AnthropicBackend(HttpBackendSettings settings);
  Result<Generation> chat(const ChatRequest& request, const TokenSink& on_token,
                          const bus::CancelToken& cancel) override;
  Result<Generation> complete(const CompletionRequest& request, const TokenSink& on_token,
                              const bus::CancelToken& cancel) override;

 private:
  // One Messages API call (a completion is one user message).
  Result<Generation> messages(const std::string& model, const std::vector<ChatMessage>& turns,
                              const Sampling& sampling, const TokenSink& on_token,
                              const bus::CancelToken& cancel);
};

class HfApiBackend final : public HttpBackend {
 public:
  explicit HfApiBackend(HttpBackendSettings settings);
  Result<Generation> chat(const ChatRequest& request, const TokenSink& on_token,
                          const bus::CancelToken& cancel) override;
  Result<Generation> complete(const CompletionRequest& request, const TokenSink& on_token,
                              const bus::CancelToken& cancel) override;
};

}  // namespace hn::services::llm::http
