// test_node.cpp — background `hearthnet run` processes for functional tests.
#include "support/test_node.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace hn::test {
namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

}  // namespace

int https_get(int port, const std::string& path, std::string* body, int timeout_ms) {
  return https_request(port, "GET", path, {}, "", body, timeout_ms);
}

int https_request(int port, const std::string& method, const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& headers,
                  const std::string& request_body, std::string* body, int timeout_ms) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return 0;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  int status = 0;
  if (SSL_connect(ssl) == 1) {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    if (!request_body.empty() || method == "POST") {
      req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(request_body.size()) + "\r\n";
    }
    req += "\r\n" + request_body;
    if (SSL_write(ssl, req.data(), static_cast<int>(req.size())) > 0) {
      std::string resp;
      char buf[4096];
      int n;
      while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) resp.append(buf, static_cast<std::size_t>(n));
      if (resp.rfind("HTTP/1.1 ", 0) == 0 && resp.size() >= 12) status = std::atoi(resp.substr(9, 3).c_str());
      if (body) {
        auto sep = resp.find("\r\n\r\n");
        *body = sep == std::string::npos ? std::string() : resp.substr(sep + 4);
      }
    }
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return status;
}

NodeProcess::NodeProcess(std::filesystem::path home, std::string name, std::string extra_config,
                         std::string discovery_config, bool found_community)
    : m_home(std::move(home)) {
  std::filesystem::create_directories(m_home);
  if (!std::filesystem::exists(m_home / "config.toml")) {
    std::ofstream cfg(m_home / "config.toml");
    cfg << "[transport]\nhost = \"127.0.0.1\"\nport = 0\n"
        << "[discovery]\n" << discovery_config << extra_config;
  }
  if (found_community) cli({"init", "--non-interactive", "--name", name});
}

NodeProcess::~NodeProcess() {
  if (m_pid > 0) {
    ::kill(m_pid, SIGKILL);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
  }
}

std::vector<std::string> NodeProcess::env() const {
  std::vector<std::string> out{"HEARTHNET_HOME=" + m_home.string(), "HOME=" + m_home.string()};
  out.insert(out.end(), m_extra_env.begin(), m_extra_env.end());
  return out;
}

ProcessResult NodeProcess::cli(std::vector<std::string> args, int timeout_seconds) const {
  args.insert(args.begin(), hearthnet_binary().string());
  return run_process(args, env(), "", timeout_seconds);
}

std::string NodeProcess::output() const { return read_text(m_home / "node.out"); }

bool NodeProcess::start(std::string* error, const std::vector<std::string>& extra_args,
                        int timeout_seconds) {
  std::error_code ec;
  std::filesystem::remove(port_file(), ec);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  for (const auto& kv : env()) {
    const auto key = kv.substr(0, kv.find('=') + 1);
    std::erase_if(env_strings, [&](const std::string& s) { return s.rfind(key, 0) == 0; });
    env_strings.push_back(kv);
  }
  std::vector<std::string> argv{hearthnet_binary().string(), "run", "--no-ui"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  for (auto& s : argv) args.push_back(s.data());
  args.push_back(nullptr);
  const std::string out_path = (m_home / "node.out").string();

  const pid_t parent = ::getpid();
  m_pid = ::fork();
  if (m_pid == 0) {
    // The node dies with the test process, even one that crashes or is killed. (Tests
    // start nodes from their main thread: the signal follows the forking thread.)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    if (in >= 0) ::dup2(in, 0);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
      m_pid = -1;
      if (error) *error = "hearthnet run exited early: " + output();
      return false;
    }
    auto text = read_text(port_file());
    if (!text.empty() && text.back() == '\n') {
      m_port = std::atoi(text.c_str());
      if (m_port > 0 && https_get(m_port, "/health") == 200) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (error) *error = "node did not become healthy in time: " + output();
  return false;
}

int NodeProcess::stop(int sig, int timeout_seconds) {
  if (m_pid <= 0) return -1;
  ::kill(m_pid, sig);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
      m_pid = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(m_pid, SIGKILL);
  ::waitpid(m_pid, &status, 0);
  m_pid = -1;
  return -1;
}

long NodeProcess::rss_kib() const {
  if (m_pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(m_pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

}  // namespace hn::test
