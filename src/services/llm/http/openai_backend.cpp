// openai_backend.cpp — OpenAI-compatible chat and completions over SSE.
#include "services/llm/http/openai_backend.h"

namespace hn::services::llm::http {

OpenAiBackend::OpenAiBackend(HttpBackendSettings settings)
    : HttpBackend(std::move(settings)) {
  m_base = m_s.url.path.ends_with("/v1") ? m_s.url : m_s.url.with_path("/v1");
  if (m_s.model) m_models.push_back(model_named(*m_s.model));
}

Status OpenAiBackend::start() {
  if (!m_models.empty()) return {};
  // No model configured: take the server's list (GET /v1/models → {"data":[{"id":…}]}).
  HN_TRY_ASSIGN(auto listed, list_models(m_base.with_path("/models"), "the model list"));
  const Json data = listed.is_object() ? listed.value("data", Json()) : Json();
  if (data.is_array()) {
    for (const auto& m : data) {
      if (m.is_object() && m.contains("id") && m["id"].is_string()) {
        m_models.push_back(model_named(m["id"].get<std::string>()));
      }
    }
  }
  if (m_models.empty()) {
    return make_error(ErrorCode::config_error,
                      "llm backend '" + m_s.name + "': the server lists no model");
  }
  return {};
}

void put_openai_sampling(Json& body, const Sampling& s) {
  body["max_tokens"] = s.max_tokens;
  body["temperature"] = s.temperature;
  body["top_p"] = s.top_p;
  if (!s.stop.empty()) body["stop"] = s.stop;
  if (s.seed) body["seed"] = *s.seed;
}

Status read_openai_chunk(const SseEvent& ev, bool chat, GenerationState& state,
                         std::string_view backend) {
  if (ev.data == "[DONE]") {
    state.finished = true;
    return {};
  }
  HN_TRY_ASSIGN(auto j, parse_backend_json(ev.data, backend));
  if (!j.is_object()) return {};
  if (j.contains("error")) return failed_mid_stream(backend, ev.data);
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
    Generation& g = state.result();
    const Json& in = field(*u, "prompt_tokens");
    const Json& out = field(*u, "completion_tokens");
    if (in.is_number_integer() && out.is_number_integer()) {
      g.tokens_in = in.get<int>();
      g.usage_exact = true;
      g.tokens_out = out.get<int>();  // the server's count wins over the pieces counted
    }
  }
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty()) return {};
  const Json& c = (*choices)[0];
  if (!c.is_object()) return {};
  std::string_view text;
  if (chat) {
    if (auto d = c.find("delta"); d != c.end() && d->is_object()) {
      if (auto t = d->find("content"); t != d->end() && t->is_string()) {
        text = t->get_ref<const std::string&>();
      }
    }
  } else if (auto t = c.find("text"); t != c.end() && t->is_string()) {
    text = t->get_ref<const std::string&>();
  }
  HN_TRY(state.emit(text));
  if (auto f = c.find("finish_reason"); f != c.end() && f->is_string()) {
    const auto& reason = f->get_ref<const std::string&>();
    Generation& g = state.result();
    g.stop_reason = reason == "length" ? StopReason::max_tokens : StopReason::end;
    // vLLM and llama-server name the stop string that ended it.
    if (reason == "stop" && field(c, "stop_reason").is_string()) {
      g.stop_reason = StopReason::stop_sequence;
    }
    state.finished = true;
  }
  return {};
}

Result<Generation> OpenAiBackend::run(const Url& url, Json body, std::string_view prompt_text,
                                      bool chat, const TokenSink& on_token,
                                      const bus::CancelToken& cancel) {
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  return stream(
      url, {}, body, StreamFormat::sse,
      [&](const SseEvent& ev, GenerationState& state) {
        return read_openai_chunk(ev, chat, state, m_s.name);
      },
      prompt_text, on_token, cancel);
}

Result<Generation> OpenAiBackend::chat(const ChatRequest& request, const TokenSink& on_token,
                                       const bus::CancelToken& cancel) {
  Json body{{"model", request.model}, {"messages", Json::array()}};
  std::string prompt_text;
  for (const auto& m : request.messages) {
    body["messages"].push_back({{"role", m.role}, {"content", m.content}});
    prompt_text += m.content;
  }
  put_openai_sampling(body, request.sampling);
  return run(m_base.with_path("/chat/completions"), std::move(body), prompt_text, true, on_token,
             cancel);
}

Result<Generation> OpenAiBackend::complete(const CompletionRequest& request,
                                           const TokenSink& on_token,
                                           const bus::CancelToken& cancel) {
  Json body{{"model", request.model}, {"prompt", request.prompt}};
  put_openai_sampling(body, request.sampling);
  return run(m_base.with_path("/completions"), std::move(body), request.prompt, false, on_token,
             cancel);
}

}  // namespace hn::services::llm::http
