// llama_engine.h — one GGUF model loaded in-process with llama.cpp, serving several
// generations at once (issue #14 §2; M04 §4): a scheduler thread owns the llama context and
// runs continuous batching — each running generation is one sequence (slot) with its own
// share of the KV cache, and every step decodes one shared batch holding the next token of
// each generating slot and a chunk of each new prompt.
//
// A caller's thread submits a request and then only waits for its pieces and hands them to
// its sink; a slow sink pauses its own slot (at most MAX_AHEAD pieces wait), never the
// others. Cancellation (the CancelToken, or the sink refusing a piece) ends the slot at the
// next step, so generation stops within one decode step (CONTRACT §4.1: 200 ms).
//
// Thread-safety: every public member is safe to call from any thread; generate() blocks
// its caller until the generation ends. Destruction waits for the scheduler; no generate()
// may be running then.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "bus/capability.h"
#include "core/error.h"

struct llama_model;
struct llama_context;
struct llama_vocab;
struct ggml_threadpool;

namespace hn::services::llm {

struct EngineOptions {
  std::filesystem::path model_path;
  int slots = 4;         // generations at once (max_concurrent)
  int ctx_per_slot = 0;  // tokens of context per generation; 0 = min(training ctx, 4096)
  int threads = 0;       // CPU threads for decoding; 0 = all cores
  int batch = 512;       // tokens per decode step
};

struct EngineSampling {
  int max_tokens = 1024;
  double temperature = 0.7;
  double top_p = 0.95;
  std::vector<std::string> stop;
  std::optional<std::uint32_t> seed;  // set: the same prompt gives the same text
};

enum class EngineFinish { end, max_tokens, stop_sequence, cancelled };

struct EngineResult {
  int tokens_in = 0;
  int tokens_out = 0;
  EngineFinish finish = EngineFinish::end;
};

// Receives text as it is generated (valid UTF-8, stop sequences never included); false
// stops the generation (the consumer went away).
using PieceSink = std::function<bool(std::string_view piece)>;

class LlamaEngine {
 public:
  static constexpr std::size_t MAX_AHEAD = 64;

  // Loads the model. not_found for a missing file, bad_request for a file llama.cpp cannot
  // load (not a GGUF, unknown architecture), internal_error when the context cannot be made.
  static Result<std::unique_ptr<LlamaEngine>> open(const EngineOptions& options);
  ~LlamaEngine();
  LlamaEngine(const LlamaEngine&) = delete;
  LlamaEngine& operator=(const LlamaEngine&) = delete;

  // general.name of the GGUF, else the file's stem.
  const std::string& model_name() const { return m_name; }
  // "q4_k_m", "f16", "f32", … from general.file_type; "unknown" when absent.
  const std::string& quant() const { return m_quant; }
  int ctx_per_slot() const { return m_ctx_per_slot; }
  int slots() const { return m_slots; }

  // The chat prompt: the GGUF's own template (llama_chat_apply_template; ChatML when the
  // model has none or one llama.cpp does not know), ending with the assistant's turn.
  Result<std::string> chat_prompt(
      const std::vector<std::pair<std::string, std::string>>& role_content) const;

  // Generates from `prompt` (special tokens in it are parsed when `parse_special`, as a
  // chat template's markers must be). bad_request when the prompt does not fit the slot's
  // context; internal_error when llama.cpp fails (the slot is then freed).
  Result<EngineResult> generate(std::string_view prompt, bool parse_special,
                                const EngineSampling& sampling, const PieceSink& sink,
                                const bus::CancelToken& cancel);

  struct Stats {
    std::uint64_t tokens_generated = 0;  // since open
    int active = 0;                      // slots generating or prefilling now
    int waiting = 0;                     // requests waiting for a slot
  };
  Stats stats() const;

 private:
  struct Request;
  struct Slot;
  LlamaEngine() = default;
  void run();
  void admit_locked();
  void step();
  void finish(Slot& slot, EngineFinish why, std::optional<Error> error = std::nullopt);
  bool has_work_locked() const;

  llama_model* m_model = nullptr;
  llama_context* m_ctx = nullptr;
  ggml_threadpool* m_pool = nullptr;  // the decode threads, kept for the engine's life
  const llama_vocab* m_vocab = nullptr;
  std::string m_name;
  std::string m_quant = "unknown";
  std::string m_template;  // empty: none in the GGUF
  int m_slots = 1;
  int m_ctx_per_slot = 0;
  int m_batch = 512;

  mutable std::mutex m_mutex;
  std::condition_variable m_wake;  // the scheduler: new request, cancel, a drained sink
  std::deque<std::shared_ptr<Request>> m_waiting;
  std::vector<Slot> m_slot_state;  // scheduler thread only (index = sequence id)
  std::atomic<std::uint64_t> m_tokens_generated{0};
  std::atomic<int> m_active{0};
  bool m_stopping = false;
  std::thread m_thread;
};

}  // namespace hn::services::llm
