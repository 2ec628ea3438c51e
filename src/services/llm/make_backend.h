// make_backend.h — builds the LlmBackend a [[llm.backends]] entry names (M04 §3.2):
// llama_cpp → the in-process backend; ollama → Ollama's native API; hf_api, anthropic_api
// → the hosted APIs; lmstudio, vllm, llama_server, nemotron, openbmb → the OpenAI-
// compatible backend. An error names the entry and what is wrong with it.
//
// Thread-safety: pure function.
#pragma once

#include <functional>
#include <memory>

#include "config/config.h"
#include "services/llm/backend.h"

namespace hn::services::llm {

using BackendFactory =
    std::function<Result<std::unique_ptr<LlmBackend>>(const config::LlmBackendConfig&)>;

Result<std::unique_ptr<LlmBackend>> make_backend(const config::LlmBackendConfig& cfg);

}  // namespace hn::services::llm
