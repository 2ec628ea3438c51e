// http_embedders.h — embed.text over HTTP servers the node's [[llm.backends]] name:
// OpenAI-compatible POST /v1/embeddings (llama-server, vLLM, LM Studio, NIM/Nemotron,
// OpenBMB) and Ollama's POST /api/embed, over the plain HTTP(S) client (httpc: http:// or
// https://). The API key, when api_key_env names one, is read from the environment per call
// and sent as a bearer token, never logged.
//
// Thread-safety: embed() is safe from any thread; each call has its own connection.
// An embed() before start() checks the URL itself.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "config/config.h"
#include "httpc/client.h"
#include "services/embed/embedder.h"

namespace hn::services::embed {

enum class HttpEmbedApi { openai, ollama };

struct HttpEmbedderOptions {
  HttpEmbedApi api = HttpEmbedApi::openai;
  std::string backend_name;  // the [[llm.backends]] name, for messages
  std::string url;           // http(s)://host[:port][/base]
  std::string model;
  std::string api_key_env;                   // empty: no key
  std::chrono::milliseconds timeout{15000};  // M11 §3.3 timeout_seconds
};

class HttpEmbedder final : public Embedder {
 public:
  explicit HttpEmbedder(HttpEmbedderOptions options);
  std::string kind() const override;
  std::string model() const override { return m_options.model; }
  int dim() const override { return m_dim.load(); }
  // bad_request for a URL that is not http(s)://host[:port][/path].
  Status start() override;
  // partition when the server cannot be reached, timeout past the deadline, the contract
  // code of an HTTP error (httpc::error_from_http: 404 not_found, 400 bad_request, …),
  // internal_error for an answer that is not the API's shape.
  Result<std::vector<Vector>> embed(const std::vector<std::string>& texts, bool normalize,
                                    const bus::CancelToken& cancel) override;
  Json health() const override;

 private:
  // The embeddings endpoint of the configured URL (bad_request when it does not parse).
  Result<httpc::Url> endpoint() const;
  HttpEmbedderOptions m_options;
  std::atomic<bool> m_started{false};
  std::atomic<int> m_dim{0};
};

// The embedder for one [[llm.backends]] entry serving `model`; null for a backend type
// that has no embeddings endpoint (llama_cpp, hf_api, anthropic_api).
std::unique_ptr<Embedder> make_http_embedder(const config::LlmBackendConfig& backend,
                                             const std::string& model);

// Parses an answer body (exposed for the fuzz target and tests): `texts` vectors in order.
Result<std::vector<Vector>> parse_embed_answer(HttpEmbedApi api, std::string_view body,
                                               std::size_t texts);

}  // namespace hn::services::embed
