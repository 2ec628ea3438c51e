// common.cpp — settings, streamed POSTs, JSON exchanges and usage accounting for HTTP backends.
#include "services/llm/http/common.h"

#include <cstdlib>

#include <algorithm>
#include <cmath>

namespace hn::services::llm::http {
namespace {

bool is_2xx(int status) { return status >= 200 && status < 300; }

// Error bodies are kept up to this size (they are for messages only).
constexpr std::size_t MAX_ERROR_BODY = 64 * 1024;

std::vector<std::pair<std::string, std::string>> with_auth(
    const HttpBackendSettings& s, std::vector<std::pair<std::string, std::string>> headers) {
  bool has_auth = std::any_of(headers.begin(), headers.end(), [](const auto& h) {
    return h.first == "x-api-key" || h.first == "Authorization";
  });
  if (!s.api_key.empty() && !has_auth) headers.emplace_back("Authorization", "Bearer " + s.api_key);
  return headers;
}

}  // namespace

std::string_view default_url(std::string_view type) {
  if (type == "ollama") return "http://127.0.0.1:11434";
  if (type == "lmstudio") return "http://127.0.0.1:1234";
  if (type == "vllm") return "http://127.0.0.1:8000";
  if (type == "llama_server") return "http://127.0.0.1:8080";
  if (type == "openbmb") return "http://127.0.0.1:8000";
  if (type == "nemotron") return "https://integrate.api.nvidia.com/v1";
  if (type == "hf_api") return "https://api-inference.huggingface.co";
  if (type == "anthropic_api") return "https://api.anthropic.com";
  return "";
}

Result<HttpBackendSettings> settings_from_config(const config::LlmBackendConfig& cfg) {
  HttpBackendSettings s;
  s.name = cfg.name;
  s.type = cfg.type();
  const std::string prefix = "llm backend '" + cfg.name + "' (" + s.type + "): ";
  std::string url_text = cfg.url && !cfg.url->empty() ? *cfg.url : std::string(default_url(s.type));
  if (url_text.empty()) return make_error(ErrorCode::config_error, prefix + "no url configured");
  auto url = parse_url(url_text);
  if (!url) return make_error(ErrorCode::config_error, prefix + "bad url: " + url.error().message);
  s.url = *url;
  if (cfg.model && !cfg.model->empty()) s.model = *cfg.model;
  std::optional<std::string> key_env = cfg.api_key_env;
  if (!key_env) {
    if (s.type == "anthropic_api") key_env = "ANTHROPIC_API_KEY";
    if (s.type == "hf_api") key_env = "HF_TOKEN";
    if (s.type == "nemotron" && s.url.host == "integrate.api.nvidia.com") key_env = "NVIDIA_API_KEY";
  }
  if (key_env) {
    const char* value = std::getenv(key_env->c_str());
    if (value == nullptr || *value == '\0') {
      return make_error(ErrorCode::config_error,
                        prefix + "the API key variable " + *key_env + " is not set");
    }
    s.api_key = value;
  }
  s.max_concurrent = cfg.max_concurrent;
  s.ctx = cfg.ctx;
  // Hosted APIs need the internet (M04 §4.3); a NIM endpoint on one's own host does not.
  s.requires_internet = s.type == "anthropic_api" || s.type == "hf_api" ||
                        (s.type == "nemotron" && s.url.host == "integrate.api.nvidia.com");
  return s;
}

Status post_stream(const HttpBackendSettings& s, const Url& url,
                   const std::vector<std::pair<std::string, std::string>>& headers,
                   const Json& body, StreamFormat format, const StreamSinks& sinks,
                   const bus::CancelToken& cancel) {
  httpc::Request req;
  req.method = "POST";
  req.url = url;
  req.headers = with_auth(s, headers);
  req.headers.emplace_back("Content-Type", "application/json");
  req.headers.emplace_back("Accept",
                           format == StreamFormat::sse ? "text/event-stream" : "application/x-ndjson");
  req.body = body.dump();
  req.connect_timeout = s.connect_timeout;
  req.idle_timeout = s.idle_timeout;
  int status = 0;
  httpc::ResponseHead head_copy;
  std::string error_body;
  SseParser sse(sinks.on_event ? sinks.on_event : [](const SseEvent&) -> Status { return {}; });
  LineSplitter lines(sinks.on_line ? sinks.on_line : [](std::string_view) -> Status { return {}; });
  httpc::ResponseHandler handler;
  handler.on_head = [&](const httpc::ResponseHead& head) -> Status {
    status = head.status;
    head_copy = head;
    return {};
  };
  handler.on_body = [&](std::string_view piece) -> Status {
    if (!is_2xx(status)) {
      if (error_body.size() < MAX_ERROR_BODY) error_body.append(piece.substr(0, MAX_ERROR_BODY));
      return {};
    }
    return format == StreamFormat::sse ? sse.feed(piece) : lines.feed(piece);
  };
  auto exchanged = httpc::exchange(req, handler, cancel);
  if (status != 0 && !is_2xx(status)) {
    return httpc::error_from_http(head_copy, error_body, backend_label(s.name));
  }
  HN_TRY(exchanged);
  return format == StreamFormat::sse ? sse.finish() : lines.finish();
}

Result<Json> exchange_json(const HttpBackendSettings& s, const std::string& method, const Url& url,
                           const std::vector<std::pair<std::string, std::string>>& headers,
                           const Json& body, const bus::CancelToken& cancel) {
  httpc::Request req;
  req.method = method;
  req.url = url;
  req.headers = with_auth(s, headers);
  if (!body.is_null()) req.body = body.dump();
  req.connect_timeout = s.connect_timeout;
  req.idle_timeout = s.idle_timeout;
  return httpc::fetch_json(std::move(req), cancel, backend_label(s.name));
}

const Json& field(const Json& j, std::string_view key) {
  static const Json null_json;
  if (!j.is_object()) return null_json;
  auto it = j.find(key);
  return it == j.end() ? null_json : *it;
}

int count_tokens_approx(std::string_view text) {
  if (text.empty()) return 0;
  return std::max(1, static_cast<int>(std::lround(static_cast<double>(text.size()) / 3.5)));
}

Status GenerationState::emit(std::string_view text, std::optional<double> logprob) {
  if (text.empty()) return {};
  m_gen.text.append(text);
  ++m_gen.tokens_out;
  return m_sink(Token{std::string(text), logprob});
}

Result<Generation> finish_generation(Status exchanged, GenerationState& state,
                                     const bus::CancelToken& cancel, std::string_view backend,
                                     std::string_view prompt_text) {
  Generation& g = state.result();
  if (cancel.is_cancelled()) {
    g.stop_reason = StopReason::cancelled;
  } else if (!exchanged) {
    return exchanged.error();
  } else if (!state.finished) {
    return make_error(ErrorCode::internal_error,
                      "backend '" + std::string(backend) + "': the stream ended early");
  }
  if (!g.usage_exact) g.tokens_in = count_tokens_approx(prompt_text);
  return g;
}

void BackendHealth::record(const Status& outcome) {
  std::lock_guard lock(m_mutex);
  ++m_calls;
  if (outcome) {
    m_ok = true;
    return;
  }
  // A caller's own cancel or a bad request says nothing about the backend.
  const ErrorCode code = outcome.error().code;
  if (code == ErrorCode::bad_request || code == ErrorCode::not_found ||
      (field(outcome.error().detail, "cancelled") == true)) {
    return;
  }
  ++m_failures;
  m_ok = false;
  m_last_error = outcome.error().message;
}

void BackendHealth::set_error(std::string message) {
  std::lock_guard lock(m_mutex);
  m_ok = false;
  m_last_error = std::move(message);
}

Json BackendHealth::to_json() const {
  std::lock_guard lock(m_mutex);
  Json j{{"ok", m_ok}, {"calls", m_calls}, {"failures", m_failures}};
  if (!m_last_error.empty()) j["last_error"] = m_last_error;
  return j;
}

}  // namespace hn::services::llm::http
