// llama_cpp_backend.cpp — the in-process `llama_cpp` LlmBackend (M04; issue #14 §2): a
// LlamaEngine over the entry's GGUF file, serving `max_concurrent` generations at once.
//
// Configuration ([[llm.backends]], X04 §3): the GGUF path is `url` (the spec's form) or
// `model`; when both are set, `model` is the name to offer and `url` the file. Otherwise
// the offered name is the file's stem ("qwen2.5-7b-instruct-q4_k_m"). `ctx` is the context
// per generation (0: the model's, at most 4096); `max_concurrent` the slots.
//
// Thread-safety: chat()/complete() from any number of threads (the engine schedules them).
#include <cstdlib>
#include <filesystem>

#include "services/llm/backend.h"
#include "services/llm/llama_engine.h"

namespace hn::services::llm {
namespace {

// HEARTHNET_LLAMA_THREADS (1..256): the decoding threads, else every core. A hook for tests
// and benchmarks on shared machines, where spinning thread pools lose to one thread.
int threads_from_env() {
  const char* v = std::getenv("HEARTHNET_LLAMA_THREADS");
  if (v == nullptr) return 0;
  const int n = std::atoi(v);
  return n >= 1 && n <= 256 ? n : 0;
}

bool looks_like_path(const std::string& s) {
  return s.find('/') != std::string::npos || s.ends_with(".gguf");
}

StopReason to_stop_reason(EngineFinish f) {
  switch (f) {
    case EngineFinish::end:
      return StopReason::end;
    case EngineFinish::max_tokens:
      return StopReason::max_tokens;
    case EngineFinish::stop_sequence:
      return StopReason::stop_sequence;
    case EngineFinish::cancelled:
      return StopReason::cancelled;
  }
  return StopReason::end;
}

EngineSampling to_engine(const Sampling& s) {
  EngineSampling e;
  e.max_tokens = s.max_tokens;
  e.temperature = s.temperature;
  e.top_p = s.top_p;
  e.stop = s.stop;
  if (s.seed) e.seed = static_cast<std::uint32_t>(*s.seed & 0xFFFFFFFF);
  return e;
}

class LlamaCppBackend final : public LlmBackend {
 public:
  explicit LlamaCppBackend(const config::LlmBackendConfig& cfg) : m_cfg(cfg) {
    const std::string url = cfg.url.value_or("");
    const std::string model = cfg.model.value_or("");
    if (!url.empty() && !model.empty() && !looks_like_path(model)) {
      m_path = url;
      m_name = model;
    } else {
      m_path = !url.empty() ? url : model;
      m_name = std::filesystem::path(m_path).stem().string();
    }
  }

  std::string name() const override { return m_cfg.name; }
  std::string kind() const override { return "llama_cpp"; }
  std::vector<BackendModel> models() const override {
    BackendModel m;
    m.name = m_name;
    if (m_engine) {
      m.quant = m_engine->quant();
      m.ctx_max = m_engine->ctx_per_slot();
    } else {
      m.ctx_max = m_cfg.ctx;
    }
    return {m};
  }
  bool requires_internet() const override { return false; }
  int max_concurrent() const override { return std::max(1, m_cfg.max_concurrent); }

  Status start() override {
    if (m_path.empty()) {
      m_error = "llm backend '" + m_cfg.name + "': no GGUF path (set url or model)";
      return make_error(ErrorCode::bad_request, m_error);
    }
    auto e = LlamaEngine::open({.model_path = m_path,
                                .slots = max_concurrent(),
                                .ctx_per_slot = m_cfg.ctx,
                                .threads = threads_from_env()});
    if (!e) {
      m_error = "llm backend '" + m_cfg.name + "': " + e.error().message;
      return make_error(e.error().code, m_error);
    }
    m_engine = std::move(*e);
    return {};
  }
  void stop() override { m_engine.reset(); }

  Json health() const override {
    Json h{{"ok", m_engine != nullptr}, {"model", m_name}};
    if (m_engine) {
      const auto s = m_engine->stats();
      h["slots"] = m_engine->slots();
      h["ctx"] = m_engine->ctx_per_slot();
      h["active"] = s.active;
      h["waiting"] = s.waiting;
      h["tokens_generated"] = s.tokens_generated;
    }
    if (!m_error.empty()) h["error"] = m_error;
    return h;
  }

  Result<Generation> chat(const ChatRequest& request, const TokenSink& on_token,
                          const bus::CancelToken& cancel) override {
    HN_TRY(check(request.model));
    std::vector<std::pair<std::string, std::string>> msgs;
    msgs.reserve(request.messages.size());
    for (const auto& m : request.messages) msgs.emplace_back(m.role, m.content);
    HN_TRY_ASSIGN(auto prompt, m_engine->chat_prompt(msgs));
    return run(prompt, true, request.sampling, on_token, cancel);
  }

  Result<Generation> complete(const CompletionRequest& request, const TokenSink& on_token,
                              const bus::CancelToken& cancel) override {
    HN_TRY(check(request.model));
    return run(request.prompt, false, request.sampling, on_token, cancel);
  }

 private:
  Status check(const std::string& model) const {
    if (!m_engine) {
      return make_error(
          ErrorCode::not_implemented,
          m_error.empty() ? "llm backend '" + m_cfg.name + "' is not started" : m_error);
    }
    if (!model.empty() && model != m_name && model != m_path) {
      return make_error(ErrorCode::not_found, "llm backend '" + m_cfg.name + "' serves '" + m_name +
                                                  "', not '" + model + "'");
    }
    return {};
  }

  Result<Generation> run(const std::string& prompt, bool parse_special, const Sampling& sampling,
                         const TokenSink& on_token, const bus::CancelToken& cancel) {
    Generation g;
    auto sink = [&](std::string_view piece) {
      g.text += piece;
      return static_cast<bool>(on_token(Token{std::string(piece), std::nullopt}));
    };
    HN_TRY_ASSIGN(auto r,
                  m_engine->generate(prompt, parse_special, to_engine(sampling), sink, cancel));
    g.tokens_in = r.tokens_in;
    g.tokens_out = r.tokens_out;
    g.usage_exact = true;
    g.stop_reason = to_stop_reason(r.finish);
    return g;
  }

  config::LlmBackendConfig m_cfg;
  std::string m_path;
  std::string m_name;
  std::string m_error;
  std::unique_ptr<LlamaEngine> m_engine;
};

}  // namespace

Result<std::unique_ptr<LlmBackend>> make_llama_cpp_backend(const config::LlmBackendConfig& cfg) {
  return std::unique_ptr<LlmBackend>(std::make_unique<LlamaCppBackend>(cfg));
}

}  // namespace hn::services::llm
