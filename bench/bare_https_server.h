// bare_https_server.h — the benchmarks' "bare Beast HTTPS server": the same Boost 1.74
// Asio + Beast + OpenSSL stack the node uses, doing nothing but TLS, HTTP/1.1 keep-alive
// parsing and a fixed small JSON answer — no signing, no routing, no bus. The ratio of a
// HearthNet figure to this one shows what HearthNet's own work costs on top of the stack.
//
// Thread-safety: start() once; the server runs on its own thread until stop() or
// destruction. Not for production: no limits beyond Beast's defaults, no timeouts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace hn::bench {

class BareHttpsServer {
 public:
  // cert_pem / key_pem: any certificate (the client under test does no CA checks).
  BareHttpsServer(std::string cert_pem, std::string key_pem);
  ~BareHttpsServer();
  BareHttpsServer(const BareHttpsServer&) = delete;
  BareHttpsServer& operator=(const BareHttpsServer&) = delete;

  // Listens on 127.0.0.1, a free port; answers every request with `answer` (JSON).
  std::uint16_t start(std::string answer);
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace hn::bench
