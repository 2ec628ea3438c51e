// test_node.cpp — background `hearthnet run` processes for functional tests, and the steps
// tests repeat around them.
#include "support/test_node.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

namespace hn::test {

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

NodeProcess::NodeProcess(NodeOptions options)
    : m_home(m_dir.path()), m_launcher(std::move(options.launcher)) {
  std::ofstream(m_home / "config.toml") << "[transport]\nhost = \"" << options.host
                                        << "\"\nport = " << options.port
                                        << "\n[openai_api]\nport = 0\n[discovery]\n"
                                        << options.discovery
                                        << (options.ui ? "[ui]\nport = 0\nlaunch_browser = false\n" : "");
  m_ui = options.ui;
  if (options.found_community) cli({"init", "--non-interactive", "--name", options.name});
}

NodeProcess::~NodeProcess() {
  if (m_pid > 0) {
    ::kill(m_pid, SIGKILL);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
  }
}

std::vector<std::string> NodeProcess::env() const {
  std::vector<std::string> out = home_env(m_home);
  out.insert(out.end(), m_extra_env.begin(), m_extra_env.end());
  return out;
}

std::vector<std::string> NodeProcess::command(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = m_launcher;
  argv.push_back(hearthnet_binary().string());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

ProcessResult NodeProcess::cli(const std::vector<std::string>& args, int timeout_seconds) const {
  return run_process(command(args), env(), "", timeout_seconds);
}

std::string NodeProcess::output() const { return read_text(m_home / "node.out"); }

std::string NodeProcess::ui_url() const {
  std::string url = read_text(m_home / "run" / "ui.url");
  while (!url.empty() && (url.back() == '\n' || url.back() == '\r')) url.pop_back();
  return url;
}

bool NodeProcess::start(std::string* error, const std::vector<std::string>& extra_args,
                        int timeout_seconds) {
  std::error_code ec;
  std::filesystem::remove(port_file(), ec);
  std::vector<std::string> args{"run"};
  if (!m_ui) args.push_back("--no-ui");
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  m_pid = spawn_process(command(args), env(), m_home / "node.out");
  if (m_pid < 0) {
    if (error) *error = "fork failed";
    return false;
  }
  // Ready: the port file is written and the node answers (GET /health where this process
  // can reach it, `status` through the launcher otherwise).
  auto answers = [&] {
    if (!m_launcher.empty()) return !node_id_of(*this).empty();
    return https_get(m_port, "/health") == 200;
  };
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
      if (m_port > 0 && answers()) return true;
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

Json status_of(const NodeProcess& n) {
  auto r = n.cli({"status", "--json"}, 20);
  if (r.exit_code != 0) return Json::object();
  auto j = parse_json(r.out);
  return j && j->is_object() ? *j : Json::object();
}

std::string node_id_of(const NodeProcess& n) {
  return status_of(n).value("node", Json::object()).value("node_id", "");
}

Json find_peer(const Json& status, const std::string& node_id) {
  const Json peers = status.value("peers", Json::object());
  for (const auto& p : peers.value("list", Json::array())) {
    if (p.is_object() && p.value("node_id", "") == node_id) return p;
  }
  return Json();
}

std::string join_community(const NodeProcess& inviter, const NodeProcess& joiner) {
  auto card = joiner.cli({"id"});
  if (card.exit_code != 0) return "id: " + card.err;
  auto invite = inviter.cli({"invite", "create", "--node-id", trim(card.out)});
  if (invite.exit_code != 0) return "invite create: " + invite.err;
  auto redeem = joiner.cli({"invite", "redeem", trim(invite.out)});
  if (redeem.exit_code != 0) return "invite redeem: " + redeem.err;
  return "";
}

pid_t spawn_cli(const NodeProcess& n, const std::vector<std::string>& args,
                const std::filesystem::path& out_path) {
  return spawn_process(n.command(args), n.env(), out_path, ChildStderr::inherited);
}

}  // namespace hn::test
