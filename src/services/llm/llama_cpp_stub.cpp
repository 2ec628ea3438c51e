// llama_cpp_stub.cpp — stands in for the in-process llama.cpp backend until branch h/llama
// lands its llama_cpp_backend.cpp (which replaces this file in CMakeLists.txt): a
// `llama_cpp` entry is then reported as not available and the other backends still start.
#include "services/llm/backend.h"

namespace hn::services::llm {

Result<std::unique_ptr<LlmBackend>> make_llama_cpp_backend(const config::LlmBackendConfig& cfg) {
  return make_error(ErrorCode::not_implemented,
                    "llm backend '" + cfg.name + "': this build has no in-process llama.cpp");
}

}  // namespace hn::services::llm
