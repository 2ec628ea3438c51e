// llama_embedder.cpp — LlamaEmbedder.
#include "services/embed/llama_embedder.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <system_error>
#include <thread>

#include "ggml-cpu.h"
#include "llama.h"
#include "llamacpp/runtime.h"

namespace hn::services::embed {

void l2_normalize(Vector& v) {
  double sum = 0.0;
  for (float x : v) sum += static_cast<double>(x) * x;
  if (sum <= 0.0) return;
  const auto inv = static_cast<float>(1.0 / std::sqrt(sum));
  for (float& x : v) x *= inv;
}

LlamaEmbedder::LlamaEmbedder(LlamaEmbedderOptions options) : m_options(std::move(options)) {
  m_name = m_options.name.empty() ? m_options.model_path.stem().string() : m_options.name;
}

LlamaEmbedder::~LlamaEmbedder() {
  if (m_ctx != nullptr) llama_free(m_ctx);
  if (m_pool != nullptr) ggml_threadpool_free(m_pool);
  if (m_model != nullptr) llama_model_free(m_model);
}

Status LlamaEmbedder::start() {
  const std::string path = m_options.model_path.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(m_options.model_path, ec)) {
    m_error = "no GGUF file at '" + path + "'";
    return make_error(ErrorCode::not_found, "embedding: " + m_error);
  }
  llamacpp::init_once();
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  m_model = llama_model_load_from_file(path.c_str(), mp);
  if (m_model == nullptr) {
    m_error = "'" + path + "' is not a GGUF model llama.cpp can load";
    return make_error(ErrorCode::bad_request, "embedding: " + m_error);
  }
  m_max_tokens = std::min(llama_model_n_ctx_train(m_model), std::max(64, m_options.batch));
  // One decode holds either one text of up to m_max_tokens or several up to decode_tokens.
  m_decode_tokens = std::max(16, m_options.decode_tokens);
  const int per_decode = std::max(m_max_tokens, m_decode_tokens);
  const int threads = m_options.threads > 0
                          ? m_options.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  auto make_context = [&](enum llama_pooling_type pooling) {
    llama_context_params cp = llama_context_default_params();
    cp.embeddings = true;
    cp.pooling_type = pooling;
    cp.n_ctx = static_cast<std::uint32_t>(per_decode);
    cp.n_batch = static_cast<std::uint32_t>(per_decode);
    cp.n_ubatch = static_cast<std::uint32_t>(per_decode);  // an encoder sees a whole text at once
    cp.n_seq_max = MAX_SEQS;
    cp.kv_unified = true;
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    cp.no_perf = true;
    return llama_init_from_model(m_model, cp);
  };
  m_ctx = make_context(LLAMA_POOLING_TYPE_UNSPECIFIED);  // the model's own pooling
  if (m_ctx != nullptr && llama_pooling_type(m_ctx) == LLAMA_POOLING_TYPE_NONE) {
    // A model that declares no pooling (a decoder GGUF): mean over its tokens.
    llama_free(m_ctx);
    m_ctx = make_context(LLAMA_POOLING_TYPE_MEAN);
  }
  if (m_ctx == nullptr) {
    m_error = "cannot create an embedding context for '" + path + "'";
    return make_error(ErrorCode::internal_error, "embedding: " + m_error);
  }
  // Without a threadpool of its own, ggml starts and joins threads-1 threads for every graph
  // it computes (each decode); llama-server attaches one, and so do we.
  if (threads > 1) {
    ggml_threadpool_params tp = ggml_threadpool_params_default(threads);
    m_pool = ggml_threadpool_new(&tp);
    if (m_pool != nullptr) llama_attach_threadpool(m_ctx, m_pool, m_pool);
  }
  // llama.cpp grows its output buffer (n_vocab floats per token of the largest decode so far)
  // on demand and zeroes the whole buffer each time it grows: one decode of the largest size
  // now, so that no call pays for it (it was most of a call's time: bench/RESULTS.md "LLM").
  {
    const llama_vocab* vocab = llama_model_get_vocab(m_model);
    llama_token filler = llama_vocab_bos(vocab);
    if (filler < 0) filler = 0;
    llama_batch warm = llama_batch_init(per_decode, 0, 1);
    for (int k = 0; k < per_decode; ++k) {
      warm.token[k] = filler;
      warm.pos[k] = k % m_max_tokens;
      warm.n_seq_id[k] = 1;
      warm.seq_id[k][0] = k / m_max_tokens;
      warm.logits[k] = 1;
    }
    warm.n_tokens = per_decode;
    const int rc = llama_decode(m_ctx, warm);
    llama_batch_free(warm);
    if (rc != 0) {
      m_error = "the first decode of '" + path + "' failed (" + std::to_string(rc) + ")";
      llama_free(m_ctx);
      m_ctx = nullptr;
      return make_error(ErrorCode::internal_error, "embedding: " + m_error);
    }
  }
  m_dim = llama_model_n_embd_out(m_model);
  if (m_dim <= 0) m_dim = llama_model_n_embd(m_model);
  return {};
}

std::string LlamaEmbedder::pooling() const {
  if (m_ctx == nullptr) return "none";
  switch (llama_pooling_type(m_ctx)) {
    case LLAMA_POOLING_TYPE_MEAN:
      return "mean";
    case LLAMA_POOLING_TYPE_CLS:
      return "cls";
    case LLAMA_POOLING_TYPE_LAST:
      return "last";
    case LLAMA_POOLING_TYPE_RANK:
      return "rank";
    default:
      return "none";
  }
}

Result<std::vector<Vector>> LlamaEmbedder::embed(const std::vector<std::string>& texts,
                                                 bool normalize, const bus::CancelToken& cancel) {
  if (m_ctx == nullptr) return make_error(ErrorCode::not_found, "embedding: " + m_error);
  const llama_vocab* vocab = llama_model_get_vocab(m_model);
  // Tokenise outside the lock: it needs only the (read-only) vocabulary.
  std::vector<std::vector<llama_token>> tokens(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto len = static_cast<std::int32_t>(texts[i].size());
    int n = -llama_tokenize(vocab, texts[i].data(), len, nullptr, 0, true, false);
    tokens[i].resize(static_cast<std::size_t>(std::max(n, 0)));
    if (n > 0) {
      n = llama_tokenize(vocab, texts[i].data(), len, tokens[i].data(), n, true, false);
      tokens[i].resize(static_cast<std::size_t>(std::max(n, 0)));
    }
    if (static_cast<int>(tokens[i].size()) > m_max_tokens) {
      tokens[i].resize(static_cast<std::size_t>(m_max_tokens));
    }
    // An empty text still has the model's CLS/SEP; a vocabulary that adds none gets BOS.
    if (tokens[i].empty()) tokens[i].push_back(llama_vocab_bos(vocab));
  }

  std::vector<Vector> out(texts.size());
  std::lock_guard lk(m_mutex);
  const int n_batch = static_cast<int>(llama_n_batch(m_ctx));
  llama_batch batch = llama_batch_init(n_batch, 0, 1);
  Status failure;
  std::size_t next = 0;
  while (next < texts.size()) {
    if (cancel.is_cancelled()) {
      failure =
          make_error(ErrorCode::timeout, "cancelled by the caller", Json{{"cancelled", true}});
      break;
    }
    batch.n_tokens = 0;
    const std::size_t first = next;
    // Texts in order, up to m_decode_tokens a decode; a longer text goes alone.
    while (next < texts.size() && static_cast<int>(next - first) < MAX_SEQS &&
           (batch.n_tokens == 0 ||
            batch.n_tokens + static_cast<int>(tokens[next].size()) <= m_decode_tokens)) {
      const auto seq = static_cast<llama_seq_id>(next - first);
      const auto& t = tokens[next];
      for (std::size_t p = 0; p < t.size(); ++p) {
        const int k = batch.n_tokens++;
        batch.token[k] = t[p];
        batch.pos[k] = static_cast<llama_pos>(p);
        batch.n_seq_id[k] = 1;
        batch.seq_id[k][0] = seq;
        batch.logits[k] = 1;
      }
      ++next;
    }
    llama_memory_clear(llama_get_memory(m_ctx), true);
    if (const int rc = llama_decode(m_ctx, batch); rc != 0) {
      failure = make_error(ErrorCode::internal_error,
                           "embedding: llama.cpp decode failed (" + std::to_string(rc) + ")");
      break;
    }
    for (std::size_t i = first; i < next; ++i) {
      const float* e = llama_get_embeddings_seq(m_ctx, static_cast<llama_seq_id>(i - first));
      if (e == nullptr) {
        failure = make_error(ErrorCode::internal_error, "embedding: no pooled output");
        break;
      }
      out[i].assign(e, e + m_dim);
      if (normalize) l2_normalize(out[i]);
    }
    if (!failure) break;
  }
  llama_batch_free(batch);
  if (!failure) return failure.take_error();
  return out;
}

Result<std::vector<int>> LlamaEmbedder::count_tokens(const std::vector<std::string>& texts) const {
  if (m_model == nullptr) return make_error(ErrorCode::not_found, "embedding: " + m_error);
  // The vocabulary is read-only: no lock, concurrent with decodes.
  const llama_vocab* vocab = llama_model_get_vocab(m_model);
  std::vector<int> out;
  out.reserve(texts.size());
  for (const auto& text : texts) {
    const auto len = static_cast<std::int32_t>(
        std::min<std::size_t>(text.size(), static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())));
    // With no room given, llama_tokenize answers minus the count it needs.
    const int n = llama_tokenize(vocab, text.data(), len, nullptr, 0, false, false);
    out.push_back(n < 0 ? -n : n);
  }
  return out;
}

Json LlamaEmbedder::health() const {
  Json h{{"ok", m_ctx != nullptr}, {"kind", kind()}, {"model", m_name}, {"dim", m_dim}};
  if (m_ctx != nullptr) h["pooling"] = pooling();
  if (!m_error.empty()) h["error"] = m_error;
  return h;
}

}  // namespace hn::services::embed
