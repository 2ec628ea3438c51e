// backend.h — the LlmBackend interface (M04 §3.1): one provider of text generation that the
// llm service offers on the bus as llm.chat@1.0 / llm.complete@1.0. Implementations: the
// HTTP backends in http/ (OpenAI-compatible, Ollama, HF, Anthropic) and the in-process
// llama_cpp backend. The service parses the wire request into these native types and
// formats the frames; a backend never sees the bus's JSON (STYLE: parse at the edge).
//
// Thread-safety: chat() and complete() are called concurrently from the service's queue
// threads, up to max_concurrent() at once; implementations must be thread-safe. name(),
// kind(), models(), requires_internet() and max_concurrent() are fixed after start().
// Invariants: every call returns — on success, failure or cancellation — and never throws.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bus/capability.h"
#include "config/config.h"
#include "core/error.h"
#include "core/json.h"

namespace hn::services::llm {

// One model a backend serves (M04 §3.1 BackendModel).
struct BackendModel {
  std::string name;                             // "qwen2.5-7b-instruct"
  std::string quant = "unknown";                // "q4_k_m", "q8_0", "fp16", "api", "unknown"
  int ctx_max = 0;                              // context window; 0 = not known
  std::vector<std::string> modalities = {"text"};
  bool requires_internet = false;               // hosted APIs: true
};

struct ChatMessage {
  std::string role;     // "system" | "user" | "assistant"
  std::string content;
};

// Sampling shared by chat and complete (CONTRACT §4.1, §4.2).
struct Sampling {
  int max_tokens = 1024;
  double temperature = 0.7;
  double top_p = 0.95;
  std::vector<std::string> stop;
  std::optional<std::int64_t> seed;  // set: the backend SHOULD be deterministic (M04 §4.5)
};

struct ChatRequest {
  std::string model;
  std::vector<ChatMessage> messages;
  Sampling sampling;
};

struct CompletionRequest {
  std::string model;
  std::string prompt;
  Sampling sampling = {.max_tokens = 256};
};

// One generated piece of text (one `token` frame).
struct Token {
  std::string text;
  std::optional<double> logprob;
};

// CONTRACT §4.1 meta.stop_reason.
enum class StopReason { end, max_tokens, stop_sequence, cancelled };
std::string_view to_string(StopReason reason);

// What a finished generation reports (the `done` frame / response meta).
struct Generation {
  std::string text;              // everything generated (the tokens joined)
  int tokens_in = 0;
  int tokens_out = 0;
  bool usage_exact = false;      // false: counts approximated (M04 §4.6)
  StopReason stop_reason = StopReason::end;
};

// Receives each token as it is generated. An error return stops the generation (the
// consumer went away or its deadline passed); the backend then returns promptly with
// stop_reason cancelled or the sink's error.
using TokenSink = std::function<Status(const Token&)>;

class LlmBackend {
 public:
  virtual ~LlmBackend() = default;
  // The configured instance name ([[llm.backends]].name, e.g. "ollama" or "kitchen-vllm").
  virtual std::string name() const = 0;
  // The backend type: "llama_cpp" | "ollama" | "openai" (lmstudio, vllm, llama_server,
  // nemotron, openbmb) | "hf_api" | "anthropic_api".
  virtual std::string kind() const = 0;
  // The models it serves (after start(): an Ollama backend may have discovered them).
  virtual std::vector<BackendModel> models() const = 0;
  // Hosted APIs need the internet; they leave the bus in offline mode (M04 §4.3).
  virtual bool requires_internet() const = 0;
  // How many generations it runs at once (the descriptor's max_concurrent share).
  virtual int max_concurrent() const = 0;
  // Checks the configuration and warms up (loads a model, probes a URL). An error names
  // what is wrong (missing file, bad URL, unset key variable); the service then leaves
  // this backend out and keeps the others.
  virtual Status start() { return {}; }
  // Releases resources; no call is in flight.
  virtual void stop() {}
  // {"ok": bool, "error"?: string, ...}: for the service's health and doctor's
  // llm_backend_reachable check. Never contains a secret.
  virtual Json health() const = 0;

  // Multi-turn chat: each token goes to on_token as it comes; returns the usage and why it
  // stopped. `cancel` cancelled → stops within 200 ms (CONTRACT §4.1) and returns
  // stop_reason cancelled. A failure before or during generation is an error (typed per
  // M04 §5: not_found for an unknown model, internal_error for a backend 5xx or a stream
  // that broke, rate_limited with retry_after_ms, bad_request, timeout).
  virtual Result<Generation> chat(const ChatRequest& request, const TokenSink& on_token,
                                  const bus::CancelToken& cancel) = 0;
  // Single-shot completion; the same contract as chat().
  virtual Result<Generation> complete(const CompletionRequest& request,
                                      const TokenSink& on_token,
                                      const bus::CancelToken& cancel) = 0;
};

// The in-process llama.cpp backend for a `llama_cpp` entry (url or model: the GGUF path).
// Defined by llama_cpp_backend.cpp (llama_engine.h does the work); a GGUF that does not
// load is an error naming the path, so the entry is reported and the other backends start.
Result<std::unique_ptr<LlmBackend>> make_llama_cpp_backend(const config::LlmBackendConfig& cfg);

}  // namespace hn::services::llm
