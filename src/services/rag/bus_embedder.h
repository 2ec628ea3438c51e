// bus_embedder.h — the RAG service's way to embeddings and token counts: embed.text@1.0
// (CONTRACT §4.3) and the embed service's local-only embed.tokenize@1.0, both through the
// bus (M05 §4.1: RAG never includes the embedding service; the embedder may be on
// another node).
//
// Thread-safety: every member is safe from any thread that may block on a bus call (a
// service's queue threads, tests), never the network thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bus/bus.h"
#include "services/rag/chunker.h"

namespace hn::services::rag {

inline constexpr const char* EMBED_TEXT = "embed.text";
inline constexpr const char* EMBED_TOKENIZE = "embed.tokenize";

// The model's own token counter (embed.tokenize on this node) and its per-text limit.
struct ModelTokenizer {
  TokenCounter count;
  TokenBatchCounter count_batch;  // many texts per embed.tokenize call (EMBED_MAX_TEXTS)
  int max_tokens = 0;  // 0 = unknown
};

class BusEmbedder {
 public:
  // `configured`: [rag] embedding_model ("" = whatever embed.text model the bus offers).
  BusEmbedder(bus::CapabilityBus& bus, std::string configured);

  const std::string& configured() const { return m_configured; }
  // The model an ingest into a corpus uses: the configured one, else the corpus's own,
  // else the model of the first embed.text provider the bus knows (local first); "" when
  // none (a lexical-only ingest).
  std::string choose_model(const std::string& corpus_model) const;
  // Whether any provider of embed.text serves `model` (by its params).
  bool offered(const std::string& model) const;
  // One vector per text, in batches of at most EMBED_MAX_TEXTS (CONTRACT §4.3; `batch`
  // smaller when given); `on_batch` (may be empty) hears how many texts are done after each
  // batch and stops the work by returning an error. Errors as the bus's.
  Result<std::vector<std::vector<float>>> embed(
      const std::string& model, const std::vector<std::string>& texts,
      const bus::CancelToken& cancel,
      const std::function<Status(std::size_t done)>& on_batch = {}, std::size_t batch = 0);
  // The model's tokenizer when this node offers embed.tokenize for it; nullopt otherwise
  // (an HTTP embedder or a remote one: the chunker then counts approximately).
  std::optional<ModelTokenizer> tokenizer(const std::string& model);
  // embed.text calls made (for tests: an idempotent ingest embeds once).
  std::int64_t calls() const { return m_calls.load(); }

 private:
  bus::CapabilityBus& m_bus;
  std::string m_configured;
  std::atomic<std::int64_t> m_calls{0};
};

}  // namespace hn::services::rag
