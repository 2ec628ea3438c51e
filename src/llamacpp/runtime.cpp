// runtime.cpp — see runtime.h.
#include "llamacpp/runtime.h"

#include <mutex>
#include <string>

#include "llama.h"
#include "observability/logging.h"

namespace hn::llamacpp {
namespace {

void forward_llama_log(ggml_log_level level, const char* text, void* /*user*/) {
  static const observability::Logger log("llama_cpp");
  thread_local std::string line;
  thread_local ggml_log_level line_level = GGML_LOG_LEVEL_NONE;
  if (level != GGML_LOG_LEVEL_CONT) line_level = level;
  if (line_level != GGML_LOG_LEVEL_WARN && line_level != GGML_LOG_LEVEL_ERROR) return;
  line += text;
  if (line.empty() || line.back() != '\n') return;
  line.pop_back();
  if (line_level == GGML_LOG_LEVEL_ERROR) {
    log.error(line);
  } else {
    log.warning(line);
  }
  line.clear();
}

}  // namespace

void init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    llama_log_set(forward_llama_log, nullptr);
    llama_backend_init();
  });
}

}  // namespace hn::llamacpp
