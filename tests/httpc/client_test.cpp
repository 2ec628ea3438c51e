// client_test.cpp — httpc against loopback sockets: URL parsing, a body read piece by piece
// as the server writes it, the contract codes of HTTP errors (M04 §5), a server that cannot
// be reached (unreachable, nothing sent), one that closes mid-body (ended early), and a
// caller's cancel stopping an exchange that would otherwise wait for ever.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "httpc/client.h"
#include "httpc/json_answers.h"

namespace hn::httpc {
namespace {

// A TCP socket bound to a free loopback port (not yet listening); its port in *port.
int bound_loopback_socket(std::uint16_t* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

// Accepts one connection on loopback, reads the request head and writes `answer` (then
// closes, or holds the connection open until the test ends when `hold`).
class OneShotServer {
 public:
  explicit OneShotServer(std::string answer, bool hold = false) {
    m_fd = bound_loopback_socket(&m_port);
    ::listen(m_fd, 1);
    m_thread = std::thread([this, answer = std::move(answer), hold] {
      const int c = ::accept(m_fd, nullptr, nullptr);
      if (c < 0) return;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, static_cast<std::size_t>(n));
      }
      m_request = head;
      ::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      if (hold) {
        while (::recv(c, buf, sizeof buf, 0) > 0) {
        }
      }
      ::close(c);
    });
  }
  ~OneShotServer() {
    ::shutdown(m_fd, SHUT_RDWR);
    ::close(m_fd);
    m_thread.join();
  }
  Url url(const std::string& path = "/") const {
    return Url{.tls = false, .host = "127.0.0.1", .port = m_port, .path = path};
  }
  const std::string& request() const { return m_request; }

 private:
  int m_fd = -1;
  std::uint16_t m_port = 0;
  std::string m_request;
  std::thread m_thread;
};

std::string chunked(int status, const std::vector<std::string>& pieces, bool terminate = true) {
  std::string out = "HTTP/1.1 " + std::to_string(status) +
                    " X\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const auto& p : pieces) {
    char size[16];
    std::snprintf(size, sizeof size, "%zx", p.size());
    out += std::string(size) + "\r\n" + p + "\r\n";
  }
  if (terminate) out += "0\r\n\r\n";
  return out;
}

TEST(HttpcUrl, ParsesWhatServersUseAndRefusesTheRest) {
  auto u = parse_url("https://api.example:8443/v1/");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "api.example");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->path, "/v1");
  EXPECT_EQ(u->with_path("/embeddings").to_string(), "https://api.example:8443/v1/embeddings");
  auto plain = parse_url("http://[::1]");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->host, "::1");
  EXPECT_EQ(plain->port, 80);
  for (const char* bad : {"ftp://x", "http://", "http://h:0", "http://h:x", "http://u@h",
                          "http://h/?q", "http://h/#f", "http://[::1"}) {
    auto r = parse_url(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::bad_request) << bad;
  }
}

TEST(HttpcExchange, HandsTheBodyOverAsItArrivesAndSendsTheRequest) {
  OneShotServer server(chunked(200, {"data: a\n\n", "data: b\n\n"}));
  Request req;
  req.url = server.url("/v1/chat");
  req.headers = {{"Authorization", "Bearer k"}};
  req.body = R"({"x":1})";
  int status = 0;
  std::string body;
  int pieces = 0;
  ResponseHandler h;
  h.on_head = [&](const ResponseHead& head) -> Status {
    status = head.status;
    EXPECT_EQ(head.header("CONTENT-TYPE"), "text/event-stream");
    return {};
  };
  h.on_body = [&](std::string_view piece) -> Status {
    body.append(piece);
    ++pieces;
    return {};
  };
  ASSERT_TRUE(exchange(req, h, CancelToken()));
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, "data: a\n\ndata: b\n\n");
  EXPECT_GE(pieces, 1);
  EXPECT_NE(server.request().find("POST /v1/chat HTTP/1.1"), std::string::npos);
  EXPECT_NE(server.request().find("Authorization: Bearer k"), std::string::npos);
}

TEST(HttpcExchange, AServerThatClosesMidBodyEndedEarly) {
  OneShotServer server(chunked(200, {"data: a\n\n"}, /*terminate=*/false));
  Request req;
  req.url = server.url();
  auto s = exchange(req, {}, CancelToken());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::internal_error);
  EXPECT_NE(s.error().message.find("ended early"), std::string::npos) << s.error().message;
  EXPECT_FALSE(is_unreachable(s.error()));
}

TEST(HttpcExchange, NobodyListeningIsUnreachable) {
  // A bound socket that does not listen: the port stays ours and refuses connections.
  std::uint16_t port = 0;
  const int fd = bound_loopback_socket(&port);
  ASSERT_GE(fd, 0);
  Request req;
  req.url = Url{.tls = false, .host = "127.0.0.1", .port = port, .path = "/"};
  auto r = fetch(req, CancelToken());
  ::close(fd);
  ASSERT_FALSE(r);
  EXPECT_TRUE(is_unreachable(r.error())) << r.error().to_string();
  EXPECT_NE(r.error().message.find(std::to_string(port)), std::string::npos);
}

TEST(HttpcExchange, ACancelStopsAnExchangeThatWouldWait) {
  OneShotServer server(chunked(200, {"data: a\n\n"}, false), /*hold=*/true);
  Request req;
  req.url = server.url();
  CancelToken cancel;
  ResponseHandler h;
  h.on_body = [&](std::string_view) -> Status {
    cancel.cancel();  // the first piece came; the rest would never come
    return {};
  };
  auto s = exchange(req, h, cancel);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::timeout);
  EXPECT_EQ(s.error().detail.value("cancelled", false), true);
}

TEST(HttpcJson, HttpErrorsBecomeContractCodes) {
  ResponseHead head;
  const std::pair<int, ErrorCode> cases[] = {
      {404, ErrorCode::not_found},   {400, ErrorCode::bad_request},
      {413, ErrorCode::bad_request}, {422, ErrorCode::bad_request},
      {408, ErrorCode::timeout},     {504, ErrorCode::timeout},
      {500, ErrorCode::internal_error}, {503, ErrorCode::internal_error}};
  for (const auto& [status, code] : cases) {
    head.status = status;
    const Error e = error_from_http(head, R"({"error":{"message":"the server's words"}})", "srv");
    EXPECT_EQ(e.code, code) << status;
    EXPECT_NE(e.message.find("the server's words"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("srv"), std::string::npos) << e.message;
  }
  head.status = 429;
  head.headers["retry-after"] = "2";
  const Error limited = error_from_http(head, R"({"error":"slow down"})", "srv");
  EXPECT_EQ(limited.code, ErrorCode::rate_limited);
  EXPECT_EQ(limited.retry_after_ms, 2000);
  EXPECT_EQ(vendor_message("plain\ntext"), "plain text");
}

TEST(HttpcJson, FetchJsonParsesA2xxAndMapsTheRest) {
  const std::string ok_body = R"({"data":[1,2]})";
  OneShotServer ok("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(ok_body.size()) +
                   "\r\n\r\n" + ok_body);
  Request req;
  req.url = ok.url();
  req.body = "{}";
  auto j = fetch_json(req, CancelToken(), "srv");
  ASSERT_TRUE(j) << j.error().to_string();
  EXPECT_EQ((*j)["data"], Json::array({1, 2}));
  EXPECT_NE(ok.request().find("Content-Type: application/json"), std::string::npos);

  OneShotServer bad("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n{x}");
  req.url = bad.url();
  auto broken = fetch_json(req, CancelToken(), "srv");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, ErrorCode::internal_error);
}

}  // namespace
}  // namespace hn::httpc
