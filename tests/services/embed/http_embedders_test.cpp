// http_embedders_test.cpp — the HTTP embedders against real servers on loopback: a real
// llama-server (the build's own, serving the tiny BERT GGUF with --embeddings) through
// /v1/embeddings, whose vectors must equal the in-process ones; a local server speaking
// Ollama's /api/embed (written from Ollama's API document: {"model","input":[..]} →
// {"embeddings":[[..]..]}); unreachable servers, HTTP errors and malformed answers.
#include "services/embed/http_embedders.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cmath>
#include <csignal>
#include <thread>

#include "services/embed/llama_embedder.h"
#include "support/test_support.h"

namespace hn::services::embed {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

const std::filesystem::path BERT = std::filesystem::path(HN_TEST_MODELS_DIR) / "tiny-bert.gguf";

int free_port() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

// A one-thread HTTP server on loopback answering every POST with `answer(path, body)`.
class LocalServer {
 public:
  using Handler = std::function<std::pair<int, std::string>(const std::string&, const Json&)>;
  explicit LocalServer(Handler h)
      : m_acceptor(m_io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        m_handler(std::move(h)) {
    m_thread = std::thread([this] { serve(); });
  }
  ~LocalServer() {
    m_stop = true;
    beast::error_code ec;
    tcp::socket poke(m_io);
    poke.connect(m_acceptor.local_endpoint(), ec);
    m_thread.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(m_acceptor.local_endpoint().port());
  }
  std::string last_path() const { return m_last_path; }
  Json last_body() const { return m_last_body; }

 private:
  void serve() {
    while (!m_stop) {
      beast::error_code ec;
      tcp::socket s(m_io);
      m_acceptor.accept(s, ec);
      if (ec || m_stop) continue;
      beast::flat_buffer buf;
      http::request<http::string_body> req;
      http::read(s, buf, req, ec);
      if (ec) continue;
      m_last_path = std::string(req.target());
      m_last_body = Json::parse(req.body(), nullptr, false);
      auto [status, body] = m_handler(m_last_path, m_last_body);
      http::response<http::string_body> res{static_cast<http::status>(status), 11};
      res.set(http::field::content_type, "application/json");
      res.body() = body;
      res.prepare_payload();
      http::write(s, res, ec);
    }
  }
  asio::io_context m_io;
  tcp::acceptor m_acceptor;
  Handler m_handler;
  std::atomic<bool> m_stop{false};
  std::string m_last_path;
  Json m_last_body;
  std::thread m_thread;
};

HttpEmbedder make(HttpEmbedApi api, const std::string& url) {
  return HttpEmbedder({.api = api, .backend_name = "test", .url = url, .model = "tiny-bert"});
}

TEST(HttpEmbedder, SpeaksOllamasApiEmbed) {
  LocalServer server([](const std::string&, const Json& body) {
    Json vectors = Json::array();
    for (std::size_t i = 0; i < body["input"].size(); ++i) vectors.push_back({3.0, 4.0 + i});
    return std::pair{200, Json{{"model", body["model"]}, {"embeddings", vectors}}.dump()};
  });
  HttpEmbedder e = make(HttpEmbedApi::ollama, server.url());
  ASSERT_TRUE(e.start());
  auto r = e.embed({"a", "b"}, true, bus::CancelToken());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(server.last_path(), "/api/embed");
  EXPECT_EQ(server.last_body()["model"], "tiny-bert");
  EXPECT_EQ(server.last_body()["input"], Json::array({"a", "b"}));
  ASSERT_EQ(r->size(), 2U);
  EXPECT_NEAR((*r)[0][0], 0.6, 1e-6);  // (3,4) normalised
  EXPECT_NEAR((*r)[0][1], 0.8, 1e-6);
  EXPECT_EQ(e.dim(), 2);
  auto raw = e.embed({"a"}, false, bus::CancelToken());
  ASSERT_TRUE(raw);
  EXPECT_EQ((*raw)[0][0], 3.0F);
}

TEST(HttpEmbedder, OpenAiAnswersAreOrderedByIndex) {
  LocalServer server([](const std::string&, const Json&) {
    Json data = Json::array({Json{{"index", 1}, {"embedding", {0.0, 2.0}}},
                             Json{{"index", 0}, {"embedding", {1.0, 0.0}}}});
    return std::pair{200, Json{{"object", "list"}, {"data", data}}.dump()};
  });
  HttpEmbedder e = make(HttpEmbedApi::openai, server.url() + "/v1");
  ASSERT_TRUE(e.start());
  auto r = e.embed({"first", "second"}, true, bus::CancelToken());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(server.last_path(), "/v1/embeddings");
  EXPECT_EQ((*r)[0], (Vector{1.0F, 0.0F}));
  EXPECT_EQ((*r)[1], (Vector{0.0F, 1.0F}));
}

TEST(HttpEmbedder, ServerErrorsAreTyped) {
  LocalServer server([](const std::string& path, const Json&) {
    if (path == "/api/embed") return std::pair{404, std::string(R"({"error":"model not found"})")};
    return std::pair{500, std::string("{}")};
  });
  auto missing = make(HttpEmbedApi::ollama, server.url()).embed({"x"}, true, {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  auto broken = make(HttpEmbedApi::openai, server.url()).embed({"x"}, true, {});
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, ErrorCode::internal_error);
  auto gone = make(HttpEmbedApi::openai, "http://127.0.0.1:" + std::to_string(free_port()))
                  .embed({"x"}, true, {});
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::partition);
}

TEST(HttpEmbedder, ABadUrlIsRefusedAtStart) {
  for (const char* url : {"ftp://x", "http://", "http://host:port", "http://host:99999",
                          "https://user@api.example/v1"}) {
    auto s = make(HttpEmbedApi::openai, url).start();
    ASSERT_FALSE(s) << url;
    EXPECT_EQ(s.error().code, ErrorCode::bad_request) << url;
  }
  // TLS servers too (the shared httpc client): an https URL is accepted.
  EXPECT_TRUE(make(HttpEmbedApi::openai, "https://api.example/v1").start());
}

TEST(HttpEmbedder, MalformedAnswersAreInternalErrors) {
  const char* bodies[] = {"not json",
                          "[]",
                          R"({"embeddings": [[1,2]]})",
                          R"({"embeddings": [[1,2],[1]]})",
                          R"({"embeddings": [[1,"x"],[1,2]]})",
                          R"({"embeddings": [[],[]]})"};
  for (const char* b : bodies) {
    auto r = parse_embed_answer(HttpEmbedApi::ollama, b, 2);
    ASSERT_FALSE(r) << b;
    EXPECT_EQ(r.error().code, ErrorCode::internal_error) << b;
  }
  const char* openai[] = {
      R"({"data": [{"index": 0, "embedding": [1]}, {"index": 0, "embedding": [2]}]})",
      R"({"data": [{"index": 5, "embedding": [1]}, {"index": 1, "embedding": [2]}]})",
      R"({"data": [{"index": -1, "embedding": [1]}, {"embedding": [2]}]})", R"({"data": [1, 2]})"};
  for (const char* b : openai) {
    auto r = parse_embed_answer(HttpEmbedApi::openai, b, 2);
    ASSERT_FALSE(r) << b;
  }
}

TEST(HttpEmbedder, BackendTypesWithoutEmbeddingsGiveNone) {
  config::LlmBackendConfig b;
  b.url = "http://127.0.0.1:1";
  for (const char* name : {"llama_cpp", "hf_api", "anthropic_api"}) {
    b.name = name;
    EXPECT_EQ(make_http_embedder(b, "m"), nullptr) << name;
  }
  for (const char* name : {"ollama", "llama_server", "vllm", "lmstudio", "nemotron", "openbmb"}) {
    b.name = name;
    EXPECT_NE(make_http_embedder(b, "m"), nullptr) << name;
  }
}

// A real llama-server serving the tiny BERT model: its /v1/embeddings vectors equal the
// in-process ones (same GGUF, same pooling, both L2-normalised).
TEST(HttpEmbedder, ARealLlamaServerAgreesWithTheInProcessEmbedder) {
  const std::string server_bin = HN_LLAMA_SERVER;
  if (server_bin.empty() || !std::filesystem::exists(server_bin)) {
    GTEST_SKIP() << "no llama-server in this build";
  }
  test::TempDir dir;
  const int port = free_port();
  const pid_t pid =
      test::spawn_process({server_bin, "-m", BERT.string(), "--embeddings", "--host", "127.0.0.1",
                           "--port", std::to_string(port), "-t", "1", "-c", "512", "-np", "1"},
                          {}, dir / "server.log");
  ASSERT_GT(pid, 0);
  HttpEmbedder e = make(HttpEmbedApi::openai, "http://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(e.start());
  const std::vector<std::string> texts{"water for the neighbourhood", "a second text", "x"};
  Result<std::vector<Vector>> remote = make_error(ErrorCode::partition, "not yet");
  ASSERT_TRUE(test::eventually(
      [&] {
        remote = e.embed(texts, true, {});
        return remote.has_value();
      },
      60))
      << remote.error().to_string() << "\n"
      << test::read_text(dir / "server.log");
  LlamaEmbedder local({.model_path = BERT, .threads = 1});
  ASSERT_TRUE(local.start());
  auto mine = local.embed(texts, true, {});
  ASSERT_TRUE(mine);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    ASSERT_EQ((*remote)[i].size(), (*mine)[i].size());
    for (std::size_t k = 0; k < (*mine)[i].size(); ++k) {
      EXPECT_NEAR((*remote)[i][k], (*mine)[i][k], 1e-3) << i << "," << k;
    }
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

}  // namespace
}  // namespace hn::services::embed
