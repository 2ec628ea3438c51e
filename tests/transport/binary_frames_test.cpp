// binary_frames_test.cpp — the binary stream framing (transport/binary_frames.h): the parser
// on split input and on bad bytes, and a real Server and Client over TLS on loopback where a
// client that asks for binary frames gets payloads and one that does not gets SSE.
#include <cstring>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "support/test_support.h"
#include "test_cert.h"
#include "transport/binary_frames.h"
#include "transport/client.h"
#include "transport/server.h"

namespace hn::transport {
namespace {

namespace asio = boost::asio;

Bytes pattern(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7);
  return b;
}

std::vector<Frame> sample_frames() {
  std::vector<Frame> f;
  f.push_back(Frame{"manifest", Json{{"chunks", 3}}, 1, {}});
  f.push_back(Frame{"chunk", Json{{"i", 0}, {"size_bytes", 300000}}, 2, pattern(300000, 1)});
  f.push_back(Frame{"chunk", Json{{"i", 1}, {"size_bytes", 1}}, 3, pattern(1, 9)});
  f.push_back(Frame{"done", Json{{"chunks", 2}}, 4, {}});
  return f;
}

std::string wire_of(const std::vector<Frame>& frames) {
  std::string out;
  for (const auto& f : frames) out += encode_binary_frame(f);
  return out;
}

void expect_same(const std::vector<Frame>& got, const std::vector<Frame>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].event, want[i].event) << i;
    EXPECT_EQ(got[i].seq, want[i].seq) << i;
    EXPECT_EQ(got[i].data, want[i].data) << i;
    EXPECT_EQ(got[i].payload, want[i].payload) << i;
  }
}

TEST(BinaryFrames, RoundTripSplitAnywhere) {
  const auto frames = sample_frames();
  const std::string wire = wire_of(frames);
  for (std::size_t step : {std::size_t{1}, std::size_t{3}, std::size_t{8}, std::size_t{13},
                           std::size_t{4096}, std::size_t{16384}, wire.size()}) {
    BinaryFrameParser p;
    std::vector<Frame> got;
    for (std::size_t at = 0; at < wire.size(); at += step) {
      ASSERT_TRUE(p.feed(std::string_view(wire).substr(at, step), got)) << step;
    }
    EXPECT_TRUE(p.at_frame_boundary());
    expect_same(got, frames);
  }
}

// A reader that reads payload bytes straight into the frame gets the same frames.
TEST(BinaryFrames, PayloadRoomTakesBytesStraightIn) {
  const auto frames = sample_frames();
  const std::string wire = wire_of(frames);
  BinaryFrameParser p;
  std::vector<Frame> got;
  std::size_t at = 0;
  while (at < wire.size()) {
    if (auto room = p.payload_room(); !room.empty()) {
      const std::size_t n = std::min<std::size_t>(room.size(), 5000);
      std::memcpy(room.data(), wire.data() + at, n);
      ASSERT_TRUE(p.commit_payload(n, got));
      at += n;
    } else {
      ASSERT_TRUE(p.feed(std::string_view(wire).substr(at, 7), got));
      at += 7;
    }
  }
  expect_same(got, frames);
  // Committing more than the room is a typed error, and the parser stays failed.
  BinaryFrameParser q;
  std::vector<Frame> out;
  ASSERT_TRUE(q.feed(encode_binary_frame(frames[1]).substr(0, 200), out));
  EXPECT_EQ(q.commit_payload(1 << 20, out).error().code, ErrorCode::bad_request);
  EXPECT_TRUE(q.failed());
}

std::string prefix(std::uint32_t header_len, std::uint32_t payload_len) {
  std::string s;
  for (std::uint32_t v : {header_len, payload_len}) {
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
  }
  return s;
}

std::string framed(const std::string& header, const std::string& payload = "") {
  return prefix(static_cast<std::uint32_t>(header.size()), static_cast<std::uint32_t>(payload.size())) +
         header + payload;
}

TEST(BinaryFrames, BadBytesAreTypedErrorsAndTheParserStaysFailed) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"header length 0", prefix(0, 0)},
      {"header past its bound", prefix(static_cast<std::uint32_t>(MAX_BINARY_FRAME_HEADER_BYTES + 1), 0)},
      {"payload past its bound", prefix(10, static_cast<std::uint32_t>(MAX_BINARY_FRAME_PAYLOAD_BYTES + 1))},
      {"header not JSON", framed("{not json}")},
      {"header an array", framed("[1,2,3]")},
      {"no seq", framed(R"({"data":{},"event":"chunk","x":1})")},
      {"seq 0", framed(R"({"data":{},"event":"chunk","seq":0})")},
      {"seq a string", framed(R"({"data":{},"event":"chunk","seq":"1"})")},
      {"bad event name", framed(R"({"data":{},"event":"a b","seq":1})")},
      {"extra key", framed(R"({"data":{},"event":"chunk","seq":1,"more":2})")},
      {"terminal frame with a payload", framed(R"({"data":{},"event":"done","seq":1})", "xyz")},
  };
  for (const auto& [why, bytes] : cases) {
    BinaryFrameParser p;
    std::vector<Frame> out;
    auto st = p.feed(bytes, out);
    ASSERT_FALSE(st) << why;
    EXPECT_EQ(st.error().code, ErrorCode::bad_request) << why;
    EXPECT_TRUE(out.empty()) << why;
    EXPECT_TRUE(p.failed()) << why;
    EXPECT_FALSE(p.feed(encode_binary_frame(sample_frames()[0]), out)) << why;
    EXPECT_TRUE(out.empty()) << why;
  }
  // A buffer cut inside a frame is truncated, not a frame.
  const std::string wire = wire_of(sample_frames());
  for (std::size_t cut : {std::size_t{3}, std::size_t{20}, wire.size() - 1}) {
    auto r = decode_binary_frames(std::string_view(wire).substr(0, cut));
    ASSERT_FALSE(r) << cut;
    EXPECT_EQ(r.error().code, ErrorCode::bad_request);
  }
}

// --- over a real server and client ---

class IoThread {
 public:
  IoThread() : m_guard(asio::make_work_guard(m_io)), m_thread([this] { m_io.run(); }) {}
  ~IoThread() {
    m_guard.reset();
    m_io.stop();
    m_thread.join();
  }
  asio::io_context& io() { return m_io; }
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
const CommunityId kCommunity("ed25519:community");
constexpr int FRAMES = 3 * STREAM_WINDOW_FRAMES + 5;  // several acks' worth
constexpr std::size_t PAYLOAD = 256 * 1024;

class BinaryStreamE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pins = PinnedCerts::open(m_dir.path() / "pins.db");
    ASSERT_TRUE(pins.has_value());
    m_pins = std::move(*pins);
    static const auto cert = test::make_test_cert();
    ServerOptions opts;
    opts.cert_pem = cert.cert_pem;
    opts.key_pem = cert.key_pem;
    opts.community = kCommunity;
    ServerHooks hooks;
    hooks.membership = [](const NodeId& id, const CommunityId&) -> Result<TrustLevel> {
      if (id == member_keys().node_id()) return TrustLevel::member;
      return make_error(ErrorCode::unauthorized, "not a member");
    };
    m_io.sync([&] {
      m_server = std::make_unique<Server>(m_io.io().get_executor(), server_keys(), opts, hooks);
      m_server->add_route("POST", std::string(BUS_CALL_PATH),
                          [](Request r, std::shared_ptr<SseWriter> w) { return handle(r, w); });
      auto port = m_server->start();
      ASSERT_TRUE(port.has_value());
      m_port = *port;
      ClientOptions o;
      o.community = kCommunity;
      o.default_timeout = std::chrono::seconds(20);
      m_client = std::make_unique<Client>(m_io.io().get_executor(), member_keys(), *m_pins, o);
    });
  }
  void TearDown() override {
    m_io.sync([&] {
      m_client.reset();
      m_server->stop();
    });
    m_io.sync([&] { m_server.reset(); });
  }

  // test.chunks: FRAMES chunk frames, with payloads when the stream is binary (as the file
  // service does), else their bytes' length alone. test.force: a payload whatever the stream.
  static asio::awaitable<Response> handle(Request r, std::shared_ptr<SseWriter> w) {
    const bool force = r.capability == "test.force";
    std::vector<OutFrame> frames;
    for (int i = 0; i < FRAMES; ++i) {
      OutFrame f{"chunk", Json{{"i", i}}, {}};
      if (w->binary() || force) f.payload = pattern(PAYLOAD, static_cast<std::uint8_t>(i));
      frames.push_back(std::move(f));
    }
    Status st = co_await w->async_emit_all(std::move(frames));
    if (!st) co_return Response::error(st.error());
    co_return Response::json(Json{{"count", FRAMES}, {"binary", w->binary()}});
  }

  Result<Frame> stream(const std::string& cap, bool binary, std::vector<Frame>& got) {
    return m_io.run<Result<Frame>>([&, cap, binary]() {
      CallOptions o;
      o.binary_frames = binary;
      return m_client->async_stream(Endpoint{"127.0.0.1", m_port, server_keys().node_id()}, cap,
                                    Version{1, 0}, Json::object(),
                                    [&](Frame& f) {
                                      got.push_back(std::move(f));
                                      return true;
                                    },
                                    o);
    });
  }

  hn::test::TempDir m_dir;
  IoThread m_io;
  std::unique_ptr<PinnedCerts> m_pins;
  std::unique_ptr<Server> m_server;
  std::unique_ptr<Client> m_client;
  std::uint16_t m_port = 0;
};

TEST_F(BinaryStreamE2E, AClientThatAsksGetsPayloadsInOrderAcrossAcks) {
  std::vector<Frame> got;
  auto done = stream("test.chunks", true, got);
  ASSERT_TRUE(done) << done.error().to_string();
  EXPECT_EQ(done->data["binary"], true);
  EXPECT_EQ(done->seq, FRAMES + 1);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(FRAMES));
  for (int i = 0; i < FRAMES; ++i) {
    const auto& f = got[static_cast<std::size_t>(i)];
    EXPECT_EQ(f.seq, i + 1);
    EXPECT_EQ(f.data["i"], i);
    EXPECT_EQ(f.payload, pattern(PAYLOAD, static_cast<std::uint8_t>(i))) << i;
  }
}

TEST_F(BinaryStreamE2E, AClientThatDoesNotAskGetsSseWithoutPayloads) {
  std::vector<Frame> got;
  auto done = stream("test.chunks", false, got);
  ASSERT_TRUE(done) << done.error().to_string();
  EXPECT_EQ(done->data["binary"], false);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(FRAMES));
  for (const auto& f : got) EXPECT_TRUE(f.payload.empty());
}

// A handler that puts a payload on a text stream is refused (typed, before anything is
// written), so an SSE client never sees half a frame.
TEST_F(BinaryStreamE2E, APayloadOnATextStreamIsABadRequest) {
  std::vector<Frame> got;
  auto r = stream("test.force", false, got);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::bad_request) << r.error().to_string();
  EXPECT_TRUE(got.empty());
}

}  // namespace
}  // namespace hn::transport
