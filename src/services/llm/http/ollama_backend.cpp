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

OllamaBackend::OllamaBackend(HttpBackendSettings settings) : m_s(std::move(settings)) {
  if (m_s.model) {
    m_models.push_back(BackendModel{*m_s.model, "unknown", m_s.ctx, {"text"}, false});
  }
}

Status OllamaBackend::start() {
  if (!m_models.empty()) return {};
  HttpBackendSettings probe = m_s;
  probe.idle_timeout = std::chrono::milliseconds(10000);
  auto tags = exchange_json(probe, "GET", m_s.url.with_path("/api/tags"), {}, nullptr, bus::CancelToken());
  if (!tags) {
    m_health.set_error(tags.error().message);
    return make_error(ErrorCode::config_error, "llm backend '" + m_s.name +
                                                   "': no model configured and /api/tags failed: " +
                                                   tags.error().message);
  }
  const Json list = tags->is_object() ? tags->value("models", Json()) : Json();
  if (list.is_array()) {
    for (const auto& m : list) {
      if (!m.is_object() || !m.contains("name") || !m["name"].is_string()) continue;
      std::string quant = "unknown";
      if (auto d = m.find("details"); d != m.end() && d->is_object() &&
                                      d->contains("quantization_level") &&
                                      (*d)["quantization_level"].is_string()) {
        quant = (*d)["quantization_level"].get<std::string>();
      }
      m_models.push_back(BackendModel{m["name"].get<std::string>(), quant, m_s.ctx, {"text"}, false});
    }
  }
  if (m_models.empty()) {
    return make_error(ErrorCode::config_error, "llm backend '" + m_s.name + "': Ollama lists no model");
  }
  return {};
}

Json OllamaBackend::health() const {
  Json j = m_health.to_json();
  j["url"] = m_s.url.to_string();
  return j;
}

Result<Generation> OllamaBackend::run(const Url& url, Json body, std::string_view prompt_text,
                                      bool chat, const TokenSink& on_token,
                                      const bus::CancelToken& cancel) {
  body["stream"] = true;
  GenerationState state(on_token);
  StreamSinks sinks;
  sinks.on_line = [&](std::string_view line) -> Status {
    HN_TRY_ASSIGN(auto j, parse_backend_json(line, m_s.name));
    if (!j.is_object()) return {};
    if (auto e = j.find("error"); e != j.end()) {
      return make_error(ErrorCode::internal_error,
                        "backend '" + m_s.name + "' failed mid-stream: " + vendor_message(line));
    }
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
  auto exchanged = post_stream(m_s, url, {}, body, StreamFormat::ndjson, sinks, cancel);
  m_health.record(exchanged);
  return finish_generation(std::move(exchanged), state, cancel, m_s.name, prompt_text);
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
