// llm_service.cpp — backends in, llm.chat / llm.complete out: request parsing, backend
// choice by model, token frames, metrics and health.
#include "services/llm/llm_service.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>

#include "observability/logging.h"
#include "observability/standard_metrics.h"

namespace hn::services::llm {
namespace {

const observability::Logger& llm_log() {
  static const observability::Logger log = observability::get_logger("services.llm");
  return log;
}

Error cancelled_error() {
  return make_error(ErrorCode::timeout, "cancelled by the caller", Json{{"cancelled", true}});
}

Sampling read_sampling(const Json& input, int default_max_tokens) {
  Sampling s;
  s.max_tokens = default_max_tokens;
  if (auto v = input.find("max_tokens"); v != input.end() && v->is_number_integer()) {
    s.max_tokens = v->get<int>();
  }
  if (auto v = input.find("temperature"); v != input.end() && v->is_number()) s.temperature = v->get<double>();
  if (auto v = input.find("top_p"); v != input.end() && v->is_number()) s.top_p = v->get<double>();
  if (auto v = input.find("stop"); v != input.end() && v->is_array()) {
    for (const auto& x : *v) {
      if (x.is_string()) s.stop.push_back(x.get<std::string>());
    }
  }
  if (auto v = input.find("seed"); v != input.end() && v->is_number_integer()) {
    s.seed = v->get<std::int64_t>();
  }
  return s;
}

// One started backend and its in-flight count (for the least-busy choice).
struct Slot {
  std::unique_ptr<LlmBackend> backend;
  std::vector<BackendModel> models;
  std::atomic<int> in_flight{0};
  bool serves(const std::string& model) const {
    return std::any_of(models.begin(), models.end(), [&](const auto& m) { return m.name == model; });
  }
};

}  // namespace

struct LlmService::Impl {
  std::vector<config::LlmBackendConfig> configs;
  BackendFactory factory;
  std::vector<std::unique_ptr<LlmBackend>> prebuilt;
  std::vector<std::unique_ptr<Slot>> slots;  // fixed after start()
  Json failed = Json::array();               // [{name, kind, error}]
  int threads = 1;

  // The least busy backend serving `model` whose last calls went well; else the least busy.
  Slot* pick(const std::string& model) {
    Slot* best = nullptr;
    bool best_ok = false;
    for (auto& s : slots) {
      if (!s->serves(model)) continue;
      const bool ok = s->backend->health().value("ok", true);
      if (best == nullptr || (ok && !best_ok) ||
          (ok == best_ok && s->in_flight.load() < best->in_flight.load())) {
        best = s.get();
        best_ok = ok;
      }
    }
    return best;
  }

  std::string primary_model() const {
    for (const auto& s : slots) {
      if (!s->models.empty()) return s->models.front().name;
    }
    return {};
  }

  Result<Json> generate(const bus::CallContext& ctx, const Json& body, bool chat,
                        const bus::FrameSink* emit);
};

Result<Json> LlmService::Impl::generate(const bus::CallContext& ctx, const Json& body, bool chat,
                                        const bus::FrameSink* emit) {
  const auto started = std::chrono::steady_clock::now();
  const Json& input = body["input"];
  std::string model = primary_model();
  if (auto p = body.find("params"); p != body.end() && p->is_object()) {
    if (auto m = p->find("model"); m != p->end() && m->is_string()) model = m->get<std::string>();
  }
  Slot* slot = pick(model);
  if (slot == nullptr) {
    return make_error(ErrorCode::not_found, "llm: no backend here serves model '" + model + "'");
  }
  ChatRequest chat_req;
  CompletionRequest complete_req;
  if (chat) {
    chat_req.model = model;
    bool has_user = false;
    for (const auto& m : input["messages"]) {
      chat_req.messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
      has_user = has_user || chat_req.messages.back().role == "user";
    }
    if (!has_user) return make_error(ErrorCode::bad_request, "llm.chat: no user message");
    chat_req.sampling = read_sampling(input, 1024);
  } else {
    complete_req.model = model;
    complete_req.prompt = input["prompt"].get<std::string>();
    complete_req.sampling = read_sampling(input, 256);
  }

  auto& metrics = observability::standard_metrics();
  const std::string backend_name = slot->backend->name();
  TokenSink on_token = [&](const Token& t) -> Status {
    if (ctx.cancelled()) return cancelled_error();
    if (ctx.past_deadline()) return make_error(ErrorCode::timeout, "llm: generation timed out");
    metrics.llm_tokens_generated_total->inc({model, backend_name});
    if (emit == nullptr) return {};
    Json data{{"text", t.text}};
    if (t.logprob) data["logprob"] = *t.logprob;
    if (auto s = (*emit)(bus::StreamFrame{"token", std::move(data)}); !s) return cancelled_error();
    return {};
  };
  ++slot->in_flight;
  metrics.llm_concurrent->inc({model});
  auto result = chat ? slot->backend->chat(chat_req, on_token, ctx.cancel)
                     : slot->backend->complete(complete_req, on_token, ctx.cancel);
  metrics.llm_concurrent->dec({model});
  --slot->in_flight;
  if (!result) {
    if (result.error().code != ErrorCode::bad_request && !ctx.cancelled()) {
      llm_log().warning("generation failed", Json{{"backend", backend_name}, {"model", model},
                                                   {"error", result.error().message}});
    }
    return result.error();
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  Json meta{{"model", model},
            {"tokens_in", result->tokens_in},
            {"tokens_out", result->tokens_out},
            {"stop_reason", to_string(result->stop_reason)},
            {"ms", ms},
            {"backend", backend_name}};
  if (emit != nullptr) return meta;  // the `done` frame
  if (chat) {
    return Json{{"output", {{"message", {{"role", "assistant"}, {"content", result->text}}}}},
                {"meta", meta}};
  }
  return Json{{"output", {{"text", result->text}}}, {"meta", meta}};
}

LlmService::LlmService(std::vector<config::LlmBackendConfig> configs, BackendFactory factory)
    : m(std::make_unique<Impl>()) {
  m->configs = std::move(configs);
  m->factory = std::move(factory);
  int total = 0;
  for (const auto& c : m->configs) total += std::max(1, c.max_concurrent);
  m->threads = std::clamp(total, 1, 64);
}

LlmService::LlmService(std::vector<std::unique_ptr<LlmBackend>> backends)
    : m(std::make_unique<Impl>()) {
  int total = 0;
  for (const auto& b : backends) total += std::max(1, b->max_concurrent());
  m->threads = std::clamp(total, 1, 64);
  m->prebuilt = std::move(backends);
}

LlmService::~LlmService() = default;

bus::ExecutionSpec LlmService::execution() const {
  return {static_cast<std::size_t>(m->threads), 64};
}

Status LlmService::start() {
  auto add = [this](std::unique_ptr<LlmBackend> b) {
    const std::string name = b->name();
    const std::string kind = b->kind();
    if (auto s = b->start(); !s) {
      llm_log().warning("llm backend left out", Json{{"backend", name}, {"error", s.error().message}});
      m->failed.push_back({{"name", name}, {"kind", kind}, {"error", s.error().message}});
      return;
    }
    auto slot = std::make_unique<Slot>();
    slot->models = b->models();
    slot->backend = std::move(b);
    llm_log().info("llm backend ready", Json{{"backend", name}, {"kind", kind},
                                             {"models", slot->models.size()}});
    m->slots.push_back(std::move(slot));
  };
  for (auto& b : m->prebuilt) add(std::move(b));
  m->prebuilt.clear();
  for (const auto& cfg : m->configs) {
    auto b = m->factory(cfg);
    if (!b) {
      llm_log().warning("llm backend left out", Json{{"backend", cfg.name}, {"error", b.error().message}});
      m->failed.push_back({{"name", cfg.name}, {"kind", cfg.type()}, {"error", b.error().message}});
      continue;
    }
    add(std::move(*b));
  }
  return {};  // a bad backend never stops the node (M04 §3.4 "skip with warning")
}

void LlmService::stop() {
  for (auto& s : m->slots) s->backend->stop();
}

Json LlmService::params() const {
  if (m->slots.empty()) return nullptr;
  Json models = Json::array();
  Json backends = Json::array();
  std::set<std::string> seen;
  bool all_need_internet = true;
  int ctx = 0;
  for (const auto& s : m->slots) {
    Json names = Json::array();
    for (const auto& model : s->models) {
      names.push_back(model.name);
      if (seen.insert(model.name).second) models.push_back(model.name);
      ctx = std::max(ctx, model.ctx_max);
    }
    all_need_internet = all_need_internet && s->backend->requires_internet();
    backends.push_back({{"name", s->backend->name()},
                        {"kind", s->backend->kind()},
                        {"models", names},
                        {"requires_internet", s->backend->requires_internet()}});
  }
  const auto& first = *m->slots.front();
  Json p{{"model", m->primary_model()},
         {"models", models},
         {"quant", first.models.empty() ? "unknown" : first.models.front().quant},
         {"backend", first.backend->name()},
         {"backends", backends},
         {"requires_internet", all_need_internet}};
  if (ctx > 0) p["ctx"] = ctx;
  return p;
}

std::vector<bus::LocalCapability> LlmService::capabilities() {
  Json params = this->params();
  if (params.is_null()) return {};  // nothing to offer: no capability (health says why)
  int slots = 0;
  for (const auto& s : m->slots) slots += std::max(1, s->backend->max_concurrent());
  std::vector<bus::LocalCapability> out;
  for (bool chat : {true, false}) {
    bus::LocalCapability cap;
    cap.descriptor = chat ? llm_chat_descriptor() : llm_complete_descriptor();
    cap.descriptor.params = params;
    cap.descriptor.max_concurrent = std::max(1, slots);
    Impl* impl = m.get();
    cap.handler = [impl, chat](const bus::CallContext& ctx, const Json& body) -> Result<Json> {
      return impl->generate(ctx, body, chat, nullptr);
    };
    cap.stream_handler = [impl, chat](const bus::CallContext& ctx, const Json& body,
                                      const bus::FrameSink& emit) -> Result<Json> {
      return impl->generate(ctx, body, chat, &emit);
    };
    cap.params_compatible = llm_params_compatible;
    out.push_back(std::move(cap));
  }
  return out;
}

Json LlmService::health() const {
  Json backends = Json::array();
  for (const auto& s : m->slots) {
    Json b = s->backend->health();
    b["name"] = s->backend->name();
    b["kind"] = s->backend->kind();
    b["requires_internet"] = s->backend->requires_internet();
    Json models = Json::array();
    for (const auto& model : s->models) models.push_back(model.name);
    b["models"] = models;
    b["in_flight"] = s->in_flight.load();
    backends.push_back(std::move(b));
  }
  return Json{{"backends", backends}, {"backends_failed", m->failed}};
}

std::unique_ptr<bus::Service> make_service(const service::ServiceContext& ctx) {
  return std::make_unique<LlmService>(ctx.config.llm.backends);
}

}  // namespace hn::services::llm
