// read_buffered_tcp_test.cpp — the read-buffered TCP layer under TLS: whatever the reader's
// piece sizes (1 byte, odd sizes, more than the buffer), the bytes come out whole and in
// order, and the peer's close ends the reads with EOF once everything buffered was read.
#include "transport/detail/read_buffered_tcp.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace hn::transport::detail {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

TEST(ReadBufferedTcp, PiecesOfAnySizeComeOutWholeThenEof) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::vector<char> sent(3 * ReadBufferedTcp::READ_BUFFER_BYTES + 12345);
  for (std::size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>((i * 131) ^ (i >> 9));
  const auto port = acceptor.local_endpoint().port();
  std::thread writer([&] {
    asio::io_context wio;
    tcp::socket s(wio);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    // In odd pieces, so reads find partly filled socket buffers.
    for (std::size_t at = 0; at < sent.size();) {
      const std::size_t n = std::min<std::size_t>(sent.size() - at, 70001);
      asio::write(s, asio::buffer(sent.data() + at, n));
      at += n;
    }
    s.shutdown(tcp::socket::shutdown_send);
    s.close();
  });
  ReadBufferedTcp stream(acceptor.accept());
  std::vector<char> got;
  const std::size_t sizes[] = {1, 7, 16384, 300000, 3, 65536};
  std::size_t k = 0;
  boost::system::error_code end;
  for (;;) {
    std::vector<char> piece(sizes[k++ % std::size(sizes)]);
    boost::system::error_code ec;
    std::size_t n = 0;
    stream.async_read_some(asio::buffer(piece), [&](boost::system::error_code e, std::size_t m) {
      ec = e;
      n = m;
    });
    io.restart();
    io.run();
    ASSERT_LE(n, piece.size());
    got.insert(got.end(), piece.begin(), piece.begin() + static_cast<std::ptrdiff_t>(n));
    if (ec) {
      end = ec;
      break;
    }
    ASSERT_GT(n, 0u);
  }
  writer.join();
  EXPECT_EQ(end, asio::error::eof);
  ASSERT_EQ(got.size(), sent.size());
  EXPECT_TRUE(got == sent);
}

TEST(ReadBufferedTcp, AnEmptyReadCompletesAtOnceWithNothing) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  ReadBufferedTcp stream(acceptor.accept());
  bool done = false;
  stream.async_read_some(asio::mutable_buffer(), [&](boost::system::error_code ec, std::size_t n) {
    EXPECT_FALSE(ec);
    EXPECT_EQ(n, 0u);
    done = true;
  });
  io.run();
  EXPECT_TRUE(done);
}

}  // namespace
}  // namespace hn::transport::detail
