// ollama_backend.cpp — Ollama /api/chat and /api/generate NDJSON streams.
#include "services/llm/http/ollama_backend.h"

namespace hn::services::llm::http {
namespace {

Json options(const Sampling& s) {
  Json o{{"num_predict", s.max_tokens}, {"temperature", s.temperature}, {"top_p", s.top_p}};
  if (!s.stop.empty()) o["stop"] = s.stop;
  if (s.seed) o["seed"] = *s.seed;
  return o;
}

}  // namespace

OllamaBackend::OllamaBackend(HttpBackendSettings settings)
    : HttpBackend(std::move(settings), "ollama") {
  if (m_s.model) m_models.push_back(model_named(*m_s.model));
}

Status OllamaBackend::start() {
  if (!m_models.empty()) return {};
  HN_TRY_ASSIGN(auto tags, list_models(m_s.url.with_path("/api/tags"), "/api/tags"));
  const Json list = tags.is_object() ? tags.value("models", Json()) : Json();
  if (list.is_array()) {
    for (const auto& m : list) {
      if (!m.is_object() || !m.contains("name") || !m["name"].is_string()) continue;
      std::string quant = "unknown";
      if (auto d = m.find("details"); d != m.end() && d->is_object() &&
                                      d->contains("quantization_level") &&
                                      (*d)["quantization_level"].is_string()) {
        quant = (*d)["quantization_level"].get<std::string>();
      }
      m_models.push_back(model_named(m["name"].get<std::string>(), quant));
    }
  }
  if (m_models.empty()) {
    return make_error(ErrorCode::config_error, "llm backend '" + m_s.name + "': Ollama lists no model");
  }
  return {};
}

Result<Generation> OllamaBackend::run(const Url& url, Json body, std::string_view prompt_text,
                                      bool chat, const TokenSink& on_token,
                                      const bus::CancelToken& cancel) {
  body["stream"] = true;
  auto read_line = [&](const SseEvent& ev, GenerationState& state) -> Status {
    const std::string& line = ev.data;
    HN_TRY_ASSIGN(auto j, parse_backend_json(line, m_s.name));
    if (!j.is_object()) return {};
    if (auto e = j.find("error"); e != j.end()) return failed_mid_stream(m_s.name, line);
    std::string_view text;
    if (chat) {
      if (auto m = j.find("message"); m != j.end() && m->is_object()) {
        if (auto c = m->find("content"); c != m->end() && c->is_string()) {
          text = c->get_ref<const std::string&>();
        }
      }
    } else if (auto r = j.find("response"); r != j.end() && r->is_string()) {
      text = r->get_ref<const std::string&>();
    }
    HN_TRY(state.emit(text));
    if (field(j, "done") == true) {
      Generation& g = state.result();
      g.stop_reason = field(j, "done_reason") == "length" ? StopReason::max_tokens : StopReason::end;
      if (field(j, "eval_count").is_number_integer()) {
        g.tokens_out = field(j, "eval_count").get<int>();
        if (field(j, "prompt_eval_count").is_number_integer()) {
          g.tokens_in = field(j, "prompt_eval_count").get<int>();
          g.usage_exact = true;
        }
      }
      state.finished = true;
    }
    return {};
  };
  return stream(url, {}, body, StreamFormat::ndjson, read_line, prompt_text, on_token, cancel);
}

Result<Generation> OllamaBackend::chat(const ChatRequest& request, const TokenSink& on_token,
                                       const bus::CancelToken& cancel) {
  Json body{{"model", request.model}, {"messages", Json::array()},
            {"options", options(request.sampling)}};
  std::string prompt_text;
  for (const auto& m : request.messages) {
    body["messages"].push_back({{"role", m.role}, {"content", m.content}});
    prompt_text += m.content;
  }
  return run(m_s.url.with_path("/api/chat"), std::move(body), prompt_text, true, on_token, cancel);
}

Result<Generation> OllamaBackend::complete(const CompletionRequest& request,
                                           const TokenSink& on_token,
                                           const bus::CancelToken& cancel) {
  Json body{{"model", request.model}, {"prompt", request.prompt},
            {"options", options(request.sampling)}};
  return run(m_s.url.with_path("/api/generate"), std::move(body), request.prompt, false, on_token,
             cancel);
}

}  // namespace hn::services::llm::http
