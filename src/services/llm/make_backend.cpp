// make_backend.cpp — [[llm.backends]] entry → backend.
#include "services/llm/make_backend.h"

#include "services/llm/http/hosted_backends.h"
#include "services/llm/http/ollama_backend.h"
#include "services/llm/http/openai_backend.h"

namespace hn::services::llm {

Result<std::unique_ptr<LlmBackend>> make_backend(const config::LlmBackendConfig& cfg) {
  const std::string& type = cfg.type();
  if (type == "llama_cpp") return make_llama_cpp_backend(cfg);
  HN_TRY_ASSIGN(auto settings, http::settings_from_config(cfg));
  if (type == "ollama") return std::unique_ptr<LlmBackend>(new http::OllamaBackend(std::move(settings)));
  if (type == "anthropic_api") {
    return std::unique_ptr<LlmBackend>(new http::AnthropicBackend(std::move(settings)));
  }
  if (type == "hf_api") {
    if (!settings.model) {
      return make_error(ErrorCode::config_error, "llm backend '" + cfg.name + "' (hf_api): no model");
    }
    return std::unique_ptr<LlmBackend>(new http::HfApiBackend(std::move(settings)));
  }
  if (type == "nemotron" && !settings.model) settings.model = "nvidia/llama-3.1-nemotron-70b-instruct";
  if (type == "openbmb" && !settings.model) settings.model = "openbmb/MiniCPM4-8B";
  if (type == "lmstudio" || type == "vllm" || type == "llama_server" || type == "nemotron" ||
      type == "openbmb") {
    return std::unique_ptr<LlmBackend>(new http::OpenAiBackend(std::move(settings)));
  }
  return make_error(ErrorCode::config_error,
                    "llm backend '" + cfg.name + "': unknown type '" + type + "'");
}

}  // namespace hn::services::llm
