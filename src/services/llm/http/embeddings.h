// embeddings.h — HTTP embedding backends, as plain classes with no dependency on any
// service (the embed service of branch h/llama takes them over into its own folder; a
// service may not include another service's headers):
//   OpenAiEmbeddings — POST <url>/v1/embeddings {"model", "input": [texts]} →
//     {"data": [{"index", "embedding": [...]}], "usage": {"prompt_tokens"}}.
//   OllamaEmbeddings — POST <url>/api/embed {"model", "input": [texts]} →
//     {"embeddings": [[...]], "prompt_eval_count"}.
// Vectors are L2-normalised here when asked (CONTRACT §4.3 "normalize", default true).
//
// Thread-safety: embed() may be called concurrently.
#pragma once

#include <string>
#include <vector>

#include "bus/capability.h"
#include "core/error.h"
#include "services/llm/http/common.h"

namespace hn::services::llm::http {

struct Embeddings {
  std::vector<std::vector<float>> vectors;  // one per text, in order
  int dim = 0;
  int tokens_in = 0;
};

class HttpEmbeddings {
 public:
  virtual ~HttpEmbeddings() = default;
  // Errors: internal_error for a broken or malformed answer (wrong count, ragged dims),
  // the mapped HTTP error otherwise (error_from_http).
  virtual Result<Embeddings> embed(const std::string& model, const std::vector<std::string>& texts,
                                   bool normalize, const bus::CancelToken& cancel) = 0;
};

class OpenAiEmbeddings final : public HttpEmbeddings {
 public:
  explicit OpenAiEmbeddings(HttpBackendSettings settings) : m_s(std::move(settings)) {}
  Result<Embeddings> embed(const std::string& model, const std::vector<std::string>& texts,
                           bool normalize, const bus::CancelToken& cancel) override;

 private:
  HttpBackendSettings m_s;
};

class OllamaEmbeddings final : public HttpEmbeddings {
 public:
  explicit OllamaEmbeddings(HttpBackendSettings settings) : m_s(std::move(settings)) {}
  Result<Embeddings> embed(const std::string& model, const std::vector<std::string>& texts,
                           bool normalize, const bus::CancelToken& cancel) override;

 private:
  HttpBackendSettings m_s;
};

// Scales v to unit length (a zero vector stays zero).
void l2_normalize(std::vector<float>& v);

}  // namespace hn::services::llm::http
