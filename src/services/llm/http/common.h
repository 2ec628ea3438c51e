// common.h — what the HTTP backends share over the plain HTTP(S) client (httpc): settings
// made from a [[llm.backends]] entry (URL, API key read from the named environment variable,
// models), a POST whose streamed answer goes to an SSE or NDJSON parser (its HTTP errors
// mapped to contract codes by httpc::error_from_http, M04 §5), the token accounting of one generation, and the health record a
// backend keeps for the service's health JSON (doctor's llm_backend_reachable).
//
// Thread-safety: HttpBackendSettings is immutable after construction; BackendHealth is
// internally locked; GenerationState belongs to one call.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/json.h"
#include "httpc/client.h"
#include "httpc/json_answers.h"
#include "services/llm/backend.h"
#include "services/llm/http/stream_parsers.h"

namespace hn::services::llm::http {

// The plain HTTP(S) client (httpc) under the names the backends use.
using httpc::parse_url;
using httpc::Url;
using httpc::vendor_message;

// Everything an HTTP backend needs from its config entry. The key is held here only; it
// is never put in an error, a log line or health.
struct HttpBackendSettings {
  std::string name;   // instance name
  std::string type;   // config type: lmstudio, vllm, llama_server, nemotron, openbmb, ollama, …
  Url url;
  std::optional<std::string> model;  // unset: discovered at start (OpenAI /v1/models, Ollama /api/tags)
  std::string api_key;               // empty: none
  int max_concurrent = 4;
  int ctx = 0;
  bool requires_internet = false;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds idle_timeout{120000};
};

// The default URL of each HTTP type (the vendors' usual ports), "" for none.
std::string_view default_url(std::string_view type);

// Reads an entry: the URL (or the type's default) must parse, a named key variable must be
// set and non-empty. The error names the backend and what is wrong — never the key.
Result<HttpBackendSettings> settings_from_config(const config::LlmBackendConfig& cfg);

enum class StreamFormat { sse, ndjson };

// POSTs `body` (JSON) to `url` and hands each event (SSE) or line (NDJSON) of a 2xx answer
// to the sink; a non-2xx answer becomes httpc::error_from_http (M04 §5). An SSE event's data / an NDJSON
// line arrive as text (the sink parses JSON: a bad document is its own error).
struct StreamSinks {
  std::function<Status(const SseEvent&)> on_event;       // StreamFormat::sse
  std::function<Status(std::string_view)> on_line;       // StreamFormat::ndjson
};
Status post_stream(const HttpBackendSettings& s, const Url& url,
                   const std::vector<std::pair<std::string, std::string>>& headers,
                   const Json& body, StreamFormat format, const StreamSinks& sinks,
                   const bus::CancelToken& cancel);

// POSTs (or GETs, body null) JSON and returns the parsed JSON of a 2xx answer.
Result<Json> exchange_json(const HttpBackendSettings& s, const std::string& method, const Url& url,
                           const std::vector<std::pair<std::string, std::string>>& headers,
                           const Json& body, const bus::CancelToken& cancel);

// j[key] for reading: a null for a missing key or a non-object j (never inserts, never
// throws — a backend's JSON has whatever shape it has).
const Json& field(const Json& j, std::string_view key);

// "backend 'NAME'": how messages name a backend.
inline std::string backend_label(std::string_view backend) {
  return "backend '" + std::string(backend) + "'";
}

// internal_error "backend 'NAME' failed mid-stream: <the server's message in payload>".
inline Error failed_mid_stream(std::string_view backend, std::string_view payload) {
  return make_error(ErrorCode::internal_error,
                    backend_label(backend) + " failed mid-stream: " + vendor_message(payload));
}

// Parses one JSON document from a backend; internal_error naming the backend otherwise.
inline Result<Json> parse_backend_json(std::string_view text, std::string_view backend) {
  return httpc::parse_json_answer(text, backend_label(backend));
}

// M04 §3.3: chars / 3.5 for Latin scripts (at least 1 for non-empty text).
int count_tokens_approx(std::string_view text);

// One generation's tokens, usage and stop reason as a stream is read.
class GenerationState {
 public:
  explicit GenerationState(const TokenSink& sink) : m_sink(sink) {}
  // Sends a non-empty piece of text to the sink and counts it as one token.
  Status emit(std::string_view text, std::optional<double> logprob = std::nullopt);
  Generation& result() { return m_gen; }
  bool finished = false;  // the backend said it was done (finish_reason, done, message_stop)

 private:
  const TokenSink& m_sink;
  Generation m_gen;
};

// What becomes of a generation's exchange: a cancelled token → stop_reason cancelled; a
// stream that ended without the backend's end marker → internal_error "ended early";
// approximate usage filled in where the backend sent none.
Result<Generation> finish_generation(Status exchanged, GenerationState& state,
                                     const bus::CancelToken& cancel, std::string_view backend,
                                     std::string_view prompt_text);

// Reachability as the calls see it: the last success or failure, for health().
class BackendHealth {
 public:
  void record(const Status& outcome);
  void set_error(std::string message);
  // {"ok", "last_error"?, "calls", "failures"}.
  Json to_json() const;

 private:
  mutable std::mutex m_mutex;
  bool m_ok = true;
  std::string m_last_error;
  std::uint64_t m_calls = 0;
  std::uint64_t m_failures = 0;
};

}  // namespace hn::services::llm::http
