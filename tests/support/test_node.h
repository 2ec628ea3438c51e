// test_node.h — a real `hearthnet run` process for functional tests: its own
// HEARTHNET_HOME (initialised with `hearthnet init`, listening on 127.0.0.1 port 0, no
// multicast discovery), started in the background; start() waits for the port file and a
// 200 from GET /health (HTTPS, certificate not checked). The process is killed (SIGKILL)
// on destruction if still running.
//
// Thread-safety: one NodeProcess per test thread.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "support/test_support.h"

namespace hn::test {

// A minimal HTTPS GET against 127.0.0.1:port (no certificate checks). Returns the status
// code (0 on a connection/TLS failure) and fills body.
int https_get(int port, const std::string& path, std::string* body = nullptr, int timeout_ms = 2000);
// Any method with extra headers and a body (JSON content type when there is one).
int https_request(int port, const std::string& method, const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& headers,
                  const std::string& request_body, std::string* body = nullptr,
                  int timeout_ms = 2000);

// The default [discovery] keys of a test node: no multicast, no mDNS.
inline constexpr const char* NO_DISCOVERY = "mdns_enabled = false\nudp_enabled = false\n";

class NodeProcess {
 public:
  // Prepares `home` (created if missing): a config with port 0 and a founded community.
  // discovery_config is the body of [discovery]; extra_config is appended to config.toml
  // before init (TOML sections). found_community false: `init` is not run (the home is
  // for a node that joins through `hearthnet invite redeem`).
  explicit NodeProcess(std::filesystem::path home, std::string name = "test-node",
                       std::string extra_config = "", std::string discovery_config = NO_DISCOVERY,
                       bool found_community = true);
  ~NodeProcess();
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  // Starts `hearthnet run` (plus extra args); false with a message after timeout_seconds.
  bool start(std::string* error, const std::vector<std::string>& extra_args = {},
             int timeout_seconds = 30);
  // Sends sig and waits for the exit; returns the exit code (128+N when killed by N), -1 on
  // timeout (then the process is SIGKILLed).
  int stop(int sig = 15 /* SIGTERM */, int timeout_seconds = 20);
  bool running() const { return m_pid > 0; }

  pid_t pid() const { return m_pid; }
  int port() const { return m_port; }
  const std::filesystem::path& home() const { return m_home; }
  std::filesystem::path port_file() const { return m_home / "run" / "control.port"; }
  // Adds KEY=VALUE to env() (test hooks such as HEARTHNET_SYNC_INTERVAL_SECONDS).
  void add_env(std::string key_value) { m_extra_env.push_back(std::move(key_value)); }
  // The environment every command of this node runs with.
  std::vector<std::string> env() const;
  // Runs `hearthnet <args>` against this node's home.
  ProcessResult cli(std::vector<std::string> args, int timeout_seconds = 60) const;
  // What the node printed so far.
  std::string output() const;
  // Resident set size of the node process in KiB (from /proc), 0 when unknown.
  long rss_kib() const;

 private:
  std::filesystem::path m_home;
  pid_t m_pid = -1;
  int m_port = 0;
  std::vector<std::string> m_extra_env;
};

}  // namespace hn::test
