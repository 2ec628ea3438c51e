// llama_embedder.h — embeddings with llama.cpp in-process from a BERT-family GGUF (M11;
// issue #14 §3): the pooling the model declares (bert.pooling_type: mean, CLS, last), texts
// packed into shared batches (one sequence per text, pooled per sequence, up to MAX_SEQS
// texts and about `decode_tokens` tokens per decode), a text longer than the model's
// context cut to it.
//
// Why small decodes: an encoder's attention over one decode is n_tokens² (llama.cpp masks
// other sequences but still computes the whole square), and llama.cpp keeps an output
// buffer of n_vocab floats per token of the largest decode so far. A few hundred tokens a
// decode keeps both small (doc/design/embed.md "In-process"; bench/RESULTS.md "LLM").
//
// Thread-safety: embed() is safe from any thread; calls take turns on the one context
// (an encoder pass over a batch uses every core already).
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "services/embed/embedder.h"

struct llama_model;
struct llama_context;
struct ggml_threadpool;

namespace hn::services::embed {

struct LlamaEmbedderOptions {
  std::filesystem::path model_path;
  std::string name;  // offered model name; empty = the file's stem
  int threads = 0;   // 0 = all cores
  int batch = 2048;  // context: the most tokens one text may have (cut to the model's)
  int decode_tokens = 256;  // texts packed per decode up to this many tokens (one longer text
                            // gets a decode of its own)
};

class LlamaEmbedder final : public Embedder {
 public:
  static constexpr int MAX_SEQS = 64;

  explicit LlamaEmbedder(LlamaEmbedderOptions options);
  ~LlamaEmbedder() override;
  std::string kind() const override { return "llama_cpp"; }
  std::string model() const override { return m_name; }
  int dim() const override { return m_dim; }
  // not_found for a missing file, bad_request for a file that is not an embedding GGUF.
  Status start() override;
  Result<std::vector<Vector>> embed(const std::vector<std::string>& texts, bool normalize,
                                    const bus::CancelToken& cancel) override;
  Json health() const override;
  // The pooling in use: "mean" | "cls" | "last" | "rank".
  std::string pooling() const;
  // Tokens per text at most (texts are cut to it).
  int max_tokens() const override { return m_max_tokens; }
  bool has_tokenizer() const override { return m_model != nullptr; }
  Result<std::vector<int>> count_tokens(const std::vector<std::string>& texts) const override;

 private:
  LlamaEmbedderOptions m_options;
  std::string m_name;
  llama_model* m_model = nullptr;
  llama_context* m_ctx = nullptr;
  ggml_threadpool* m_pool = nullptr;  // the decode threads, kept for the embedder's life
  int m_dim = 0;
  int m_max_tokens = 0;
  int m_decode_tokens = 0;  // packing target per decode
  std::string m_error;
  mutable std::mutex m_mutex;  // one decode at a time on m_ctx
};

}  // namespace hn::services::embed
