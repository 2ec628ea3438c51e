// fake_llm_server.h — a local HTTP server that speaks the inference vendors' wire formats
// (written from their API documents), for the llm backend tests and the functional tests:
//   OpenAI-compatible  POST /v1/chat/completions, /v1/completions (SSE "data:" chunks, a
//                      last chunk with finish_reason and usage, "data: [DONE]"), GET
//                      /v1/models, POST /v1/embeddings
//   Ollama             POST /api/chat, /api/generate (NDJSON, a last "done": true line with
//                      done_reason, prompt_eval_count, eval_count), GET /api/tags, POST /api/embed
//   Anthropic          POST /v1/messages (SSE event types message_start, content_block_start,
//                      ping, content_block_delta/text_delta, content_block_stop,
//                      message_delta, message_stop)
//   HF Inference API   POST /models/<model> (TGI SSE: token, generated_text, details),
//                      POST /models/<model>/v1/chat/completions (OpenAI SSE)
// Every answer streams the tokens "Hello", " from", " <model>" (plus max_tokens capping),
// chunked, one write per event. Modes make it fail the way real servers do.
//
// Thread-safety: one accept thread and one thread per connection; the mode setters and
// requests() are safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace hn::test {

struct FakeRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
};

class FakeLlmServer {
 public:
  enum class Mode {
    normal,
    die_mid_stream,  // two events, then the connection is cut (no chunked terminator)
    error_status,    // answers status_code with the vendor's error body
    slow,            // 200 tokens, 20 ms apart (for cancellation)
  };

  FakeLlmServer();
  ~FakeLlmServer();
  FakeLlmServer(const FakeLlmServer&) = delete;
  FakeLlmServer& operator=(const FakeLlmServer&) = delete;

  std::uint16_t port() const { return m_port; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  void set_mode(Mode mode, int status_code = 500) {
    m_mode = mode;
    m_status = status_code;
  }
  // The model names the discovery routes list (/v1/models, /api/tags).
  void set_models(std::vector<std::string> models);
  std::vector<FakeRequest> requests() const;
  // Tokens written by slow mode before the client went away.
  int slow_tokens_sent() const { return m_slow_sent.load(); }

 private:
  void accept_loop();
  void serve(int fd);

  int m_listen_fd = -1;
  std::uint16_t m_port = 0;
  std::atomic<bool> m_stopping{false};
  std::atomic<Mode> m_mode{Mode::normal};
  std::atomic<int> m_status{500};
  std::atomic<int> m_slow_sent{0};
  mutable std::mutex m_mutex;
  std::vector<FakeRequest> m_requests;
  std::vector<std::string> m_models = {"fake-model"};
  std::vector<std::thread> m_threads;
  std::thread m_accept;
};

}  // namespace hn::test
