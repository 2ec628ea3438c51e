// server_client_test.cpp — end-to-end: a real Server and Client over TLS on 127.0.0.1 with
// ephemeral ports (X01 §3, §5, §6, CONTRACT §5, §8).
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include <atomic>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/work_queue.h"
#include "observability/standard_metrics.h"
#include "test_cert.h"
#include "support/test_support.h"
#include "transport/client.h"
#include "core/work_queue.h"
#include "transport/server.h"

namespace hn::transport {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// Runs an io_context on a background thread (the "network thread").
class IoThread {
 public:
  IoThread() : m_guard(asio::make_work_guard(m_io)), m_thread([this] { m_io.run(); }) {}
  ~IoThread() {
    m_guard.reset();
    m_io.stop();
    m_thread.join();
  }
  asio::io_context& io() { return m_io; }

  // Runs fn() on the network thread and waits for its result.
  template <typename T>
  T run(std::function<asio::awaitable<T>()> fn) {
    std::promise<T> p;
    auto f = p.get_future();
    asio::co_spawn(m_io, [&p, fn]() -> asio::awaitable<void> { p.set_value(co_await fn()); },
                   asio::detached);
    return f.get();
  }
  void sync(std::function<void()> fn) {
    std::promise<void> p;
    asio::post(m_io, [&] {
      fn();
      p.set_value();
    });
    p.get_future().get();
  }

 private:
  asio::io_context m_io;
  asio::executor_work_guard<asio::io_context::executor_type> m_guard;
  std::thread m_thread;
};

const identity::KeyPair& server_keys() {
  static const identity::KeyPair k = identity::KeyPair::generate();
  return k;
}
const identity::KeyPair& member_keys() {
  static const identity::KeyPair k = identity::KeyPair::generate();
  return k;
}
const identity::KeyPair& revoked_keys() {
  static const identity::KeyPair k = identity::KeyPair::generate();
  return k;
}
const identity::KeyPair& stranger_keys() {
  static const identity::KeyPair k = identity::KeyPair::generate();
  return k;
}
const test::TestCert& cert() {
  static const test::TestCert c = test::make_test_cert();
  return c;
}
const CommunityId kCommunity("ed25519:community");

struct HandlerState {
  std::promise<int> stream_stopped;  // frames emitted before the handler saw cancellation
  std::atomic<bool> stopped_set{false};
};

class TransportE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pins = PinnedCerts::open(dir / "pins.db");
    ASSERT_TRUE(pins.has_value());
    m_pins = std::move(*pins);
    start_server(cert());
    m_client = make_client(member_keys());
  }
  void TearDown() override {
    m_io.sync([&] {
      m_client.reset();
      m_other_clients.clear();
      if (m_server) m_server->stop();
    });
    m_io.sync([&] { m_server.reset(); });
  }

  void start_server(const test::TestCert& c) {
    ServerOptions opts;
    opts.cert_pem = c.cert_pem;
    opts.key_pem = c.key_pem;
    opts.community = kCommunity;
    ServerHooks hooks;
    hooks.membership = [](const NodeId& id, const CommunityId&) -> Result<TrustLevel> {
      if (id == revoked_keys().node_id()) return make_error(ErrorCode::revoked, "revoked");
      if (id == member_keys().node_id()) return TrustLevel::member;
      return make_error(ErrorCode::unauthorized, "not a member");
    };
    hooks.manifest = [] { return Json{{"node_id", server_keys().node_id().str()}}; };
    hooks.metrics = [] { return std::string("hn_up 1\n"); };
    hooks.on_request = [this](const RequestRecord& r) {
      std::lock_guard lock(m_records_mutex);
      m_records.push_back(r);
    };
    m_io.sync([&] {
      m_server = std::make_unique<Server>(m_io.io().get_executor(), server_keys(), opts, hooks);
      m_server->add_route("POST", std::string(BUS_CALL_PATH),
                          [this](Request r, std::shared_ptr<SseWriter> w) { return handle(r, w); });
      // An async route: the plain handler, on the network thread, hands the work to a
      // queue of its own and answers from there; {"now": true} answers at once instead.
      m_network_thread = std::this_thread::get_id();
      m_server->add_async_route(
          "POST", "/test/v1/async",
          [this](Request r, Respond respond) {
            m_handler_on_network = std::this_thread::get_id() == m_network_thread;
            if (r.body.value("now", false)) {
              respond(Response::error(make_error(ErrorCode::bad_request, "answered at once")));
              return;
            }
            const bool posted = m_work.try_post([this, r = std::move(r), respond] {
              m_work_off_network = std::this_thread::get_id() != m_network_thread;
              respond(Response::json(Json{{"caller", r.caller.str()},
                                          {"trust", std::string(to_string(r.trust))},
                                          {"echo", r.body}}));
            });
            if (!posted) respond(Response::error(make_error(ErrorCode::capacity_exceeded, "full")));
          },
          [](Request, std::shared_ptr<SseWriter> w) -> asio::awaitable<Response> {
            Json token{{"i", 1}};
            co_await w->async_emit_token(std::move(token));
            co_return Response::json(Json{{"streamed", true}});
          });
      // An async route that chooses stream or plain from the body (CONTRACT §5.1: the
      // capability and the request decide), not from the Accept header.
      m_server->add_async_route(
          "POST", "/test/v1/choice",
          [](Request r, Respond respond) { respond(Response::json(Json{{"plain", r.body}})); },
          [](Request, std::shared_ptr<SseWriter> w) -> asio::awaitable<Response> {
            Json token{{"i", 1}};
            co_await w->async_emit_token(std::move(token));
            co_return Response::json(Json{{"streamed", true}});
          },
          [](const Request& r) { return r.body.value("stream", false); });
      auto port = m_server->start();
      ASSERT_TRUE(port.has_value()) << port.error().to_string();
      m_port = *port;
    });
  }

  asio::awaitable<Response> handle(Request r, std::shared_ptr<SseWriter> w) {
    if (r.capability == "test.echo" || r.capability == "market.post") {
      co_return Response::json(Json{{"echo", r.body}, {"caller", r.caller.str()},
                                    {"trust", std::string(to_string(r.trust))},
                                    {"listen_port", r.listen_port}});
    }
    if (r.capability == "test.stream") {
      const std::int64_t n = r.body.value("n", 0);
      for (std::int64_t i = 1; i <= n; ++i) {
        Json token = {{"i", i}};  // (GCC 12: no brace-init temporaries inside co_await)
        Status st = co_await w->async_emit_token(std::move(token));
        if (!st) co_return Response::error(st.error());
      }
      co_return Response::json(Json{{"count", n}});  // becomes the `done` frame
    }
    if (r.capability == "test.stream_batch") {
      // One call with every frame: the writer batches them as far as the window allows.
      const std::int64_t n = r.body.value("n", 0);
      std::vector<OutFrame> frames;
      for (std::int64_t i = 1; i <= n; ++i) frames.push_back(OutFrame{"token", Json{{"i", i}}});
      Status st = co_await w->async_emit_all(std::move(frames));
      if (!st) co_return Response::error(st.error());
      co_return Response::json(Json{{"count", n}});
    }
    if (r.capability == "test.stream_error") {
      std::string stage = "half";
      co_await w->async_emit_progress(1, 2, stage);
      Error busy = make_error(ErrorCode::capacity_exceeded, "busy");
      co_await w->async_emit_error(busy);
      co_return Response{};
    }
    if (r.capability == "test.silent") {
      // One frame, then nothing (no terminal frame) until the client goes away.
      Json token = {{"i", 1}};
      co_await w->async_emit_token(std::move(token));
      co_await w->async_wait_cancelled(std::chrono::seconds(5));
      co_return Response{};
    }
    if (r.capability == "test.endless") {
      int emitted = 0;
      while (!w->cancelled()) {
        Json token = {{"i", emitted + 1}};
        Status st = co_await w->async_emit_token(std::move(token));
        if (!st) break;
        ++emitted;
        if (co_await w->async_wait_cancelled(std::chrono::milliseconds(5))) break;
      }
      if (!m_state.stopped_set.exchange(true)) m_state.stream_stopped.set_value(emitted);
      co_return Response{};
    }
    co_return Response::error(make_error(ErrorCode::not_found, "no capability " + r.capability));
  }

  std::thread::id m_network_thread;
  std::atomic<bool> m_handler_on_network{false};
  std::atomic<bool> m_work_off_network{false};
  WorkQueue m_work{WorkQueueOptions{"test-work", 1, 8, 0}};

  std::unique_ptr<Client> make_client(const identity::KeyPair& keys,
                                      ClientOptions::StreamAcks acks = ClientOptions::StreamAcks::in_band) {
    std::unique_ptr<Client> c;
    ClientOptions o;
    o.stream_acks = acks;
    o.community = kCommunity;
    o.default_timeout = std::chrono::seconds(10);
    m_io.sync([&] { c = std::make_unique<Client>(m_io.io().get_executor(), keys, *m_pins, o); });
    return c;
  }

  Endpoint peer() const { return Endpoint{"127.0.0.1", m_port, server_keys().node_id()}; }

  Result<Json> call(Client& c, std::string cap, Json body) {
    return m_io.run<Result<Json>>([&c, this, cap, body]() {
      return c.async_call(peer(), cap, Version{1, 0}, body);
    });
  }

  // A raw TLS request written byte for byte (for what the Client would never send).
  std::pair<int, Json> raw(const std::string& request) {
    asio::io_context io;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    beast::ssl_stream<beast::tcp_stream> s(io, ctx);
    beast::get_lowest_layer(s).expires_after(std::chrono::seconds(10));
    beast::get_lowest_layer(s).connect(
        asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), m_port));
    s.handshake(asio::ssl::stream_base::client);
    asio::write(s, asio::buffer(request));
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    beast::error_code ec;
    http::read(s, buf, res, ec);
    // A stream ends with a TCP FIN and no TLS close_notify (server.cpp, STREAM_LINGER).
    if (ec && ec != asio::ssl::error::stream_truncated) throw beast::system_error(ec);
    auto j = parse_json(res.body());
    return {static_cast<int>(res.result_int()), j ? *j : Json()};
  }

  std::string signed_raw_post(const identity::KeyPair& keys, const Json& signed_body,
                              const std::string& wire_body, const std::string& cap = "test.echo") {
    auto env = sign_request(keys, cap, "1.0", kCommunity.str(), signed_body,
                            SystemClock::instance());
    std::string req = "POST /bus/v1/call HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
    for (auto& [k, v] : envelope_headers(env)) req += k + ": " + v + "\r\n";
    req += "Content-Length: " + std::to_string(wire_body.size()) + "\r\n\r\n" + wire_body;
    return req;
  }

  hn::test::TempDir dir;
  IoThread m_io;
  std::unique_ptr<PinnedCerts> m_pins;
  std::unique_ptr<Server> m_server;
  std::unique_ptr<Client> m_client;
  std::vector<std::unique_ptr<Client>> m_other_clients;
  std::uint16_t m_port = 0;
  HandlerState m_state;
  std::mutex m_records_mutex;
  std::vector<RequestRecord> m_records;
};

TEST_F(TransportE2E, SignedCallSucceedsAndReusesTheConnection) {
  auto r = call(*m_client, "test.echo", Json{{"q", "hello"}});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ((*r)["echo"]["q"], "hello");
  EXPECT_EQ((*r)["caller"], member_keys().node_id().str());
  EXPECT_EQ((*r)["trust"], "member");
  // market.post: response signature is mandatory and verified.
  auto r2 = call(*m_client, "market.post", Json{{"title", "x"}});
  ASSERT_TRUE(r2.has_value()) << r2.error().to_string();
  std::size_t idle = 0;
  m_io.sync([&] { idle = m_client->idle_connections(); });
  EXPECT_EQ(idle, 1u);  // keep-alive: one connection served both calls
}

// X03 §4.2: a response whose signature fails (here: signed by a key other than the node
// the client meant to reach) is refused and counts in
// hearthnet_signature_failures_total{reason="response"}.
TEST_F(TransportE2E, ResponseWithBadSignatureCountsAsSignatureFailure) {
  const auto* counter = observability::standard_metrics().signature_failures_total;
  const double before = counter->value({"response"});
  auto stranger = identity::KeyPair::generate();
  Endpoint wrong{"127.0.0.1", m_port, stranger.node_id()};
  auto r = m_io.run<Result<Json>>([&]() {
    return m_client->async_call(wrong, "market.post", Version{1, 0}, Json{{"title", "x"}});
  });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_signature) << r.error().to_string();
  EXPECT_EQ(counter->value({"response"}) - before, 1.0);
  auto ok = call(*m_client, "market.post", Json{{"title", "x"}});
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  EXPECT_EQ(counter->value({"response"}) - before, 1.0);
}

// A client names its own server's port once told (inbound_peers.h); the server reads a
// decimal port and nothing else.
TEST_F(TransportE2E, TheListenPortHintReachesTheHandler) {
  auto r = call(*m_client, "test.echo", Json::object());
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ((*r)["listen_port"], 0);
  m_io.sync([&] { m_client->set_listen_port(7443); });
  r = call(*m_client, "test.echo", Json::object());
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ((*r)["listen_port"], 7443);
  for (const std::string bad : {"70000", "-1", "7443x", "", "0"}) {
    std::string req = signed_raw_post(member_keys(), Json::object(), "{}");
    req.insert(req.find("Content-Length"), std::string(HEADER_LISTEN_PORT) + ": " + bad + "\r\n");
    auto [status, body] = raw(req);
    EXPECT_EQ(status, 200) << body.dump();
    EXPECT_EQ(body["listen_port"], 0) << "'" << bad << "'";
  }
}

TEST_F(TransportE2E, SelfOverLoopbackIsTrustSelf) {
  auto self = make_client(server_keys());
  auto r = call(*self, "test.echo", Json::object());
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ((*r)["trust"], "self");
  m_other_clients.push_back(std::move(self));
}

TEST_F(TransportE2E, UnsignedAndTamperedAreInvalidSignature) {
  std::string body = R"({"q":1})";
  auto [status, j] = raw("POST /bus/v1/call HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_EQ(status, 401);
  EXPECT_EQ(j["error"], "invalid_signature");
  auto [s2, j2] = raw(signed_raw_post(member_keys(), Json{{"q", 1}}, R"({"q":2})"));
  EXPECT_EQ(s2, 401);
  EXPECT_EQ(j2["error"], "invalid_signature");
  auto [s3, j3] = raw(signed_raw_post(member_keys(), Json{{"q", 1}}, R"({"q":1})"));
  EXPECT_EQ(s3, 200) << j3.dump();
}

TEST_F(TransportE2E, ReplayedRequestIsRejected) {
  std::string req = signed_raw_post(member_keys(), Json{{"q", 1}}, R"({"q":1})");
  EXPECT_EQ(raw(req).first, 200);
  auto [status, j] = raw(req);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(j["error"], "bad_request");
}

TEST_F(TransportE2E, MembershipRevokedAndUnauthorized) {
  auto revoked = make_client(revoked_keys());
  auto r = call(*revoked, "test.echo", Json::object());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::revoked);
  auto raw_r = m_io.run<Result<ClientResponse>>([&]() {
    return revoked->async_request(peer(), "POST", std::string(BUS_CALL_PATH), Json::object(), {},
                                  "test.echo");
  });
  ASSERT_TRUE(raw_r.has_value());
  EXPECT_EQ(raw_r->status, 403);
  auto stranger = make_client(stranger_keys());
  auto s = call(*stranger, "test.echo", Json::object());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::unauthorized);
  m_other_clients.push_back(std::move(revoked));
  m_other_clients.push_back(std::move(stranger));
}

TEST_F(TransportE2E, MalformedJsonAndOversizedBodyAreBadRequest) {
  auto [status, j] = raw(signed_raw_post(member_keys(), Json::object(), "{not json"));
  EXPECT_EQ(status, 400);
  EXPECT_EQ(j["error"], "bad_request");
  // Only the header: the server refuses from Content-Length alone.
  auto [s2, j2] = raw("POST /bus/v1/call HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                      std::to_string(MAX_REQUEST_BODY_BYTES + 1) + "\r\n\r\n");
  EXPECT_EQ(s2, 400);
  EXPECT_EQ(j2["error"], "bad_request");
  auto [s3, j3] = raw("GARBAGE\r\n\r\n");
  EXPECT_EQ(s3, 400);
  // The client refuses to send an oversized body at all.
  auto big = call(*m_client, "test.echo",
                  Json{{"blob", std::string(MAX_REQUEST_BODY_BYTES + 10, 'a')}});
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code, ErrorCode::bad_request);
}

// The client writes its requests itself: what would split a request (a line break in a
// header value, a space in the target) is refused before anything is sent.
TEST_F(TransportE2E, ClientRefusesRequestsThatWouldSplit) {
  auto r = call(*m_client, "test.echo\r\nX-Evil: 1", Json::object());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::bad_request) << r.error().to_string();
  auto g = m_io.run<Result<ClientResponse>>([&]() {
    return m_client->async_get_public(peer(), "/health HTTP/1.1\r\nX-Evil: 1\r\n\r\nGET /health");
  });
  ASSERT_FALSE(g.has_value());
  EXPECT_EQ(g.error().code, ErrorCode::bad_request);
  {
    std::lock_guard lock(m_records_mutex);
    EXPECT_TRUE(m_records.empty());  // the server saw neither
  }
  EXPECT_TRUE(call(*m_client, "test.echo", Json{{"x", 1}}).has_value());  // the client still works
}

TEST_F(TransportE2E, UnknownCapabilityAndRouteAreNotFound) {
  auto r = call(*m_client, "test.nope", Json::object());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  auto g = m_io.run<Result<ClientResponse>>([&]() {
    return m_client->async_get_public(peer(), "/nowhere");
  });
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->status, 404);
}

TEST_F(TransportE2E, PublicEndpoints) {
  auto get = [&](std::string path) {
    return m_io.run<Result<ClientResponse>>([&, path]() {
      return m_client->async_get_public(peer(), path);
    });
  };
  auto health = get("/health");
  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body["status"], "ok");
  auto manifest = get("/manifest");
  ASSERT_TRUE(manifest.has_value());
  EXPECT_EQ(manifest->body["node_id"], server_keys().node_id().str());
  auto metrics = get("/metrics");
  ASSERT_TRUE(metrics.has_value());
  EXPECT_EQ(metrics->text, "hn_up 1\n");
  auto ready = get("/ready");
  ASSERT_TRUE(ready.has_value());
  EXPECT_EQ(ready->status, 503);  // no readiness hook wired
  EXPECT_EQ(get("/community/manifest")->status, 404);
  EXPECT_TRUE(get("/trace/recent")->body.is_array());
}

TEST_F(TransportE2E, StreamArrivesInOrderWithOneTerminalFrameAcrossAcks) {
  const int n = 3 * STREAM_WINDOW_FRAMES + 5;  // needs several acks on the side channel
  std::vector<Frame> frames;
  auto done = m_io.run<Result<Frame>>([&]() {
    return m_client->async_stream(peer(), "test.stream", Version{1, 0}, Json{{"n", n}},
                                  [&](const Frame& f) {
                                    frames.push_back(f);
                                    return true;
                                  });
  });
  ASSERT_TRUE(done.has_value()) << done.error().to_string();
  EXPECT_EQ(done->event, "done");
  EXPECT_EQ(done->data["count"], n);
  EXPECT_EQ(done->seq, n + 1);
  ASSERT_EQ(frames.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(frames[static_cast<size_t>(i)].seq, i + 1);
    EXPECT_EQ(frames[static_cast<size_t>(i)].data["i"], i + 1);
    EXPECT_FALSE(is_terminal_event(frames[static_cast<size_t>(i)].event));
  }
}

// Every frame in order, whichever way the acks travel and however the server emits: one
// frame per call, or a whole batch whose window fills (and must be acked) mid-way.
TEST_F(TransportE2E, StreamAcksInBandOrOnTheSideChannelAndBatchedEmits) {
  const int n = 5 * STREAM_WINDOW_FRAMES + 3;
  auto side = make_client(member_keys(), ClientOptions::StreamAcks::side_channel);
  for (auto* c : {m_client.get(), side.get()}) {
    for (const char* cap : {"test.stream", "test.stream_batch"}) {
      std::vector<std::int64_t> seen;
      auto done = m_io.run<Result<Frame>>([&]() {
        return c->async_stream(peer(), cap, Version{1, 0}, Json{{"n", n}}, [&](const Frame& f) {
          seen.push_back(f.data["i"].get<std::int64_t>());
          return f.seq == static_cast<std::int64_t>(seen.size());
        });
      });
      ASSERT_TRUE(done.has_value()) << cap << ": " << done.error().to_string();
      EXPECT_EQ(done->seq, n + 1);
      ASSERT_EQ(seen.size(), static_cast<size_t>(n)) << cap;
      for (int i = 0; i < n; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], i + 1);
    }
  }
  m_other_clients.push_back(std::move(side));
}

// An async route: the verified, admitted request reaches the handler on the network
// thread, which only starts the work; the work answers from its own thread, signed (the
// client verifies it); an answer given at once works too; refused callers are refused in
// that path as well; a stream request to the route gets the stream.
TEST_F(TransportE2E, AsyncRouteAnswersFromTheWorkersThreadWithTheSameChecks) {
  auto r = m_io.run<Result<ClientResponse>>([&]() {
    return m_client->async_request(peer(), "POST", "/test/v1/async", Json{{"x", 1}});
  });
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->status, 200) << r->body.dump();
  EXPECT_EQ(r->body["caller"], member_keys().node_id().str());
  EXPECT_EQ(r->body["trust"], "member");
  EXPECT_EQ(r->body["echo"]["x"], 1);
  EXPECT_TRUE(m_handler_on_network.load());
  EXPECT_TRUE(m_work_off_network.load());

  auto now = m_io.run<Result<ClientResponse>>([&]() {
    return m_client->async_request(peer(), "POST", "/test/v1/async", Json{{"now", true}});
  });
  ASSERT_TRUE(now.has_value()) << now.error().to_string();
  EXPECT_EQ(now->status, 400);
  EXPECT_EQ(now->body["error"], "bad_request");

  m_handler_on_network = false;
  auto stranger = make_client(stranger_keys());
  auto refused = m_io.run<Result<ClientResponse>>([&]() {
    return stranger->async_request(peer(), "POST", "/test/v1/async", Json{{"x", 1}});
  });
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->body["error"], "unauthorized");
  EXPECT_FALSE(m_handler_on_network.load());  // refused before the handler
  m_other_clients.push_back(std::move(stranger));

  auto streamed = m_io.run<Result<Frame>>([&]() {
    return m_client->async_stream_request(peer(), "/test/v1/async", Json::object(), nullptr);
  });
  ASSERT_TRUE(streamed.has_value()) << streamed.error().to_string();
  EXPECT_EQ(streamed->data["streamed"], true);
}

// CONTRACT §5.1: with the contract's own `Accept: application/json, text/event-stream` the
// route's StreamChoice decides; without one, only a request that takes nothing but a
// stream streams. A stream request answered plainly gets the answer as its `done` frame.
TEST_F(TransportE2E, StreamOrPlainIsTheRoutesChoiceNotTheAcceptHeaders) {
  auto post = [&](const std::string& path, const Json& body, const std::string& accept) {
    auto env =
        sign_request(member_keys(), path, "0.0", kCommunity.str(), body, SystemClock::instance());
    const std::string wire = canonical_json(body);
    std::string req = "POST " + path + " HTTP/1.1\r\nHost: x\r\n";
    req += "Content-Type: application/json\r\n";
    for (auto& [k, v] : envelope_headers(env)) req += k + ": " + v + "\r\n";
    req += "Accept: " + accept + "\r\nConnection: close\r\n";
    req += "Content-Length: " + std::to_string(wire.size()) + "\r\n\r\n" + wire;
    return raw(req);
  };
  const std::string contract = "application/json, text/event-stream";
  auto plain = post("/test/v1/choice", Json{{"stream", false}}, contract);
  EXPECT_EQ(plain.first, 200);
  EXPECT_EQ(plain.second["plain"]["stream"], false) << plain.second.dump();
  auto streamed = post("/test/v1/choice", Json{{"stream", true}}, contract);
  EXPECT_EQ(streamed.first, 200);
  EXPECT_TRUE(streamed.second.is_null()) << "expected an event stream";
  auto plain_anyway = post("/test/v1/choice", Json{{"stream", false}}, "text/event-stream");
  EXPECT_EQ(plain_anyway.second["plain"]["stream"], false);
  // No chooser: the contract's header gets the plain handler.
  auto async_plain = post("/test/v1/async", Json{{"now", true}}, contract);
  EXPECT_EQ(async_plain.first, 400);
  EXPECT_EQ(async_plain.second["error"], "bad_request");

  // Our client's stream request to a route that answers plainly: the signed answer is the
  // `done` frame, with no frame before it.
  int frames = 0;
  auto done = m_io.run<Result<Frame>>([&]() {
    return m_client->async_stream_request(peer(), "/test/v1/choice", Json{{"stream", false}},
                                          [&](Frame&) { return ++frames, true; });
  });
  ASSERT_TRUE(done.has_value()) << done.error().to_string();
  EXPECT_EQ(done->event, "done");
  EXPECT_EQ(done->data["plain"]["stream"], false);
  EXPECT_EQ(frames, 0);
}

// CallOptions::before_read (relay backpressure): awaited before every socket read; while
// it holds back, no frame is read — and the stream still completes once it lets go.
TEST_F(TransportE2E, BeforeReadHoldsTheStreamBack) {
  const int n = 3 * STREAM_WINDOW_FRAMES;
  int waits = 0;
  int frames = 0;
  int frames_at_last_wait = -1;
  CallOptions o;
  o.before_read = [&]() -> asio::awaitable<void> {
    ++waits;
    frames_at_last_wait = frames;
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(2));
    co_await t.async_wait(asio::use_awaitable);
    EXPECT_EQ(frames, frames_at_last_wait);  // nothing was read meanwhile
  };
  auto done = m_io.run<Result<Frame>>([&]() {
    return m_client->async_stream(peer(), "test.stream", Version{1, 0}, Json{{"n", n}},
                                  [&](const Frame&) {
                                    ++frames;
                                    return true;
                                  },
                                  o);
  });
  ASSERT_TRUE(done.has_value()) << done.error().to_string();
  EXPECT_EQ(frames, n);
  EXPECT_GE(waits, 1);
}

// X01 §6.3: a reader that never acks gets the window (16 frames), then — after
// STREAM_ACK_TIMEOUT_SECONDS — one `error` frame `timeout` that ends the stream.
TEST_F(TransportE2E, StreamWithoutAcksEndsWithTimeoutAfterTheWindow) {
  auto stalled = make_client(member_keys(), ClientOptions::StreamAcks::none);
  int frames = 0;
  auto r = m_io.run<Result<Frame>>([&]() {
    return stalled->async_stream(peer(), "test.stream", Version{1, 0},
                                 Json{{"n", 4 * STREAM_WINDOW_FRAMES}}, [&](const Frame&) {
                                   ++frames;
                                   return true;
                                 });
  });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::timeout) << r.error().to_string();
  EXPECT_EQ(frames, STREAM_WINDOW_FRAMES);
  m_other_clients.push_back(std::move(stalled));
}

// A stream that goes quiet without a terminal frame ends with `timeout` once nothing has
// arrived for ClientOptions::stream_idle_timeout (a watchdog, not a deadline per read), and
// a reader holding back on purpose (before_read) is not silence.
TEST_F(TransportE2E, SilentStreamTimesOutAfterTheIdleTimeout) {
  std::unique_ptr<Client> quick;
  ClientOptions o;
  o.community = kCommunity;
  o.stream_idle_timeout = std::chrono::milliseconds(300);
  m_io.sync([&] { quick = std::make_unique<Client>(m_io.io().get_executor(), member_keys(), *m_pins, o); });
  int frames = 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = m_io.run<Result<Frame>>([&]() {
    return quick->async_stream(peer(), "test.silent", Version{1, 0}, Json::object(), [&](const Frame&) {
      ++frames;
      return true;
    });
  });
  const auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::timeout) << r.error().to_string();
  EXPECT_EQ(frames, 1);
  EXPECT_GE(waited, std::chrono::milliseconds(300));
  EXPECT_LT(waited, std::chrono::seconds(4));  // long before the server gives up (5 s)

  // Held back for longer than the idle timeout: the stream still completes.
  CallOptions held;
  bool first = true;
  held.before_read = [&]() -> asio::awaitable<void> {
    if (!first) co_return;
    first = false;
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(700));
    co_await t.async_wait(asio::use_awaitable);
  };
  frames = 0;
  auto done = m_io.run<Result<Frame>>([&]() {
    return quick->async_stream(peer(), "test.stream", Version{1, 0}, Json{{"n", 40}}, [&](const Frame&) {
      ++frames;
      return true;
    }, held);
  });
  ASSERT_TRUE(done.has_value()) << done.error().to_string();
  EXPECT_EQ(frames, 40);
  m_other_clients.push_back(std::move(quick));
}

TEST_F(TransportE2E, StreamErrorFrameBecomesTheError) {
  std::vector<Frame> frames;
  auto r = m_io.run<Result<Frame>>([&]() {
    return m_client->async_stream(peer(), "test.stream_error", Version{1, 0}, Json::object(),
                                  [&](const Frame& f) {
                                    frames.push_back(f);
                                    return true;
                                  });
  });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::capacity_exceeded);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].event, "progress");
  EXPECT_EQ(frames[0].data["stage"], "half");
}

TEST_F(TransportE2E, ClientDisconnectStopsTheServerHandler) {
  auto stopped = m_state.stream_stopped.get_future();
  int received = 0;
  auto r = m_io.run<Result<Frame>>([&]() {
    return m_client->async_stream(peer(), "test.endless", Version{1, 0}, Json::object(),
                                  [&](const Frame&) { return ++received < 3; });
  });
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().detail.value("cancelled", false));
  // The handler notices the disconnect and returns (guard against a hang, not a timing test).
  ASSERT_EQ(stopped.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_GE(stopped.get(), 3);
}

TEST_F(TransportE2E, StreamingErrorsBeforeOpeningAreEnvelopes) {
  auto stranger = make_client(stranger_keys());
  auto r = m_io.run<Result<Frame>>([&]() {
    return stranger->async_stream(peer(), "test.stream", Version{1, 0}, Json{{"n", 1}}, nullptr);
  });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::unauthorized);
  m_other_clients.push_back(std::move(stranger));
}

TEST_F(TransportE2E, PubSubLongPoll) {
  auto sub = [&](std::int64_t last_seq, int timeout_s) {
    return m_io.run<Result<ClientResponse>>([&, last_seq, timeout_s]() {
      return m_client->async_request(peer(), "GET", std::string(PUBSUB_SUBSCRIBE_PATH),
                                     Json{{"topic", "marketplace.post.created"},
                                          {"last_seq", last_seq}, {"timeout", timeout_s}});
    });
  };
  auto empty = sub(0, 0);
  ASSERT_TRUE(empty.has_value()) << empty.error().to_string();
  EXPECT_EQ(empty->status, 200) << empty->body.dump();
  EXPECT_TRUE(empty->body["timeout"].get<bool>());
  // A waiting subscriber is woken by a publish from another thread.
  std::thread publisher([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    m_server->pubsub().publish("marketplace.post.created", Json{{"title", "bike"}});
  });
  auto got = sub(0, 20);
  publisher.join();
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->status, 200);
  EXPECT_FALSE(got->body["timeout"].get<bool>());
  ASSERT_EQ(got->body["messages"].size(), 1u);
  EXPECT_EQ(got->body["messages"][0]["payload"]["title"], "bike");
  EXPECT_EQ(got->body["last_seq"], 1);
  auto bad = m_io.run<Result<ClientResponse>>([&]() {
    return m_client->async_request(peer(), "GET", std::string(PUBSUB_SUBSCRIBE_PATH),
                                   Json{{"topic", "bad topic"}});
  });
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->status, 400);
}

TEST_F(TransportE2E, RateLimitSoftGives429WithRetryAfter) {
  bool limited = false;
  for (int i = 0; i < RATE_LIMIT_SOFT_RPS_PER_CAP + 5 && !limited; ++i) {
    auto r = call(*m_client, "test.echo", Json::object());
    if (!r.has_value()) {
      EXPECT_EQ(r.error().code, ErrorCode::rate_limited);
      EXPECT_TRUE(r.error().retry_after_ms.has_value());
      limited = true;
    }
  }
  EXPECT_TRUE(limited);
}

TEST_F(TransportE2E, PinningMismatchIsRefused) {
  ASSERT_TRUE(call(*m_client, "test.echo", Json::object()).has_value());  // pins cert A
  m_io.sync([&] {
    m_client->close();
    m_server->stop();
  });
  m_io.sync([&] { m_server.reset(); });
  start_server(test::make_test_cert());  // same node id, another certificate
  auto r = call(*m_client, "test.echo", Json::object());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_signature);
}

TEST(TransportPinnedCerts, FirstSeenThenMismatch) {
  hn::test::TempDir dir;
  auto pins = PinnedCerts::open(dir / "p.db");
  ASSERT_TRUE(pins.has_value());
  NodeId n("ed25519:n");
  Bytes a(32, 1), b(32, 2);
  EXPECT_FALSE((*pins)->expected(n)->has_value());
  EXPECT_TRUE((*pins)->check_or_pin(n, a).has_value());
  EXPECT_TRUE((*pins)->check_or_pin(n, a).has_value());
  EXPECT_EQ((*pins)->check_or_pin(n, b).error().code, ErrorCode::invalid_signature);
  EXPECT_TRUE((*pins)->verify(n, a));
  EXPECT_FALSE((*pins)->verify(n, b));
  pins->reset();
  auto again = PinnedCerts::open(dir / "p.db");  // persisted
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ((*again)->expected(n)->value(), a);
  auto fp = cert_fingerprint_pem(cert().cert_pem);
  ASSERT_TRUE(fp.has_value());
  EXPECT_EQ(fp->size(), 32u);
  EXPECT_FALSE(cert_fingerprint_pem("nope").has_value());
}

}  // namespace
}  // namespace hn::transport
