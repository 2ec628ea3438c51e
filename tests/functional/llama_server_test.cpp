// llama_server_test.cpp — a real `llama-server` process (the build's own, serving the tiny
// llama GGUF of tests/models) as the OpenAI-compatible backend of a real node (issue #14
// "Tests"): llm.chat streams from it token by token; its HTTP errors reach the caller as the
// contract's codes (M04 §5: context exceeded → bad_request); killing llama-server in the
// middle of a stream ends that stream with an `error` frame (internal_error), the failures
// count against the node's provider until the bus quarantines it, and the next calls go to a
// second node's provider (the in-process llama_cpp backend on the same GGUF). Behaviour
// only: token counts, codes and which backend answered — never times.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <memory>
#include <string>

#include "core/json.h"
#include "support/node_fixture.h"
#include "support/test_node.h"
#include "support/test_support.h"

namespace hn {
namespace {

using test::eventually;
using test::NodeProcess;

const std::string LLAMA = std::string(HN_TEST_MODELS_DIR) + "/tiny-llama.gguf";
const std::string SERVER_BIN = HN_LLAMA_SERVER;

// The HTTP status of GET 127.0.0.1:port/path (0 when nothing answers).
int plain_get_status(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int status = 0;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[64] = {};
      const ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
      if (n > 12 && std::string(buf, 9) == "HTTP/1.1 ") status = std::atoi(buf + 9);
    }
  }
  ::close(fd);
  return status;
}

// A llama-server child serving the tiny llama GGUF on a free loopback port; killed and
// reaped on destruction.
class LlamaServer {
 public:
  explicit LlamaServer(const test::TempDir& dir) : m_port(test::unused_port()) {
    m_pid = test::spawn_process({SERVER_BIN, "-m", LLAMA, "--host", "127.0.0.1", "--port",
                                 std::to_string(m_port), "-t", "1", "-c", "4096", "-np", "1",
                                 "--no-warmup"},
                                {}, dir / "llama-server.log");
  }
  ~LlamaServer() { kill(); }
  int port() const { return m_port; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  bool ready() const { return m_pid > 0 && plain_get_status(m_port, "/health") == 200; }
  void kill() {
    if (m_pid <= 0) return;
    ::kill(m_pid, SIGKILL);
    ::waitpid(m_pid, nullptr, 0);
    m_pid = -1;
  }

 private:
  int m_port;
  pid_t m_pid = -1;
};

void append_config(const NodeProcess& n, const std::string& text) {
  std::ofstream(n.home() / "config.toml", std::ios::app) << text;
}

bool offers_model(const NodeProcess& n, const std::string& model, const std::string& node_id) {
  auto r = n.cli({"models", "--json"});
  auto j = parse_json(r.out);
  if (r.exit_code != 0 || !j || !j->is_array()) return false;
  for (const auto& m : *j) {
    if (m.value("model", "") != model) continue;
    for (const auto& p : m.value("providers", Json::array())) {
      if (p.value("node_id", "") == node_id) return true;
    }
  }
  return false;
}

// The backend that answered `ask --json` ("" when the call failed; its stderr in *err).
std::string ask_backend(const NodeProcess& n, std::string* err) {
  auto r = n.cli({"ask", "Hello?", "--model", "tiny-llama", "--max-tokens", "4", "--json"});
  if (r.exit_code != 0) {
    *err = r.err;
    return "";
  }
  auto j = parse_json(r.out);
  return j ? (*j)["done"].value("backend", "") : "";
}

TEST(LlamaServerBackend, StreamsMapsErrorsAndFailsOverWhenKilledMidStream) {
  if (SERVER_BIN.empty() || !std::filesystem::exists(SERVER_BIN)) {
    GTEST_SKIP() << "no llama-server in this build";
  }
  test::TempDir dir;
  LlamaServer server(dir);

  // y: founder, the in-process llama_cpp backend on the same GGUF (model "tiny-llama").
  std::string error;
  NodeProcess y(test::NodeOptions{.name = "llama-y"});
  y.add_env("HEARTHNET_LLAMA_THREADS=1");
  y.add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=2");
  append_config(y, "\n[[llm.backends]]\nname = \"llama_cpp\"\nurl = \"" + LLAMA +
                       "\"\nmax_concurrent = 2\nctx = 512\n");
  ASSERT_TRUE(y.start(&error)) << error << y.output();
  // x: member, llama-server as its OpenAI-compatible backend (kind llama_server).
  NodeProcess x(test::NodeOptions{
      .name = "llama-x",
      .discovery = std::string(test::NO_DISCOVERY) + "bootstrap_peers = [\"127.0.0.1:" +
                   std::to_string(y.port()) + "\"]\n",
      .found_community = false});
  x.add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=2");
  x.add_env("HEARTHNET_STATIC_PEER_INTERVAL_SECONDS=1");
  ASSERT_TRUE(test::join(y, x));
  append_config(x, "\n[[llm.backends]]\nname = \"house-server\"\nkind = \"llama_server\"\nurl = \"" +
                       server.url() + "\"\nmodel = \"tiny-llama\"\n");
  ASSERT_TRUE(x.start(&error)) << error << x.output();
  ASSERT_TRUE(eventually([&] { return server.ready(); }, 60))
      << test::read_text(dir / "llama-server.log");
  const std::string id_y = test::node_id_of(y);
  ASSERT_TRUE(eventually([&] { return offers_model(x, "tiny-llama", id_y); }));

  // 1. Streaming: token frames from llama-server, then one done frame with its usage.
  const std::string body =
      Json{{"params", {{"model", "tiny-llama"}}},
           {"input",
            {{"messages", {{{"role", "user"}, {"content", "hello"}}}},
             {"max_tokens", 6},
             {"seed", 7},
             {"stream", true}}}}
          .dump();
  auto streamed = x.cli({"call", "llm.chat@1.0", "--stream", "--node", "self", "--body", body});
  ASSERT_EQ(streamed.exit_code, 0) << streamed.out << streamed.err;
  int token_frames = 0;
  Json done;
  for (std::size_t at = 0, end; at < streamed.out.size(); at = end + 1) {
    end = streamed.out.find('\n', at);
    if (end == std::string::npos) end = streamed.out.size();
    auto frame = parse_json(streamed.out.substr(at, end - at));
    if (!frame) continue;
    if ((*frame)["event"] == "token") ++token_frames;
    if ((*frame)["event"] == "done") done = (*frame)["data"];
  }
  EXPECT_GE(token_frames, 1) << streamed.out;
  EXPECT_EQ(done["backend"], "house-server") << streamed.out;
  EXPECT_EQ(done["tokens_out"], 6) << streamed.out;  // llama-server reports exact usage
  EXPECT_EQ(done["stop_reason"], "max_tokens") << streamed.out;
  EXPECT_GT(done["tokens_in"].get<int>(), 0) << streamed.out;

  // 2. llama-server's own errors become the contract's codes: a prompt past its context
  // answers HTTP 400 (exceed_context_size_error) → bad_request, naming the backend.
  std::string long_prompt;
  for (int i = 0; i < 3000; ++i) long_prompt += "water garden fence ";
  auto too_long = x.cli({"ask", long_prompt, "--model", "tiny-llama", "--node", "self"});
  EXPECT_NE(too_long.exit_code, 0);
  EXPECT_NE(too_long.err.find("bad_request"), std::string::npos) << too_long.err;
  EXPECT_NE(too_long.err.find("house-server"), std::string::npos) << too_long.err;

  // 3. Killed mid-stream: a long generation is under way (tokens printed) when llama-server
  // dies; the stream ends with an error frame, the CLI's answer is internal_error.
  const auto out_path = dir / "ask.out";
  const pid_t ask = test::spawn_process(
      x.command({"ask", "Tell me a long story", "--model", "tiny-llama", "--node", "self",
                 "--max-tokens", "4000"}),
      x.env(), out_path);
  ASSERT_GT(ask, 0);
  ASSERT_TRUE(eventually([&] { return test::read_text(out_path).size() >= 8; }, 60))
      << test::read_text(out_path);
  server.kill();
  int st = 0;
  ASSERT_EQ(::waitpid(ask, &st, 0), ask);
  const std::string killed = test::read_text(out_path);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) != 0) << killed;
  EXPECT_NE(killed.find("internal_error"), std::string::npos) << killed;

  // 4. The failures count against x's provider: after a few (each an internal_error) the
  // bus quarantines it and the calls go to y's in-process backend.
  int errors = 0;
  std::string answered_by;
  for (int i = 0; i < 12 && answered_by.empty(); ++i) {
    std::string err;
    answered_by = ask_backend(x, &err);
    if (answered_by.empty()) {
      ++errors;
      EXPECT_NE(err.find("internal_error"), std::string::npos) << err;
    }
  }
  EXPECT_EQ(answered_by, "llama_cpp") << errors << " errors first";
  EXPECT_GE(errors, 1);
  for (int i = 0; i < 2; ++i) {
    std::string err;
    EXPECT_EQ(ask_backend(x, &err), "llama_cpp") << err;
  }
  std::string metrics;
  ASSERT_EQ(test::https_get(x.port(), "/metrics", &metrics, 5000), 200);
  const auto q = metrics.find("\nhearthnet_quarantines_total ");
  ASSERT_NE(q, std::string::npos) << metrics;
  EXPECT_GE(std::stod(metrics.substr(q + 29)), 1.0) << metrics;
  // x's own service names the dead backend and its URL.
  const Json s = test::status_of(x);
  const Json& backends = s["services"]["llm"]["health"]["backends"];
  ASSERT_EQ(backends.size(), 1U) << s.dump();
  EXPECT_EQ(backends[0]["name"], "house-server");
  EXPECT_EQ(backends[0]["ok"], false);
  EXPECT_NE(backends[0].value("last_error", "").find(std::to_string(server.port())),
            std::string::npos)
      << s.dump();
}

}  // namespace
}  // namespace hn
