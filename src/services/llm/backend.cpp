// backend.cpp — the small shared pieces of the LlmBackend interface.
#include "services/llm/backend.h"

namespace hn::services::llm {

std::string_view to_string(StopReason reason) {
  switch (reason) {
    case StopReason::end: return "end";
    case StopReason::max_tokens: return "max_tokens";
    case StopReason::stop_sequence: return "stop_sequence";
    case StopReason::cancelled: return "cancelled";
  }
  return "end";
}

}  // namespace hn::services::llm
