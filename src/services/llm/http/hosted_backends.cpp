// hosted_backends.cpp — Anthropic Messages SSE and the Hugging Face Inference API.
#include "services/llm/http/hosted_backends.h"

#include "services/llm/http/openai_backend.h"

namespace hn::services::llm::http {
namespace {

constexpr const char* ANTHROPIC_VERSION = "2023-06-01";
constexpr const char* ANTHROPIC_DEFAULT_MODEL = "claude-sonnet-4-6";

// Reads one Messages API event (type from the SSE event name, else the data's "type").
Status read_anthropic_event(const SseEvent& ev, GenerationState& state, std::string_view backend) {
  if (ev.event == "ping" || ev.event == "content_block_start" || ev.event == "content_block_stop") {
    return {};
  }
  HN_TRY_ASSIGN(auto j, parse_backend_json(ev.data, backend));
  if (!j.is_object()) return {};
  const std::string type = ev.event.empty() && field(j, "type").is_string() ? field(j, "type").get<std::string>() : ev.event;
  Generation& g = state.result();
  if (type == "error") return failed_mid_stream(backend, ev.data);
  if (type == "message_start") {
    const Json& in = field(field(field(j, "message"), "usage"), "input_tokens");
    if (in.is_number_integer()) {
      g.tokens_in = in.get<int>();
      g.usage_exact = true;
    }
  } else if (type == "content_block_delta") {
    const Json& delta = field(j, "delta");
    if (field(delta, "type") == "text_delta" && field(delta, "text").is_string()) {
      HN_TRY(state.emit(field(delta, "text").get_ref<const std::string&>()));
    }
  } else if (type == "message_delta") {
    const Json& stop = field(field(j, "delta"), "stop_reason");
    if (stop.is_string()) {
      const auto& reason = stop.get_ref<const std::string&>();
      g.stop_reason = reason == "max_tokens"      ? StopReason::max_tokens
                      : reason == "stop_sequence" ? StopReason::stop_sequence
                                                  : StopReason::end;
    }
    if (const Json& out = field(field(j, "usage"), "output_tokens"); out.is_number_integer()) {
      g.tokens_out = out.get<int>();
    }
  } else if (type == "message_stop") {
    state.finished = true;
  }
  return {};
}

}  // namespace

Result<Generation> AnthropicBackend::messages(const std::string& model,
                                              const std::vector<ChatMessage>& turns,
                                              const Sampling& sampling, const TokenSink& on_token,
                                              const bus::CancelToken& cancel) {
  Json body{{"model", model}, {"max_tokens", sampling.max_tokens}, {"messages", Json::array()},
            {"stream", true}, {"temperature", sampling.temperature}};
  std::string system;
  std::string prompt_text;
  for (const auto& m : turns) {
    prompt_text += m.content;
    if (m.role == "system") {
      system += (system.empty() ? "" : "\n") + m.content;
      continue;
    }
    body["messages"].push_back({{"role", m.role}, {"content", m.content}});
  }
  if (!system.empty()) body["system"] = system;
  if (!sampling.stop.empty()) body["stop_sequences"] = sampling.stop;
  const httpc::Headers headers = {{"x-api-key", m_s.api_key},
                                  {"anthropic-version", ANTHROPIC_VERSION}};
  return stream(
      m_s.url.with_path("/v1/messages"), headers, body, StreamFormat::sse,
      [&](const SseEvent& ev, GenerationState& state) {
        return read_anthropic_event(ev, state, m_s.name);
      },
      prompt_text, on_token, cancel);
}

AnthropicBackend::AnthropicBackend(HttpBackendSettings settings)
    : HttpBackend(std::move(settings), "anthropic_api") {
  m_models.push_back(model_named(m_s.model.value_or(ANTHROPIC_DEFAULT_MODEL), "api"));
}

Result<Generation> AnthropicBackend::chat(const ChatRequest& request, const TokenSink& on_token,
                                          const bus::CancelToken& cancel) {
  return messages(request.model, request.messages, request.sampling, on_token, cancel);
}

Result<Generation> AnthropicBackend::complete(const CompletionRequest& request,
                                              const TokenSink& on_token,
                                              const bus::CancelToken& cancel) {
  return messages(request.model, {{"user", request.prompt}}, request.sampling, on_token, cancel);
}

HfApiBackend::HfApiBackend(HttpBackendSettings settings) : HttpBackend(std::move(settings), "hf_api") {
  if (m_s.model) m_models.push_back(model_named(*m_s.model, "api"));
}

Result<Generation> HfApiBackend::chat(const ChatRequest& request, const TokenSink& on_token,
                                      const bus::CancelToken& cancel) {
  Json body{{"model", request.model}, {"messages", Json::array()}, {"stream", true}};
  std::string prompt_text;
  for (const auto& m : request.messages) {
    body["messages"].push_back({{"role", m.role}, {"content", m.content}});
    prompt_text += m.content;
  }
  put_openai_sampling(body, request.sampling);
  return stream(
      m_s.url.with_path("/models/" + request.model + "/v1/chat/completions"), {}, body,
      StreamFormat::sse,
      [&](const SseEvent& ev, GenerationState& state) {
        return read_openai_chunk(ev, true, state, m_s.name);
      },
      prompt_text, on_token, cancel);
}

Result<Generation> HfApiBackend::complete(const CompletionRequest& request,
                                          const TokenSink& on_token,
                                          const bus::CancelToken& cancel) {
  const Sampling& s = request.sampling;
  Json params{{"max_new_tokens", s.max_tokens}, {"top_p", s.top_p}, {"details", true},
              {"return_full_text", false}};
  // TGI refuses temperature 0; it means greedy there.
  if (s.temperature > 0) params["temperature"] = s.temperature; else params["do_sample"] = false;
  if (!s.stop.empty()) params["stop"] = s.stop;
  if (s.seed) params["seed"] = *s.seed;
  Json body{{"inputs", request.prompt}, {"parameters", params}, {"stream", true}};
  auto read_event = [&](const SseEvent& ev, GenerationState& state) -> Status {
    HN_TRY_ASSIGN(auto j, parse_backend_json(ev.data, m_s.name));
    if (!j.is_object()) return {};
    if (j.contains("error")) return failed_mid_stream(m_s.name, ev.data);
    const Json& token = field(j, "token");
    if (field(token, "special") != true && field(token, "text").is_string()) {
      std::optional<double> logprob;
      if (field(token, "logprob").is_number()) logprob = field(token, "logprob").get<double>();
      HN_TRY(state.emit(field(token, "text").get_ref<const std::string&>(), logprob));
    }
    if (const Json& d = field(j, "details"); d.is_object()) {
      const Json& fr = field(d, "finish_reason");
      const std::string reason = fr.is_string() ? fr.get<std::string>() : "eos_token";
      Generation& g = state.result();
      g.stop_reason = reason == "length"          ? StopReason::max_tokens
                      : reason == "stop_sequence" ? StopReason::stop_sequence
                                                  : StopReason::end;
      if (field(d, "generated_tokens").is_number_integer()) {
        g.tokens_out = field(d, "generated_tokens").get<int>();
      }
      state.finished = true;
    } else if (field(j, "generated_text").is_string()) {
      state.finished = true;
    }
    return {};
  };
  return stream(m_s.url.with_path("/models/" + request.model), {}, body, StreamFormat::sse,
                read_event, request.prompt, on_token, cancel);
}

}  // namespace hn::services::llm::http
