// probe_servers.h — the far ends of the emergency detector's probes, for tests: a UDP DNS
// resolver that answers every A query with 192.0.2.1 (emergency/dns.h encode_response),
// and an HTTPS server (self-signed, Ed25519) that answers every request 200 with a `Date`
// header `date_offset_seconds` off our clock. Both listen on 127.0.0.1, can be stopped and
// started again on the same port ("the internet dies and returns"), and count requests.
//
// Thread-safety: start()/stop() from the test's thread; each server runs its own thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace hn::test {

class DnsResponder {
 public:
  DnsResponder();
  ~DnsResponder();
  // Binds 127.0.0.1:port (0: any free port; a restart reuses the first one) and serves.
  bool start(std::uint16_t port = 0);
  void stop();
  std::uint16_t port() const { return m_port; }
  // "127.0.0.1:<port>", the probe target.
  std::string target() const { return "127.0.0.1:" + std::to_string(m_port); }
  int queries() const { return m_queries.load(); }

 private:
  int m_fd = -1;
  std::uint16_t m_port = 0;
  std::thread m_thread;
  std::atomic<bool> m_running{false};
  std::atomic<int> m_queries{0};
};

class HttpsResponder {
 public:
  explicit HttpsResponder(std::int64_t date_offset_seconds = 0);
  ~HttpsResponder();
  bool start(std::uint16_t port = 0);
  void stop();
  std::uint16_t port() const { return m_port; }
  // "https://127.0.0.1:<port>/", the probe target.
  std::string target() const { return "https://127.0.0.1:" + std::to_string(m_port) + "/"; }
  int requests() const { return m_requests.load(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
  std::int64_t m_offset;
  std::uint16_t m_port = 0;
  std::atomic<int> m_requests{0};
};

}  // namespace hn::test
