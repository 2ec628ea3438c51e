// embed_service.cpp — embed.text@1.0: descriptor, limits, the handler, embedder choice.
#include "services/embed/embed_service.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "bus/descriptor.h"
#include "observability/logging.h"
#include "services/embed/http_embedders.h"
#include "services/embed/llama_embedder.h"

namespace hn::services::embed {
using namespace hn::bus;  // NOLINT: the bus types this file implements against
namespace {

const observability::Logger& embed_log() {
  static const observability::Logger log("embed");
  return log;
}

// Characters, not bytes (CONTRACT §4.3 "8192 chars"): UTF-8 lead bytes.
std::size_t utf8_chars(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// HEARTHNET_LLAMA_THREADS (1..256): llama.cpp's threads, else every core (as the llm
// service's llama_cpp backend; a hook for tests and benchmarks on shared machines).
int threads_from_env() {
  const char* v = std::getenv("HEARTHNET_LLAMA_THREADS");
  if (v == nullptr) return 0;
  const int n = std::atoi(v);
  return n >= 1 && n <= 256 ? n : 0;
}

bool is_gguf_path(const std::string& model) {
  std::error_code ec;
  return model.ends_with(".gguf") || std::filesystem::is_regular_file(model, ec);
}

}  // namespace

CapabilityDescriptor embed_text_descriptor(const std::string& model, int dim) {
  CapabilityDescriptor d = bus::stable_descriptor(EMBED_TEXT_CAPABILITY, TrustLevel::member,
                                                  EMBED_MAX_CONCURRENT, 15);  // 15 s: M11 §3.3
  // M11 §3.3's schema without its minItems/maxItems: the contract answers a request over
  // the limits with bad_request (§4.3), which the handler gives; a schema limit would make
  // the bus answer schema_mismatch (doc/design/embed.md).
  d.request_schema = Json::parse(R"({
    "type": "object",
    "required": ["params", "input"],
    "properties": {
      "params": {"type": "object", "properties": {"model": {"type": "string"}},
                 "required": ["model"]},
      "input": {"type": "object", "required": ["texts"], "properties": {
        "texts": {"type": "array", "items": {"type": "string"}},
        "normalize": {"type": "boolean", "default": true}
      }}
    }
  })");
  d.response_schema = Json::parse(R"({
    "type": "object",
    "required": ["output", "meta"],
    "properties": {
      "output": {"type": "object", "required": ["embeddings", "dim"], "properties": {
        "embeddings": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
        "dim": {"type": "integer"}
      }},
      "meta": {"type": "object", "required": ["model", "ms"]}
    }
  })");
  d.stream_schema = nullptr;
  Json params{{"model", model}};
  if (dim > 0) params["dim"] = dim;
  d.params = std::move(params);
  return d;
}

CapabilityDescriptor embed_tokenize_descriptor(const std::string& model) {
  // Local-only: the node's own services (and its CLI) measure text; no peer needs it.
  CapabilityDescriptor d = bus::stable_descriptor(EMBED_TOKENIZE_CAPABILITY, TrustLevel::self,
                                                  EMBED_MAX_CONCURRENT, 15);
  d.request_schema = Json::parse(R"({
    "type": "object",
    "required": ["input"],
    "properties": {
      "params": {"type": "object", "properties": {"model": {"type": "string"}}},
      "input": {"type": "object", "required": ["texts"], "properties": {
        "texts": {"type": "array", "items": {"type": "string"}}
      }}
    }
  })");
  d.response_schema = Json::parse(R"({
    "type": "object",
    "required": ["output", "meta"],
    "properties": {
      "output": {"type": "object", "required": ["counts", "max_tokens"], "properties": {
        "counts": {"type": "array", "items": {"type": "integer"}},
        "max_tokens": {"type": "integer"}
      }},
      "meta": {"type": "object", "required": ["model"]}
    }
  })");
  d.params = Json{{"model", model}};
  return d;
}

bool embed_params_compatible(const std::vector<std::string>& names, const Json& requested) {
  if (!requested.is_object()) return false;
  auto it = requested.find("model");
  if (it == requested.end() || !it->is_string()) return false;
  const auto& want = it->get_ref<const std::string&>();
  return std::find(names.begin(), names.end(), want) != names.end();
}

std::unique_ptr<Embedder> choose_embedder(const config::Config& config, std::string& why_none) {
  const std::string& model = config.embedding.model;
  if (is_gguf_path(model)) {
    return std::make_unique<LlamaEmbedder>(
        LlamaEmbedderOptions{.model_path = model, .threads = threads_from_env()});
  }
  for (const auto& b : config.llm.backends) {
    if (!b.url) continue;
    if (auto e = make_http_embedder(b, model)) return e;
  }
  why_none = "[embedding] model '" + model +
             "' is not a GGUF file, and no [[llm.backends]] entry with a url serves embeddings";
  return nullptr;
}

EmbedService::EmbedService(std::unique_ptr<Embedder> embedder, std::string configured_model,
                           std::string why_none)
    : m_embedder(std::move(embedder)),
      m_configured(std::move(configured_model)),
      m_why_none(std::move(why_none)) {}

Status EmbedService::start() {
  if (!m_embedder) {
    embed_log().info("embed.text not offered", Json{{"reason", m_why_none}});
    return {};
  }
  if (auto s = m_embedder->start(); !s) {
    // The node still starts; the reason shows in health and the log.
    m_why_none = s.error().message;
    embed_log().warning("embedding backend unavailable", Json{{"reason", m_why_none}});
    return {};
  }
  m_started = true;
  return {};
}

std::vector<LocalCapability> EmbedService::capabilities() {
  if (!m_started) return {};
  LocalCapability cap;
  cap.descriptor = embed_text_descriptor(m_embedder->model(), m_embedder->dim());
  std::vector<std::string> names{m_embedder->model()};
  if (m_configured != m_embedder->model()) names.push_back(m_configured);
  cap.params_compatible = [names](const Json& /*offered*/, const Json& requested) {
    return embed_params_compatible(names, requested);
  };
  cap.handler = [this](const CallContext& ctx, const Json& body) { return handle(ctx, body); };
  std::vector<LocalCapability> out;
  out.push_back(std::move(cap));
  if (m_embedder->has_tokenizer()) {
    LocalCapability tok;
    tok.descriptor = embed_tokenize_descriptor(m_embedder->model());
    // No model named: this node's model (the caller asked for the local tokenizer).
    tok.params_compatible = [names](const Json& /*offered*/, const Json& requested) {
      return !requested.is_object() || !requested.contains("model") ||
             embed_params_compatible(names, requested);
    };
    tok.handler = [this](const CallContext& ctx, const Json& body) {
      return handle_tokenize(ctx, body);
    };
    out.push_back(std::move(tok));
  }
  return out;
}

Result<Json> EmbedService::handle_tokenize(const CallContext&, const Json& body) const {
  if (!m_started || !m_embedder->has_tokenizer()) {
    return make_error(ErrorCode::not_found, "embed.tokenize: no tokenizer on this node");
  }
  const Json params = body.value("params", Json::object());
  const std::string requested = params.is_object() ? params.value("model", std::string()) : "";
  if (!requested.empty() && requested != m_embedder->model() && requested != m_configured) {
    return make_error(ErrorCode::not_found, "embed.tokenize: model '" + requested +
                                                "' is not loaded here (this node serves '" +
                                                m_embedder->model() + "')");
  }
  const Json input = body.value("input", Json::object());
  const Json texts_json = input.is_object() ? input.value("texts", Json()) : Json();
  if (!texts_json.is_array() || texts_json.empty() || texts_json.size() > EMBED_MAX_TEXTS) {
    return make_error(ErrorCode::bad_request, "embed.tokenize: input.texts must hold 1.." +
                                                  std::to_string(EMBED_MAX_TEXTS) + " strings");
  }
  std::vector<std::string> texts;
  texts.reserve(texts_json.size());
  for (std::size_t i = 0; i < texts_json.size(); ++i) {
    if (!texts_json[i].is_string() ||
        texts_json[i].get_ref<const std::string&>().size() > EMBED_TOKENIZE_MAX_TEXT_BYTES) {
      return make_error(ErrorCode::bad_request,
                        "embed.tokenize: texts[" + std::to_string(i) + "] must be a string of at most " +
                            std::to_string(EMBED_TOKENIZE_MAX_TEXT_BYTES) + " bytes");
    }
    texts.push_back(texts_json[i].get<std::string>());
  }
  HN_TRY_ASSIGN(auto counts, m_embedder->count_tokens(texts));
  return Json{{"output", {{"counts", counts}, {"max_tokens", m_embedder->max_tokens()}}},
              {"meta", {{"model", m_embedder->model()}}}};
}

Result<Json> EmbedService::handle(const CallContext& ctx, const Json& body) const {
  const auto t0 = std::chrono::steady_clock::now();
  if (!m_started) return make_error(ErrorCode::not_found, "embed.text: " + m_why_none);
  if (!body.is_object() || !body.contains("input") || !body["input"].is_object()) {
    return make_error(ErrorCode::bad_request, "embed.text: input is required");
  }
  const Json& input = body["input"];
  const Json params = body.value("params", Json::object());
  const std::string requested = params.is_object() ? params.value("model", std::string()) : "";
  std::vector<std::string> names{m_embedder->model(), m_configured};
  if (!requested.empty() && std::find(names.begin(), names.end(), requested) == names.end()) {
    return make_error(ErrorCode::not_found, "embed.text: model '" + requested +
                                                "' is not loaded here (this node " + "serves '" +
                                                m_embedder->model() + "')");
  }
  auto texts_it = input.find("texts");
  if (texts_it == input.end() || !texts_it->is_array()) {
    return make_error(ErrorCode::bad_request, "embed.text: input.texts must be an array");
  }
  const Json& texts_json = *texts_it;
  if (texts_json.empty() || texts_json.size() > EMBED_MAX_TEXTS) {
    return make_error(ErrorCode::bad_request, "embed.text: " + std::to_string(texts_json.size()) +
                                                  " texts; 1.." + std::to_string(EMBED_MAX_TEXTS) +
                                                  " allowed");
  }
  std::vector<std::string> texts;
  texts.reserve(texts_json.size());
  for (std::size_t i = 0; i < texts_json.size(); ++i) {
    if (!texts_json[i].is_string()) {
      return make_error(ErrorCode::bad_request,
                        "embed.text: texts[" + std::to_string(i) + "] is not a string");
    }
    const auto& t = texts_json[i].get_ref<const std::string&>();
    if (utf8_chars(t) > EMBED_MAX_TEXT_CHARS) {
      return make_error(ErrorCode::bad_request,
                        "embed.text: texts[" + std::to_string(i) + "] is longer than " +
                            std::to_string(EMBED_MAX_TEXT_CHARS) + " characters");
    }
    texts.push_back(t);
  }
  const auto normalize_it = input.find("normalize");
  const bool normalize =
      normalize_it == input.end() || !normalize_it->is_boolean() || normalize_it->get<bool>();
  HN_TRY_ASSIGN(auto vectors, m_embedder->embed(texts, normalize, ctx.cancel));
  Json embeddings = Json::array();
  for (auto& v : vectors) embeddings.push_back(std::move(v));
  const int dim = vectors.empty() ? m_embedder->dim() : static_cast<int>(vectors.front().size());
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  return Json{{"output", {{"embeddings", std::move(embeddings)}, {"dim", dim}}},
              {"meta", {{"model", m_embedder->model()}, {"ms", ms}}}};
}

Json EmbedService::health() const {
  if (m_started) return m_embedder->health();
  Json h{{"ok", false}, {"offered", false}, {"error", m_why_none}};
  if (m_embedder) {
    h["kind"] = m_embedder->kind();
    h["model"] = m_embedder->model();
  }
  return h;
}

std::unique_ptr<bus::Service> make_service(const service::ServiceContext& ctx) {
  std::string why;
  auto embedder = choose_embedder(ctx.config, why);
  return std::make_unique<EmbedService>(std::move(embedder), ctx.config.embedding.model, why);
}

}  // namespace hn::services::embed
