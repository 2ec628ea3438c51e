// embedder.h — one way of turning texts into vectors for embed.text@1.0 (M11 §3.1
// EmbeddingBackend): llama.cpp in-process on a GGUF file (llama_embedder.h), or a server
// over HTTP — OpenAI-compatible /v1/embeddings or Ollama /api/embed (http_embedders.h).
// The service parses the wire request at its edge; an embedder sees native types only.
//
// Thread-safety: embed() may be called from several of the service's queue threads at
// once; implementations serialise what they must. Everything else is fixed after start().
#pragma once

#include <string>
#include <vector>

#include "bus/capability.h"
#include "core/error.h"
#include "core/json.h"

namespace hn::services::embed {

using Vector = std::vector<float>;

class Embedder {
 public:
  virtual ~Embedder() = default;
  // "llama_cpp" | "openai" | "ollama".
  virtual std::string kind() const = 0;
  // The model name offered on the bus (params.model).
  virtual std::string model() const = 0;
  // Vector length; 0 until known (an HTTP embedder learns it from its first answer).
  virtual int dim() const = 0;
  // Loads the model or probes the server; the error names what is wrong.
  virtual Status start() = 0;
  // One vector per text, in order, L2-normalised when `normalize` (M11 §3.1). At most
  // EMBED_MAX_TEXTS texts; the service has checked the contract's limits.
  virtual Result<std::vector<Vector>> embed(const std::vector<std::string>& texts, bool normalize,
                                            const bus::CancelToken& cancel) = 0;
  // {"ok": bool, "kind", "model", "dim", "error"?} — never a secret.
  virtual Json health() const = 0;
  // Whether count_tokens works here: the model's own tokenizer is in this process
  // (llama.cpp); an HTTP embedder has none (embed.tokenize is then not offered).
  virtual bool has_tokenizer() const { return false; }
  // The model's token count of each text, without the special tokens it adds per text.
  virtual Result<std::vector<int>> count_tokens(const std::vector<std::string>& texts) const {
    (void)texts;
    return make_error(ErrorCode::not_implemented, "this embedder has no tokenizer here");
  }
  // Tokens one text may have (special ones included) before the embedder cuts it; 0 when
  // unknown.
  virtual int max_tokens() const { return 0; }
};

// Scales v to unit length (a zero vector stays zero).
void l2_normalize(Vector& v);

}  // namespace hn::services::embed
