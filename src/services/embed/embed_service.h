// embed_service.h — the embedding service (M11): embed.text@1.0 (CONTRACT §4.3) over one
// Embedder chosen from the configuration ([embedding] model, X04 §3):
//   - a GGUF path            → llama.cpp in-process (LlamaEmbedder)
//   - any other model name   → the first [[llm.backends]] entry that serves embeddings:
//                              ollama → /api/embed; llama_server, vllm, lmstudio, nemotron,
//                              openbmb → OpenAI-compatible /v1/embeddings
// With neither, or when the embedder fails to start, the service offers nothing and says
// why in its health (the node still starts; doc/design/embed.md).
//
// Request  {"params": {"model": string}, "input": {"texts": [string, …], "normalize"?: bool}}
// Response {"output": {"embeddings": [[number…]…], "dim": int}, "meta": {"model", "ms"}}
// Limits (CONTRACT §4.3, M11 §4.2): 1..256 texts of at most 8192 characters each, else
// bad_request; a model this node does not serve is not_found.
//
// Local-only extension embed.tokenize@1.0 (trust self, so never served to a peer): the
// model's own token counts, for the RAG chunker to measure chunks in the embedder's tokens
// (doc/design/rag.md). Offered only when the embedder has its tokenizer in this process
// (llama.cpp); an HTTP embedder offers none.
// Request  {"params"?: {"model"?: string}, "input": {"texts": [string, …]}} (1..256 texts of
//          at most EMBED_TOKENIZE_MAX_TEXT_BYTES bytes)
// Response {"output": {"counts": [int…], "max_tokens": int}, "meta": {"model"}}
//
// Thread-safety: the handler runs on the service's queue threads concurrently; the
// embedder serialises what it must.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bus/capability.h"
#include "bus/service.h"
#include "config/config.h"
#include "core/constants.h"
#include "service/context.h"
#include "services/embed/embedder.h"

namespace hn::services::embed {

inline constexpr const char* EMBED_TEXT_CAPABILITY = "embed.text";
inline constexpr const char* EMBED_TOKENIZE_CAPABILITY = "embed.tokenize";
inline constexpr int EMBED_MAX_CONCURRENT = 8;             // M11 §4.3
// embed.tokenize: a text may be a whole page or document, not just one chunk.
inline constexpr std::size_t EMBED_TOKENIZE_MAX_TEXT_BYTES = 4 * 1024 * 1024;

// The descriptor; `model` and `dim` go into params.
bus::CapabilityDescriptor embed_text_descriptor(const std::string& model, int dim);
// The local-only embed.tokenize descriptor; `model` goes into params.
bus::CapabilityDescriptor embed_tokenize_descriptor(const std::string& model);

// M11 §3.4: the requested model must be one of `names` (the offered name and the
// configured spelling of it).
bool embed_params_compatible(const std::vector<std::string>& names, const Json& requested);

// The embedder [embedding] and [[llm.backends]] call for; null with the reason when none.
std::unique_ptr<Embedder> choose_embedder(const config::Config& config, std::string& why_none);

class EmbedService final : public bus::Service {
 public:
  // `embedder` null: the service offers nothing; `why_none` says why (health).
  EmbedService(std::unique_ptr<Embedder> embedder, std::string configured_model,
               std::string why_none = {});
  std::string name() const override { return "embed"; }
  std::string version() const override { return "1.0.0"; }
  std::vector<std::string> namespace_prefixes() const override { return {"embed"}; }
  std::vector<bus::LocalCapability> capabilities() override;
  bus::ExecutionSpec execution() const override { return {4, 64}; }
  Status start() override;
  Json health() const override;

  // The handlers (public for tests that drive them without a bus).
  Result<Json> handle(const bus::CallContext& ctx, const Json& body) const;
  Result<Json> handle_tokenize(const bus::CallContext& ctx, const Json& body) const;

 private:
  std::unique_ptr<Embedder> m_embedder;
  std::string m_configured;
  std::string m_why_none;
  bool m_started = false;
};

std::unique_ptr<bus::Service> make_service(const service::ServiceContext& ctx);

}  // namespace hn::services::embed
