// llama_server_proc.cpp — llama-server as a benchmark's child process.
#include "llama_server_proc.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "httpc/client.h"

extern char** environ;

namespace hn::bench {

int free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

int post(int port, const std::string& target, const std::string& body, std::string* out) {
  httpc::Request req;
  req.url = httpc::Url{.tls = false, .host = "127.0.0.1", .port = static_cast<std::uint16_t>(port),
                       .path = target};
  req.headers = {{"Content-Type", "application/json"}};
  req.body = body;
  req.idle_timeout = std::chrono::milliseconds(600000);
  auto r = httpc::fetch(req, CancelToken(), 512u << 20);
  if (!r) return 0;
  if (out != nullptr) *out = std::move(r->body);
  return r->head.status;
}

LlamaServerProcess::LlamaServerProcess(const std::string& server_bin,
                                       const std::vector<std::string>& args)
    : m_port(free_port()) {
  std::vector<std::string> argv{server_bin, "--host", "127.0.0.1", "--port",
                                std::to_string(m_port), "--log-disable"};
  argv.insert(argv.end(), args.begin(), args.end());
  m_pid = fork();
  if (m_pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    std::vector<char*> c;
    for (auto& a : argv) c.push_back(a.data());
    c.push_back(nullptr);
    execve(c[0], c.data(), environ);
    _exit(127);
  }
  for (int i = 0; i < 1200 && m_pid > 0; ++i) {  // up to 120 s for the model to load
    std::string b;
    if (post(m_port, "/tokenize", R"({"content":"x"})", &b) == 200) {
      m_ready = true;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

LlamaServerProcess::~LlamaServerProcess() {
  if (m_pid > 0) {
    kill(m_pid, SIGKILL);
    waitpid(m_pid, nullptr, 0);
  }
}

}  // namespace hn::bench
