// http_backend.cpp — the HTTP backends' shared health and model-list probe.
#include "services/llm/http/http_backend.h"

namespace hn::services::llm::http {

HttpBackend::HttpBackend(HttpBackendSettings settings, std::string kind)
    : m_s(std::move(settings)), m_kind(kind.empty() ? m_s.type : std::move(kind)) {}

Json HttpBackend::health() const {
  Json j = m_health.to_json();
  j["url"] = m_s.url.to_string();
  return j;
}

Result<Json> HttpBackend::list_models(const Url& url, std::string_view what) {
  HttpBackendSettings probe = m_s;
  probe.idle_timeout = std::chrono::milliseconds(10000);
  auto listed = exchange_json(probe, "GET", url, {}, nullptr, bus::CancelToken());
  if (!listed) {
    m_health.set_error(listed.error().message);
    return make_error(ErrorCode::config_error, "llm backend '" + m_s.name +
                                                   "': no model configured and " +
                                                   std::string(what) +
                                                   " failed: " + listed.error().message);
  }
  return listed;
}

Result<Generation> HttpBackend::stream(const Url& url, const httpc::Headers& headers,
                                       const Json& body, StreamFormat format,
                                       const EventReader& read, std::string_view prompt_text,
                                       const TokenSink& on_token, const bus::CancelToken& cancel) {
  GenerationState state(on_token);
  StreamSinks sinks;
  if (format == StreamFormat::sse) {
    sinks.on_event = [&](const SseEvent& ev) { return read(ev, state); };
  } else {
    sinks.on_line = [&](std::string_view line) { return read(SseEvent{"", std::string(line)}, state); };
  }
  auto exchanged = post_stream(m_s, url, headers, body, format, sinks, cancel);
  m_health.record(exchanged);
  const bool exact = state.result().usage_exact;
  auto out = finish_generation(std::move(exchanged), state, cancel, m_s.name, prompt_text);
  if (out && exact) out->usage_exact = true;
  return out;
}

BackendModel HttpBackend::model_named(std::string name, std::string quant) const {
  return BackendModel{std::move(name), std::move(quant), m_s.ctx, {"text"}, m_s.requires_internet};
}

}  // namespace hn::services::llm::http
