// llama_server_proc.h — the LLM benchmarks' llama-server: the build's own binary
// (HN_LLAMA_SERVER) started as a child on a free loopback port, waited for until its model
// has loaded, killed with the object. Also a plain POST to it (httpc).
//
// Thread-safety: one owner; post() is reentrant.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace hn::bench {

class LlamaServerProcess {
 public:
  // Starts `server_bin --host 127.0.0.1 --port <free> --log-disable <args>` and waits up to
  // 120 s for it to answer (ready() says whether it did).
  LlamaServerProcess(const std::string& server_bin, const std::vector<std::string>& args);
  ~LlamaServerProcess();
  LlamaServerProcess(const LlamaServerProcess&) = delete;
  LlamaServerProcess& operator=(const LlamaServerProcess&) = delete;
  int port() const { return m_port; }
  bool ready() const { return m_ready; }

 private:
  pid_t m_pid = -1;
  int m_port = 0;
  bool m_ready = false;
};

// One POST of a JSON body to 127.0.0.1:port; the status (0 when unreachable) and the body.
int post(int port, const std::string& target, const std::string& body, std::string* out);

// A free loopback TCP port.
int free_port();

}  // namespace hn::bench
