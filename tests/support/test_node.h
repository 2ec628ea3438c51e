// test_node.h — a real `hearthnet run` process for functional tests: its own
// HEARTHNET_HOME (a scratch directory, initialised with `hearthnet init`, listening on
// 127.0.0.1 port 0, no multicast discovery unless told), started in the background;
// start() waits for the port file and for the node to answer; its OpenAI-compatible API
// ([openai_api]) takes a free port too (run/openai.port). The process is killed
// (SIGKILL) on destruction if still running. Also the steps tests repeat around nodes:
// `status --json`, joining a community by invite. No GoogleTest here (bench/mesh_bench.cpp
// compiles it in); the assertions and fixtures over it are in support/node_fixture.h.
//
// Thread-safety: one NodeProcess per test thread.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
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

// How a NodeProcess's home is prepared and its commands run.
struct NodeOptions {
  std::string name = "test-node";        // the display name `init` gives the founder
  std::string host = "127.0.0.1";        // [transport] host
  int port = 0;                          // [transport] port; 0: any free one
  std::string discovery = NO_DISCOVERY;  // the body of [discovery]
  // Found a community (`init`); false: the home is for a node that joins through
  // `hearthnet invite redeem` (or runs `init` itself).
  bool found_community = true;
  // Put before every command (e.g. `ip netns exec NS`). With one, start() waits for
  // `status` to answer instead of GET /health on 127.0.0.1.
  std::vector<std::string> launcher;
  // Serve the dashboard ([ui] on 127.0.0.1, any free port, no browser launched); the URL
  // with its session token is then in ui_url(). Without it the node runs with --no-ui.
  bool ui = false;
};

class NodeProcess {
 public:
  // Prepares a fresh home: config.toml from options, then `init` unless told not to.
  explicit NodeProcess(NodeOptions options = {});
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
  // The dashboard's URL with its token (run/ui.url), "" when it is not served.
  std::string ui_url() const;
  // Adds KEY=VALUE to env() (test hooks such as HEARTHNET_SYNC_INTERVAL_SECONDS).
  void add_env(std::string key_value) { m_extra_env.push_back(std::move(key_value)); }
  // Drops every KEY=… that add_env added for key (before a restart without the hook).
  void remove_env(const std::string& key) {
    std::erase_if(m_extra_env, [&](const std::string& kv) { return kv.rfind(key + "=", 0) == 0; });
  }
  // The environment every command of this node runs with.
  std::vector<std::string> env() const;
  // The argv of `hearthnet <args>` for this node (after the launcher, if any).
  std::vector<std::string> command(const std::vector<std::string>& args) const;
  // Runs `hearthnet <args>` against this node's home.
  ProcessResult cli(const std::vector<std::string>& args, int timeout_seconds = 60) const;
  // What the node printed so far.
  std::string output() const;
  // Resident set size of the node process in KiB (from /proc), 0 when unknown.
  long rss_kib() const;

 private:
  TempDir m_dir;
  std::filesystem::path m_home;
  std::vector<std::string> m_launcher;
  bool m_ui = false;
  pid_t m_pid = -1;
  int m_port = 0;
  std::vector<std::string> m_extra_env;
};

// The object `hearthnet status --json` prints for n; empty on a failure or a bad answer.
Json status_of(const NodeProcess& n);
// n's full node id (from status_of), "" when it does not answer.
std::string node_id_of(const NodeProcess& n);
// The entry of `peers.list` in a status document for node_id (full id), or null.
Json find_peer(const Json& status, const std::string& node_id);

// joiner (not running) joins inviter's (running) community: `id` on the joiner, `invite
// create` on the inviter, `invite redeem` on the joiner (M13). "" on success, else the
// failed step and its stderr.
std::string join_community(const NodeProcess& inviter, const NodeProcess& joiner);

// Starts `hearthnet <args>` for n in the background, its stdout into out_path (stderr
// inherited); returns its pid, which the caller reaps.
pid_t spawn_cli(const NodeProcess& n, const std::vector<std::string>& args,
                const std::filesystem::path& out_path);

}  // namespace hn::test
