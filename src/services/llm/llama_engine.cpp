// llama_engine.cpp — LlamaEngine: model loading, the scheduler thread, continuous batching.
#include "services/llm/llama_engine.h"

#include <algorithm>
#include <map>
#include <system_error>

#include "ggml-cpu.h"
#include "llama.h"
#include "llamacpp/runtime.h"
#include "services/llm/llama_sampling.h"
#include "services/llm/llama_text.h"

namespace hn::services::llm {
namespace {

std::string meta(const llama_model* model, const char* key) {
  char buf[256];
  const int n = llama_model_meta_val_str(model, key, buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, std::min<std::size_t>(n, sizeof buf - 1));
}

// general.file_type (llama_ftype) → the quant label of the node manifest (CONTRACT §6.1).
std::string quant_name(const std::string& file_type) {
  static const std::map<std::string, std::string> names = {
      {"0", "f32"},     {"1", "f16"},     {"2", "q4_0"},    {"3", "q4_1"},    {"7", "q8_0"},
      {"8", "q5_0"},    {"9", "q5_1"},    {"10", "q2_k"},   {"11", "q3_k_s"}, {"12", "q3_k_m"},
      {"13", "q3_k_l"}, {"14", "q4_k_s"}, {"15", "q4_k_m"}, {"16", "q5_k_s"}, {"17", "q5_k_m"},
      {"18", "q6_k"},   {"32", "bf16"}};
  auto it = names.find(file_type);
  return it == names.end() ? "unknown" : it->second;
}

llama_sampler* make_sampler(const EngineSampling& s) {
  llama_sampler* chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
  if (s.temperature <= 0.0) {
    llama_sampler_chain_add(chain, llama_sampler_init_greedy());
    return chain;
  }
  // llama.cpp's top_p sorts the whole vocabulary when the distribution is flat; ours selects
  // the same nucleus in linear time (llama_sampling.h).
  if (s.top_p < 1.0)
    llama_sampler_chain_add(chain, make_top_p_sampler(static_cast<float>(s.top_p)));
  llama_sampler_chain_add(chain, llama_sampler_init_temp(static_cast<float>(s.temperature)));
  llama_sampler_chain_add(chain, llama_sampler_init_dist(s.seed.value_or(LLAMA_DEFAULT_SEED)));
  return chain;
}

}  // namespace

struct LlamaEngine::Request {
  std::vector<llama_token> prompt;
  EngineSampling sampling;
  // Guarded by the engine's mutex.
  bool cancelled = false;
  bool done = false;
  std::deque<std::string> out;
  EngineResult result;
  std::optional<Error> error;
  std::condition_variable cv;
};

struct LlamaEngine::Slot {
  std::shared_ptr<Request> req;  // null: free
  llama_sampler* sampler = nullptr;
  std::size_t prompt_done = 0;  // prompt tokens decoded
  int n_past = 0;               // positions in the KV cache
  llama_token next = 0;         // sampled, not decoded yet (while generating)
  bool generating = false;
  int batch_index = -1;  // this step's logits row, or -1
  int tokens_out = 0;
  Utf8Assembler utf8;
  std::optional<StopMatcher> stop;
};

Result<std::unique_ptr<LlamaEngine>> LlamaEngine::open(const EngineOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(options.model_path, ec)) {
    return make_error(ErrorCode::not_found,
                      "llama_cpp: no GGUF file at '" + options.model_path.string() + "'");
  }
  llamacpp::init_once();
  std::unique_ptr<LlamaEngine> e(new LlamaEngine());
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  e->m_model = llama_model_load_from_file(options.model_path.c_str(), mp);
  if (e->m_model == nullptr) {
    return make_error(ErrorCode::bad_request, "llama_cpp: '" + options.model_path.string() +
                                                  "' is not a GGUF model llama.cpp can load");
  }
  if (llama_model_has_encoder(e->m_model) && !llama_model_has_decoder(e->m_model)) {
    return make_error(ErrorCode::bad_request, "llama_cpp: '" + options.model_path.string() +
                                                  "' is an encoder-only (embedding) model");
  }
  e->m_vocab = llama_model_get_vocab(e->m_model);
  e->m_name = meta(e->m_model, "general.name");
  if (e->m_name.empty()) e->m_name = options.model_path.stem().string();
  e->m_quant = quant_name(meta(e->m_model, "general.file_type"));
  if (const char* t = llama_model_chat_template(e->m_model, nullptr)) e->m_template = t;

  e->m_slots = std::max(1, options.slots);
  const int train = llama_model_n_ctx_train(e->m_model);
  e->m_ctx_per_slot = options.ctx_per_slot > 0 ? options.ctx_per_slot : std::min(train, 4096);
  e->m_batch = std::max(16, options.batch);
  const int threads = options.threads > 0
                          ? options.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<std::uint32_t>(e->m_ctx_per_slot * e->m_slots);
  cp.n_batch = static_cast<std::uint32_t>(e->m_batch);
  cp.n_ubatch = static_cast<std::uint32_t>(e->m_batch);
  cp.n_seq_max = static_cast<std::uint32_t>(e->m_slots);
  cp.n_threads = threads;
  cp.n_threads_batch = threads;
  cp.kv_unified = false;  // each sequence its own KV share: no prefix is shared
  cp.no_perf = true;
  e->m_ctx = llama_init_from_model(e->m_model, cp);
  if (e->m_ctx == nullptr) {
    return make_error(ErrorCode::internal_error, "llama_cpp: cannot create a context for '" +
                                                     options.model_path.string() + "'");
  }
  // Without a threadpool of its own, ggml starts and joins threads-1 threads for every
  // graph it computes — each decode step. llama-server attaches one (common_threadpools);
  // so do we: on the 2-core VM, -t 2 ran ~7x slower without it (bench/RESULTS.md "LLM").
  if (threads > 1) {
    ggml_threadpool_params tp = ggml_threadpool_params_default(threads);
    e->m_pool = ggml_threadpool_new(&tp);
    if (e->m_pool != nullptr) llama_attach_threadpool(e->m_ctx, e->m_pool, e->m_pool);
  }
  e->m_ctx_per_slot = static_cast<int>(llama_n_ctx_seq(e->m_ctx));
  e->m_slot_state.resize(static_cast<std::size_t>(e->m_slots));
  e->m_thread = std::thread([raw = e.get()] { raw->run(); });
  return e;
}

LlamaEngine::~LlamaEngine() {
  {
    std::lock_guard lk(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  if (m_thread.joinable()) m_thread.join();
  for (auto& s : m_slot_state) {
    if (s.sampler != nullptr) llama_sampler_free(s.sampler);
  }
  if (m_ctx != nullptr) llama_free(m_ctx);
  if (m_pool != nullptr) ggml_threadpool_free(m_pool);
  if (m_model != nullptr) llama_model_free(m_model);
}

Result<std::string> LlamaEngine::chat_prompt(
    const std::vector<std::pair<std::string, std::string>>& role_content) const {
  std::vector<llama_chat_message> msgs;
  msgs.reserve(role_content.size());
  std::size_t chars = 0;
  for (const auto& [role, content] : role_content) {
    msgs.push_back({role.c_str(), content.c_str()});
    chars += role.size() + content.size();
  }
  auto apply = [&](const char* tmpl) -> Result<std::string> {
    std::string buf(chars * 2 + 256, '\0');
    int n = llama_chat_apply_template(tmpl, msgs.data(), msgs.size(), true, buf.data(),
                                      static_cast<std::int32_t>(buf.size()));
    if (n > static_cast<int>(buf.size())) {
      buf.resize(static_cast<std::size_t>(n));
      n = llama_chat_apply_template(tmpl, msgs.data(), msgs.size(), true, buf.data(), n);
    }
    if (n < 0) return make_error(ErrorCode::not_implemented, "unsupported chat template");
    buf.resize(static_cast<std::size_t>(n));
    return buf;
  };
  if (!m_template.empty()) {
    auto own = apply(m_template.c_str());
    if (own) return own;
  }
  return apply("chatml");  // doc/design/llama.md: a model without a known template
}

Result<EngineResult> LlamaEngine::generate(std::string_view prompt, bool parse_special,
                                           const EngineSampling& sampling, const PieceSink& sink,
                                           const bus::CancelToken& cancel) {
  auto req = std::make_shared<Request>();
  const auto len = static_cast<std::int32_t>(prompt.size());
  int n = -llama_tokenize(m_vocab, prompt.data(), len, nullptr, 0, true, parse_special);
  if (n < 0) n = 0;
  req->prompt.resize(static_cast<std::size_t>(n));
  if (n > 0) {
    n = llama_tokenize(m_vocab, prompt.data(), len, req->prompt.data(), n, true, parse_special);
    if (n < 0) return make_error(ErrorCode::internal_error, "llama_cpp: tokenisation failed");
    req->prompt.resize(static_cast<std::size_t>(n));
  }
  if (req->prompt.empty()) return make_error(ErrorCode::bad_request, "the prompt is empty");
  if (static_cast<int>(req->prompt.size()) >= m_ctx_per_slot) {
    return make_error(ErrorCode::bad_request, "the prompt has " +
                                                  std::to_string(req->prompt.size()) +
                                                  " tokens; the model's context per request is " +
                                                  std::to_string(m_ctx_per_slot));
  }
  req->sampling = sampling;
  req->result.tokens_in = static_cast<int>(req->prompt.size());
  if (sampling.max_tokens <= 0) {
    req->result.finish = EngineFinish::max_tokens;
    return req->result;
  }

  std::weak_ptr<Request> weak = req;
  const auto cancel_id = cancel.on_cancel([this, weak] {
    {
      std::lock_guard lk(m_mutex);
      if (auto r = weak.lock()) r->cancelled = true;
    }
    m_wake.notify_one();
  });
  {
    std::lock_guard lk(m_mutex);
    m_waiting.push_back(req);
  }
  m_wake.notify_one();

  std::unique_lock lk(m_mutex);
  for (;;) {
    req->cv.wait(lk, [&] { return !req->out.empty() || req->done; });
    if (!req->out.empty()) {
      const bool was_full = req->out.size() >= MAX_AHEAD;
      std::deque<std::string> pieces;
      pieces.swap(req->out);
      const bool deliver = !req->cancelled;
      lk.unlock();
      if (was_full) m_wake.notify_one();
      bool refused = false;
      // The sink may cancel the token itself: nothing is delivered after that, even from
      // the pieces already taken out of the queue.
      for (const auto& p : pieces) {
        if (!deliver || refused || cancel.is_cancelled()) break;
        refused = !sink(p);
      }
      lk.lock();
      if (refused && !req->cancelled) {
        req->cancelled = true;
        m_wake.notify_one();
      }
      continue;
    }
    break;  // done, nothing left to deliver
  }
  lk.unlock();
  cancel.forget(cancel_id);
  if (req->error) return *req->error;
  return req->result;
}

LlamaEngine::Stats LlamaEngine::stats() const {
  std::lock_guard lk(m_mutex);
  return Stats{m_tokens_generated.load(), m_active.load(), static_cast<int>(m_waiting.size())};
}

bool LlamaEngine::has_work_locked() const {
  const bool free_slot =
      std::any_of(m_slot_state.begin(), m_slot_state.end(), [](const Slot& s) { return !s.req; });
  if (!m_waiting.empty() && free_slot) return true;
  if (std::any_of(m_waiting.begin(), m_waiting.end(), [](const auto& r) { return r->cancelled; })) {
    return true;
  }
  return std::any_of(m_slot_state.begin(), m_slot_state.end(), [](const Slot& s) {
    return s.req && (s.req->cancelled || !s.generating || s.req->out.size() < MAX_AHEAD);
  });
}

void LlamaEngine::admit_locked() {
  // A request cancelled while it waited ends at once.
  for (auto it = m_waiting.begin(); it != m_waiting.end();) {
    if ((*it)->cancelled) {
      (*it)->result.finish = EngineFinish::cancelled;
      (*it)->done = true;
      (*it)->cv.notify_all();
      it = m_waiting.erase(it);
    } else {
      ++it;
    }
  }
  for (std::size_t i = 0; i < m_slot_state.size() && !m_waiting.empty(); ++i) {
    Slot& s = m_slot_state[i];
    if (s.req) continue;
    s = Slot{};
    s.req = std::move(m_waiting.front());
    m_waiting.pop_front();
    s.sampler = make_sampler(s.req->sampling);
    s.stop.emplace(s.req->sampling.stop);
    llama_memory_seq_rm(llama_get_memory(m_ctx), static_cast<llama_seq_id>(i), -1, -1);
    m_active.fetch_add(1);
  }
}

void LlamaEngine::run() {
  llama_batch batch = llama_batch_init(m_batch, 0, 1);
  for (;;) {
    {
      std::unique_lock lk(m_mutex);
      m_wake.wait(lk, [&] { return m_stopping || has_work_locked(); });
      if (m_stopping) break;
      admit_locked();
    }
    batch.n_tokens = 0;
    auto add = [&](llama_token t, int pos, int seq, bool logits) {
      const int k = batch.n_tokens++;
      batch.token[k] = t;
      batch.pos[k] = pos;
      batch.n_seq_id[k] = 1;
      batch.seq_id[k][0] = seq;
      batch.logits[k] = logits ? 1 : 0;
      return k;
    };
    std::vector<int> added(m_slot_state.size(), 0);
    std::vector<std::size_t> to_cancel;
    {
      std::lock_guard lk(m_mutex);
      for (std::size_t i = 0; i < m_slot_state.size(); ++i) {
        Slot& s = m_slot_state[i];
        s.batch_index = -1;
        if (!s.req) continue;
        if (s.req->cancelled) {
          to_cancel.push_back(i);
          continue;
        }
        if (s.generating && s.req->out.size() < MAX_AHEAD) {
          s.batch_index = add(s.next, s.n_past, static_cast<int>(i), true);
          added[i] = 1;
        }
      }
    }
    for (auto i : to_cancel) finish(m_slot_state[i], EngineFinish::cancelled);
    // New prompts fill what is left of the batch.
    for (std::size_t i = 0; i < m_slot_state.size() && batch.n_tokens < m_batch; ++i) {
      Slot& s = m_slot_state[i];
      if (!s.req || s.generating) continue;
      const auto& p = s.req->prompt;
      while (s.prompt_done + added[i] < p.size() && batch.n_tokens < m_batch) {
        const std::size_t k = s.prompt_done + added[i];
        const int idx = add(p[k], static_cast<int>(k), static_cast<int>(i), k + 1 == p.size());
        if (k + 1 == p.size()) s.batch_index = idx;
        ++added[i];
      }
    }
    if (batch.n_tokens == 0) continue;
    if (const int rc = llama_decode(m_ctx, batch); rc != 0) {
      for (std::size_t i = 0; i < m_slot_state.size(); ++i) {
        if (added[i] > 0) {
          finish(m_slot_state[i], EngineFinish::end,
                 make_error(ErrorCode::internal_error,
                            "llama_cpp: decode failed (" + std::to_string(rc) + ")"));
        }
      }
      continue;
    }
    for (std::size_t i = 0; i < m_slot_state.size(); ++i) {
      Slot& s = m_slot_state[i];
      if (!s.req || added[i] == 0) continue;
      s.n_past += added[i];
      if (!s.generating) s.prompt_done += static_cast<std::size_t>(added[i]);
      if (s.batch_index < 0) continue;  // prompt not complete yet
      const llama_token tok = llama_sampler_sample(s.sampler, m_ctx, s.batch_index);
      if (llama_vocab_is_eog(m_vocab, tok)) {
        finish(s, EngineFinish::end);
        continue;
      }
      ++s.tokens_out;
      m_tokens_generated.fetch_add(1);
      char buf[256];
      const int n = llama_token_to_piece(m_vocab, tok, buf, sizeof buf, 0, false);
      std::string text = s.stop->push(s.utf8.push(std::string_view(buf, n > 0 ? n : 0)));
      if (!text.empty()) {
        std::lock_guard lk(m_mutex);
        s.req->out.push_back(std::move(text));
        s.req->cv.notify_all();
      }
      if (s.stop->stopped()) {
        finish(s, EngineFinish::stop_sequence);
      } else if (s.tokens_out >= s.req->sampling.max_tokens || s.n_past + 1 >= m_ctx_per_slot) {
        finish(s, EngineFinish::max_tokens);
      } else {
        s.next = tok;
        s.generating = true;
      }
    }
  }
  llama_batch_free(batch);
}

void LlamaEngine::finish(Slot& slot, EngineFinish why, std::optional<Error> error) {
  std::string tail;
  if (why != EngineFinish::cancelled && !error && !slot.stop->stopped()) {
    tail = slot.stop->push(slot.utf8.finish());
    if (!slot.stop->stopped()) tail += slot.stop->finish();
    if (slot.stop->stopped()) why = EngineFinish::stop_sequence;
  }
  const auto seq = static_cast<llama_seq_id>(&slot - m_slot_state.data());
  llama_memory_seq_rm(llama_get_memory(m_ctx), seq, -1, -1);
  llama_sampler_free(slot.sampler);
  slot.sampler = nullptr;
  {
    std::lock_guard lk(m_mutex);
    if (!tail.empty()) slot.req->out.push_back(std::move(tail));
    slot.req->result.tokens_out = slot.tokens_out;
    slot.req->result.finish = why;
    slot.req->error = std::move(error);
    slot.req->done = true;
    slot.req->cv.notify_all();
    slot.req.reset();
    slot.generating = false;
    m_active.fetch_sub(1);
  }
}

}  // namespace hn::services::llm
