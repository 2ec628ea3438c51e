// fake_llm_server.cpp — the vendors' wire formats over plain POSIX sockets.
#include "services/llm/fake_llm_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>

namespace hn::test {
namespace {

using Json = nlohmann::json;

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Reads one request (head + Content-Length body); false on a closed or bad connection.
bool read_request(int fd, FakeRequest& out) {
  std::string data;
  char buf[8192];
  std::size_t head_end = std::string::npos;
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    data.append(buf, static_cast<std::size_t>(n));
  }
  std::string head = data.substr(0, head_end);
  std::string body = data.substr(head_end + 4);
  auto line_end = head.find("\r\n");
  std::string first = head.substr(0, line_end);
  auto sp1 = first.find(' ');
  auto sp2 = first.find(' ', sp1 + 1);
  out.method = first.substr(0, sp1);
  out.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
  std::size_t pos = line_end;
  while (pos != std::string::npos && pos < head.size()) {
    auto next = head.find("\r\n", pos + 2);
    std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      out.headers[lower(line.substr(0, colon))] = value;
    }
    pos = next;
  }
  std::size_t length = 0;
  if (auto it = out.headers.find("content-length"); it != out.headers.end()) {
    length = std::stoul(it->second);
  }
  while (body.size() < length) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    body.append(buf, static_cast<std::size_t>(n));
  }
  out.body = body;
  return true;
}

// One streamed answer: the head, then each event as its own chunk.
class Reply {
 public:
  explicit Reply(int fd) : m_fd(fd) {}
  bool start(int status, const std::string& content_type,
             const std::vector<std::string>& extra_headers = {}) {
    std::string head = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " +
                       content_type + "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n";
    for (const auto& h : extra_headers) head += h + "\r\n";
    return write_all(m_fd, head + "\r\n");
  }
  bool chunk(const std::string& data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return write_all(m_fd, std::string(size) + data + "\r\n");
  }
  bool end() { return write_all(m_fd, "0\r\n\r\n"); }

 private:
  int m_fd;
};

void whole(int fd, int status, const Json& body, const std::vector<std::string>& extra = {}) {
  Reply r(fd);
  r.start(status, "application/json", extra);
  r.chunk(body.dump());
  r.end();
}

std::vector<std::string> tokens_for(const std::string& model, int max_tokens, bool slow) {
  std::vector<std::string> t = {"Hello", " from", " " + model};
  if (slow) {
    t.clear();
    for (int i = 0; i < 200; ++i) t.push_back(" t" + std::to_string(i));
  }
  if (max_tokens > 0 && static_cast<int>(t.size()) > max_tokens) t.resize(max_tokens);
  return t;
}

std::string sse(const Json& data) { return "data: " + data.dump() + "\n\n"; }
std::string sse(const std::string& event, const Json& data) {
  return "event: " + event + "\ndata: " + data.dump() + "\n\n";
}

}  // namespace

FakeLlmServer::FakeLlmServer() {
  m_listen_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(m_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(m_listen_fd, 64);
  socklen_t len = sizeof addr;
  ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  m_port = ntohs(addr.sin_port);
  m_accept = std::thread([this] { accept_loop(); });
}

FakeLlmServer::~FakeLlmServer() {
  m_stopping = true;
  ::shutdown(m_listen_fd, SHUT_RDWR);
  ::close(m_listen_fd);
  if (m_accept.joinable()) m_accept.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(m_mutex);
    threads.swap(m_threads);
  }
  for (auto& t : threads) t.join();
}

void FakeLlmServer::set_models(std::vector<std::string> models) {
  std::lock_guard lock(m_mutex);
  m_models = std::move(models);
}

std::vector<FakeRequest> FakeLlmServer::requests() const {
  std::lock_guard lock(m_mutex);
  return m_requests;
}

void FakeLlmServer::accept_loop() {
  while (!m_stopping) {
    int fd = ::accept(m_listen_fd, nullptr, nullptr);
    if (fd < 0) {
      if (m_stopping) return;
      continue;
    }
    std::lock_guard lock(m_mutex);
    m_threads.emplace_back([this, fd] {
      serve(fd);
      ::close(fd);
    });
  }
}

void FakeLlmServer::serve(int fd) {
  FakeRequest req;
  if (!read_request(fd, req)) return;
  std::vector<std::string> models;
  {
    std::lock_guard lock(m_mutex);
    m_requests.push_back(req);
    models = m_models;
  }
  Json body = Json::object();
  if (!req.body.empty()) body = Json::parse(req.body, nullptr, false);
  if (!body.is_object()) body = Json::object();
  const std::string path = req.target;
  const Mode mode = m_mode.load();
  const bool slow = mode == Mode::slow;
  const std::string model = body.value("model", std::string("fake-model"));
  const bool ollama = path.starts_with("/api/");
  const bool anthropic = path == "/v1/messages";
  const bool hf_generate = path.starts_with("/models/") && !path.ends_with("/chat/completions");

  if (req.method == "GET" && path == "/v1/models") {
    Json data = Json::array();
    for (const auto& m : models) data.push_back({{"id", m}, {"object", "model"}, {"owned_by", "me"}});
    return whole(fd, 200, {{"object", "list"}, {"data", data}});
  }
  if (req.method == "GET" && path == "/api/tags") {
    Json list = Json::array();
    for (const auto& m : models) {
      list.push_back({{"name", m}, {"model", m}, {"details", {{"quantization_level", "Q4_K_M"}}}});
    }
    return whole(fd, 200, {{"models", list}});
  }
  if (mode == Mode::error_status) {
    const int status = m_status.load();
    std::vector<std::string> extra;
    if (status == 429) extra.push_back("Retry-After: 7");
    if (ollama) return whole(fd, status, {{"error", "model \"" + model + "\" not found, try pulling it first"}}, extra);
    if (anthropic) {
      return whole(fd, status, {{"type", "error"},
                                {"error", {{"type", status == 429 ? "rate_limit_error" : "api_error"},
                                           {"message", "fake failure"}}}}, extra);
    }
    if (hf_generate) return whole(fd, status, {{"error", "fake failure"}, {"error_type", "generation"}}, extra);
    return whole(fd, status, {{"error", {{"message", "fake failure"}, {"type", "server_error"}, {"code", status}}}}, extra);
  }
  if (path == "/v1/embeddings" || path == "/api/embed") {
    Json input = body.value("input", Json::array());
    Json vectors = Json::array();
    for (std::size_t i = 0; i < input.size(); ++i) {
      vectors.push_back(Json::array({3.0 * static_cast<double>(i + 1), 4.0 * static_cast<double>(i + 1), 0.0}));
    }
    if (path == "/api/embed") {
      return whole(fd, 200, {{"model", model}, {"embeddings", vectors}, {"prompt_eval_count", 5}});
    }
    Json data = Json::array();
    for (std::size_t i = 0; i < vectors.size(); ++i) {
      data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", vectors[i]}});
    }
    return whole(fd, 200, {{"object", "list"}, {"data", data}, {"model", model},
                           {"usage", {{"prompt_tokens", 5}, {"total_tokens", 5}}}});
  }

  int max_tokens = 0;
  if (ollama) {
    max_tokens = body.value("options", Json::object()).value("num_predict", 0);
  } else if (hf_generate) {
    max_tokens = body.value("parameters", Json::object()).value("max_new_tokens", 0);
  } else {
    max_tokens = body.value("max_tokens", 0);
  }
  const auto tokens = tokens_for(model, max_tokens, slow);
  const bool capped = tokens.size() < 3 && !slow;
  const std::string finish = capped ? "length" : "stop";
  std::vector<std::string> events;
  if (ollama) {
    const bool chat = path == "/api/chat";
    for (const auto& t : tokens) {
      Json line{{"model", model}, {"created_at", "2026-01-01T00:00:00Z"}, {"done", false}};
      if (chat) line["message"] = {{"role", "assistant"}, {"content", t}};
      else line["response"] = t;
      events.push_back(line.dump() + "\n");
    }
    Json last{{"model", model}, {"created_at", "2026-01-01T00:00:01Z"}, {"done", true},
              {"done_reason", capped ? "length" : "stop"}, {"total_duration", 1000},
              {"prompt_eval_count", 11}, {"eval_count", tokens.size()}};
    if (chat) last["message"] = {{"role", "assistant"}, {"content", ""}};
    else last["response"] = "";
    events.push_back(last.dump() + "\n");
  } else if (anthropic) {
    events.push_back(sse("message_start", {{"type", "message_start"},
                                           {"message", {{"id", "msg_1"}, {"type", "message"}, {"role", "assistant"},
                                                        {"content", Json::array()}, {"model", model},
                                                        {"stop_reason", nullptr},
                                                        {"usage", {{"input_tokens", 13}, {"output_tokens", 1}}}}}}));
    events.push_back(sse("content_block_start", {{"type", "content_block_start"}, {"index", 0},
                                                 {"content_block", {{"type", "text"}, {"text", ""}}}}));
    events.push_back(sse("ping", {{"type", "ping"}}));
    for (const auto& t : tokens) {
      events.push_back(sse("content_block_delta", {{"type", "content_block_delta"}, {"index", 0},
                                                   {"delta", {{"type", "text_delta"}, {"text", t}}}}));
    }
    events.push_back(sse("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}}));
    events.push_back(sse("message_delta", {{"type", "message_delta"},
                                           {"delta", {{"stop_reason", capped ? "max_tokens" : "end_turn"},
                                                      {"stop_sequence", nullptr}}},
                                           {"usage", {{"output_tokens", tokens.size()}}}}));
    events.push_back(sse("message_stop", {{"type", "message_stop"}}));
  } else if (hf_generate) {
    std::string all;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      all += tokens[i];
      Json ev{{"index", i + 1}, {"token", {{"id", 100 + i}, {"text", tokens[i]}, {"logprob", -0.5}, {"special", false}}},
              {"generated_text", nullptr}, {"details", nullptr}};
      if (i + 1 == tokens.size()) {
        ev["generated_text"] = all;
        ev["details"] = {{"finish_reason", capped ? "length" : "eos_token"},
                         {"generated_tokens", tokens.size()}, {"seed", nullptr}};
      }
      events.push_back("data:" + ev.dump() + "\n\n");
    }
  } else {
    const bool chat = path.ends_with("/chat/completions");
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      Json choice{{"index", 0}, {"finish_reason", nullptr}};
      if (chat) {
        choice["delta"] = i == 0 ? Json{{"role", "assistant"}, {"content", tokens[i]}} : Json{{"content", tokens[i]}};
      } else {
        choice["text"] = tokens[i];
      }
      events.push_back(sse({{"id", "cmpl-1"}, {"object", chat ? "chat.completion.chunk" : "text_completion"},
                            {"created", 1700000000}, {"model", model}, {"choices", Json::array({choice})}}));
    }
    Json last_choice{{"index", 0}, {"finish_reason", finish}};
    if (chat) last_choice["delta"] = Json::object(); else last_choice["text"] = "";
    events.push_back(sse({{"id", "cmpl-1"}, {"object", chat ? "chat.completion.chunk" : "text_completion"},
                          {"created", 1700000000}, {"model", model}, {"choices", Json::array({last_choice})}}));
    events.push_back(sse({{"id", "cmpl-1"}, {"object", chat ? "chat.completion.chunk" : "text_completion"},
                          {"created", 1700000000}, {"model", model}, {"choices", Json::array()},
                          {"usage", {{"prompt_tokens", 9}, {"completion_tokens", tokens.size()},
                                     {"total_tokens", 9 + tokens.size()}}}}));
    events.push_back("data: [DONE]\n\n");
  }

  Reply r(fd);
  if (!r.start(200, ollama ? "application/x-ndjson" : "text/event-stream")) return;
  int sent = 0;
  for (const auto& ev : events) {
    if (mode == Mode::die_mid_stream && sent == 2) {
      ::shutdown(fd, SHUT_RDWR);  // cut: no terminating chunk
      return;
    }
    if (!r.chunk(ev)) return;
    ++sent;
    if (slow) {
      m_slow_sent.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  r.end();
}

}  // namespace hn::test
