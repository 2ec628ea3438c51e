// openai_api.cpp — the OpenAI-compatible listener: POSIX sockets with timeouts, Beast's
// parser for the requests, a queue of its own for the connections, bus calls per route.
#include "node/openai_api.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include "core/ulid.h"
#include "core/work_queue.h"
#include "observability/logging.h"

namespace hn::node {
namespace {

namespace bhttp = boost::beast::http;

constexpr std::size_t MAX_REQUEST_BODY = 16 * 1024 * 1024;
constexpr int IO_TIMEOUT_SECONDS = 30;

const observability::Logger& api_log() {
  static const observability::Logger log = observability::get_logger("node.openai_api");
  return log;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 429: return "Too Many Requests";
    case 501: return "Not Implemented";
    case 504: return "Gateway Timeout";
    default: return status >= 500 ? "Internal Server Error" : "Error";
  }
}

bool send_json(int fd, int status, const Json& body, bool keep_alive) {
  const std::string text = body.dump();
  return send_all(fd, "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
                          "\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(text.size()) +
                          (keep_alive ? "\r\nConnection: keep-alive" : "\r\nConnection: close") +
                          "\r\n\r\n" + text);
}

bool send_error(int fd, const Error& e, bool keep_alive) {
  auto [status, body] = openai_error(e);
  return send_json(fd, status, body, keep_alive);
}

std::string finish_reason(const Json& meta) {
  const Json& r = meta.is_object() && meta.contains("stop_reason") ? meta["stop_reason"] : Json();
  return r == "max_tokens" ? "length" : "stop";
}

Json usage(const Json& meta) {
  const int in = meta.is_object() ? meta.value("tokens_in", 0) : 0;
  const int out = meta.is_object() ? meta.value("tokens_out", 0) : 0;
  return Json{{"prompt_tokens", in}, {"completion_tokens", out}, {"total_tokens", in + out}};
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// float32 little-endian, base64 (the `openai` clients ask for this by default).
std::string base64_floats(const Json& vector) {
  std::string raw;
  raw.reserve(vector.size() * 4);
  for (const auto& x : vector) {
    float f = x.is_number() ? x.get<float>() : 0.0f;
    char bytes[4];
    std::memcpy(bytes, &f, 4);
    raw.append(bytes, 4);
  }
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()),
                                static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost" || host.starts_with("127.");
}

struct OpenAiApi::Impl {
  bus::CapabilityBus& bus;
  OpenAiApiOptions options;
  int listen_fd = -1;
  std::uint16_t port = 0;
  std::atomic<bool> stopping{false};
  std::unique_ptr<WorkQueue> queue;
  std::thread acceptor;
  std::mutex conns_mutex;
  std::set<int> conns;

  Impl(bus::CapabilityBus& b, OpenAiApiOptions o) : bus(b), options(std::move(o)) {}

  void accept_loop();
  void serve(int fd);
  // One request; false: close the connection.
  bool handle(int fd, const bhttp::request<bhttp::string_body>& req);
  bool route_generate(int fd, const std::string& capability, Json body, bool chat, bool keep_alive);
  bool route_embeddings(int fd, const Json& request, Json body, bool keep_alive);
};

void OpenAiApi::Impl::accept_loop() {
  while (!stopping) {
    int fd = ::accept(listen_fd, nullptr, nullptr);
    if (fd < 0) {
      if (stopping) return;
      continue;
    }
    timeval tv{IO_TIMEOUT_SECONDS, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    {
      std::lock_guard lock(conns_mutex);
      conns.insert(fd);
    }
    if (!queue->try_post([this, fd] {
          serve(fd);
          std::lock_guard lock(conns_mutex);
          conns.erase(fd);
          ::close(fd);
        })) {
      send_error(fd, make_error(ErrorCode::capacity_exceeded, "the OpenAI API is busy; retry shortly"),
                 false);
      std::lock_guard lock(conns_mutex);
      conns.erase(fd);
      ::close(fd);
    }
  }
}

void OpenAiApi::Impl::serve(int fd) {
  std::string buffer;
  char chunk[16384];
  while (!stopping) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(MAX_REQUEST_BODY);
    parser.header_limit(64 * 1024);
    parser.eager(true);
    boost::beast::error_code ec;
    while (!parser.is_done()) {
      if (!buffer.empty()) {
        const auto used = parser.put(boost::asio::buffer(buffer), ec);
        buffer.erase(0, used);
        if (ec == bhttp::error::need_more) {
          ec = {};
        } else if (ec) {
          send_error(fd, make_error(ErrorCode::bad_request, "malformed HTTP request: " + ec.message()), false);
          return;
        }
        if (parser.is_done()) break;
        if (used > 0) continue;
      }
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;  // closed, or idle past the timeout
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    if (!handle(fd, parser.get())) return;
  }
}

bool OpenAiApi::Impl::handle(int fd, const bhttp::request<bhttp::string_body>& req) {
  const bool keep_alive = req.keep_alive();
  if (!options.bearer_token.empty()) {
    const auto auth = req[bhttp::field::authorization];
    if (std::string_view(auth.data(), auth.size()) != "Bearer " + options.bearer_token) {
      return send_error(fd, make_error(ErrorCode::unauthorized, "a valid bearer token is required"),
                        keep_alive) && keep_alive;
    }
  }
  std::string target(req.target());
  if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
  if (req.method() == bhttp::verb::get && target == "/v1/models") {
    return send_json(fd, 200, openai_models(bus.registry().all()), keep_alive) && keep_alive;
  }
  const bool known = target == "/v1/chat/completions" || target == "/v1/completions" ||
                     target == "/v1/embeddings";
  if (!known) {
    return send_error(fd, make_error(ErrorCode::not_found, "no route " + target, Json{{"param", nullptr}}),
                      keep_alive) && keep_alive;
  }
  if (req.method() != bhttp::verb::post) {
    return send_json(fd, 405, {{"error", {{"message", "use POST"}, {"type", "invalid_request_error"},
                                          {"param", nullptr}, {"code", "method_not_allowed"}}}},
                     keep_alive) && keep_alive;
  }
  Json request = Json::parse(req.body(), nullptr, false);
  if (request.is_discarded()) {
    return send_error(fd, make_error(ErrorCode::bad_request, "the body is not valid JSON"), keep_alive) &&
           keep_alive;
  }
  Result<Json> body = target == "/v1/chat/completions" ? chat_body_from_openai(request)
                      : target == "/v1/completions"    ? completion_body_from_openai(request)
                                                       : embed_body_from_openai(request);
  if (!body) return send_error(fd, body.error(), keep_alive) && keep_alive;
  if (target == "/v1/embeddings") return route_embeddings(fd, request, std::move(*body), keep_alive);
  const bool chat = target == "/v1/chat/completions";
  return route_generate(fd, chat ? "llm.chat" : "llm.complete", std::move(*body), chat, keep_alive);
}

bool OpenAiApi::Impl::route_generate(int fd, const std::string& capability, Json body, bool chat,
                                     bool keep_alive) {
  const std::string model = body["params"]["model"].get<std::string>();
  const bool stream = body["input"]["stream"].get<bool>();
  const std::string id = (chat ? "chatcmpl-" : "cmpl-") + new_ulid();
  const std::int64_t created = now_seconds();
  if (!stream) {
    auto r = bus.call(capability, Version{1, 0}, body);
    if (!r) return send_error(fd, r.error(), keep_alive) && keep_alive;
    const Json& meta = (*r)["meta"];
    Json choice{{"index", 0}, {"finish_reason", finish_reason(meta)}, {"logprobs", nullptr}};
    if (chat) {
      choice["message"] = {{"role", "assistant"}, {"content", (*r)["output"]["message"]["content"]}};
    } else {
      choice["text"] = (*r)["output"]["text"];
    }
    return send_json(fd, 200,
                     {{"id", id}, {"object", chat ? "chat.completion" : "text_completion"},
                      {"created", created}, {"model", model}, {"choices", Json::array({choice})},
                      {"usage", usage(meta)}},
                     keep_alive) && keep_alive;
  }
  // Streamed: frames arrive on the producer's thread; this thread writes them.
  struct Shared {
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<bus::StreamFrame> frames;
    std::optional<Result<Json>> done;
  };
  auto shared = std::make_shared<Shared>();
  bus::CallOptions opts;
  bus::CancelToken cancel = opts.cancel;
  bus.async_stream(
      capability, Version{1, 0}, body,
      [shared](bus::StreamFrame f) -> Status {
        std::lock_guard lock(shared->mutex);
        shared->frames.push_back(std::move(f));
        shared->cv.notify_one();
        return {};
      },
      opts,
      [shared](Result<Json> r) {
        std::lock_guard lock(shared->mutex);
        shared->done = std::move(r);
        shared->cv.notify_one();
      });
  const std::string object = chat ? "chat.completion.chunk" : "text_completion";
  auto chunk = [&](Json choice) {
    return "data: " + Json{{"id", id}, {"object", object}, {"created", created}, {"model", model},
                           {"choices", Json::array({std::move(choice)})}}.dump() + "\n\n";
  };
  bool started = false;
  bool client_ok = true;
  auto start_stream = [&]() {
    if (started) return;
    started = true;
    client_ok = send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: "
                             "no-cache\r\nConnection: close\r\n\r\n");
    if (client_ok && chat) {
      client_ok = send_all(fd, chunk({{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}},
                                      {"finish_reason", nullptr}}));
    }
  };
  std::optional<Result<Json>> done;
  while (true) {
    std::deque<bus::StreamFrame> frames;
    {
      std::unique_lock lock(shared->mutex);
      shared->cv.wait(lock, [&] { return !shared->frames.empty() || shared->done.has_value(); });
      frames.swap(shared->frames);
      if (frames.empty() && shared->done) done = std::move(shared->done);
    }
    for (auto& f : frames) {
      if (f.event != "token" || !client_ok) continue;
      start_stream();
      const Json text = f.data.is_object() && f.data.contains("text") ? f.data["text"] : Json("");
      Json choice{{"index", 0}, {"finish_reason", nullptr}};
      if (chat) choice["delta"] = {{"content", text}}; else choice["text"] = text;
      client_ok = client_ok && send_all(fd, chunk(std::move(choice)));
      if (!client_ok) cancel.cancel();  // the client went away: stop the generation
    }
    if (done) break;
  }
  if (!*done) {
    if (!started) return send_error(fd, done->error(), false) && false;
    // Mid-stream: an error event the OpenAI clients raise as an APIError.
    auto [status, err] = openai_error(done->error());
    if (client_ok) send_all(fd, "data: " + err.dump() + "\n\n");
    return false;
  }
  start_stream();
  const Json& meta = **done;
  Json last{{"index", 0}, {"finish_reason", finish_reason(meta)}};
  if (chat) last["delta"] = Json::object(); else last["text"] = "";
  if (client_ok) client_ok = send_all(fd, chunk(std::move(last)));
  if (client_ok) {
    send_all(fd, "data: " + Json{{"id", id}, {"object", object}, {"created", created}, {"model", model},
                                 {"choices", Json::array()}, {"usage", usage(meta)}}.dump() + "\n\n");
    send_all(fd, "data: [DONE]\n\n");
  }
  return false;  // Connection: close ends an event stream
}

bool OpenAiApi::Impl::route_embeddings(int fd, const Json& request, Json body, bool keep_alive) {
  const std::string model = body["params"]["model"].get<std::string>();
  auto r = bus.call("embed.text", Version{1, 0}, body);
  if (!r) return send_error(fd, r.error(), keep_alive) && keep_alive;
  const bool base64 = request.value("encoding_format", std::string("float")) == "base64";
  Json data = Json::array();
  const Json& vectors = (*r)["output"]["embeddings"];
  for (std::size_t i = 0; vectors.is_array() && i < vectors.size(); ++i) {
    data.push_back({{"object", "embedding"}, {"index", i},
                    {"embedding", base64 ? Json(base64_floats(vectors[i])) : vectors[i]}});
  }
  int tokens = 0;
  for (const auto& t : body["input"]["texts"]) tokens += static_cast<int>(t.get_ref<const std::string&>().size() / 4) + 1;
  return send_json(fd, 200, {{"object", "list"}, {"data", data}, {"model", model},
                             {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}},
                   keep_alive) && keep_alive;
}

OpenAiApi::OpenAiApi(bus::CapabilityBus& bus, OpenAiApiOptions options)
    : m(std::make_unique<Impl>(bus, std::move(options))) {}

OpenAiApi::~OpenAiApi() { stop(); }

std::uint16_t OpenAiApi::port() const { return m->port; }

Status OpenAiApi::start() {
  const std::string host = m->options.host == "localhost" ? "127.0.0.1" : m->options.host;
  if (!is_loopback_host(host) && m->options.bearer_token.empty()) {
    return make_error(ErrorCode::config_error,
                      "openai_api: listening on " + host + " needs a bearer token (openai_api.token_env)");
  }
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_INET;
  if (host.find(':') != std::string::npos) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(m->options.port);
    if (::inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr) != 1) {
      return make_error(ErrorCode::config_error, "openai_api: bad host " + host);
    }
    family = AF_INET6;
    len = sizeof(sockaddr_in6);
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(m->options.port);
    if (::inet_pton(AF_INET, host.c_str(), &a4->sin_addr) != 1) {
      return make_error(ErrorCode::config_error, "openai_api: bad host " + host);
    }
    len = sizeof(sockaddr_in);
  }
  m->listen_fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(m->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (m->listen_fd < 0 || ::bind(m->listen_fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(m->listen_fd, 128) != 0) {
    const std::string why = std::strerror(errno);
    if (m->listen_fd >= 0) ::close(m->listen_fd);
    m->listen_fd = -1;
    return make_error(ErrorCode::config_error, "openai_api: cannot listen on " + host + ":" +
                                                   std::to_string(m->options.port) + ": " + why);
  }
  ::getsockname(m->listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  m->port = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                     : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (!m->options.port_file.empty()) {
    std::ofstream(m->options.port_file, std::ios::trunc) << m->port << "\n";
  }
  WorkQueueOptions qo;
  qo.name = "openai";
  qo.threads = OPENAI_API_THREADS;
  qo.capacity = 64;
  qo.nice = 5;
  m->queue = std::make_unique<WorkQueue>(qo);
  m->acceptor = std::thread([impl = m.get()] { impl->accept_loop(); });
  api_log().info("OpenAI-compatible API listening", Json{{"host", host}, {"port", m->port},
                                                           {"bearer_token", !m->options.bearer_token.empty()}});
  return {};
}

void OpenAiApi::stop() {
  if (m->listen_fd < 0) return;
  m->stopping = true;
  ::shutdown(m->listen_fd, SHUT_RDWR);
  if (m->acceptor.joinable()) m->acceptor.join();
  ::close(m->listen_fd);
  m->listen_fd = -1;
  {
    std::lock_guard lock(m->conns_mutex);
    for (int fd : m->conns) ::shutdown(fd, SHUT_RDWR);  // wakes blocked reads
  }
  m->queue.reset();  // drains: every connection job ends
  if (!m->options.port_file.empty()) {
    std::error_code ec;
    std::filesystem::remove(m->options.port_file, ec);
  }
}

}  // namespace hn::node
