// read_buffered_tcp.h — the TCP layer under TLS, with a read buffer. OpenSSL (through
// asio::ssl) asks its next layer for at most one TLS record (~17 KiB) a read; on a bulk
// stream (a file's chunk frames) that was one recvmsg, and often one epoll_wait, per 16 KiB
// — ~65k of each per GiB, on a machine where a syscall costs microseconds. This layer reads
// up to READ_BUFFER_BYTES from the socket at once and hands TLS its records from memory.
// Writes pass straight through. A drop-in next layer for beast::ssl_stream: the same
// executor, beast::get_lowest_layer reaches the beast::tcp_stream (its timeouts and socket).
//
// Thread-safety: as beast::tcp_stream — one reader and one writer at a time, on its executor.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace hn::transport::detail {

class ReadBufferedTcp {
 public:
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;
  using lowest_layer_type = next_layer_type::socket_type;  // asio::ssl::stream asks
  static constexpr std::size_t READ_BUFFER_BYTES = 256 * 1024;

  template <class Arg>
  explicit ReadBufferedTcp(Arg&& arg)
      : m_next(std::forward<Arg>(arg)), m_buffer(std::make_unique<char[]>(READ_BUFFER_BYTES)) {}

  next_layer_type& next_layer() noexcept { return m_next; }
  const next_layer_type& next_layer() const noexcept { return m_next; }
  executor_type get_executor() noexcept { return m_next.get_executor(); }
  lowest_layer_type& lowest_layer() noexcept { return m_next.socket(); }
  const lowest_layer_type& lowest_layer() const noexcept { return m_next.socket(); }

  // What is buffered first; when nothing is, one socket read of up to READ_BUFFER_BYTES.
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_compose<Token, void(boost::beast::error_code, std::size_t)>(
        [this, buffers, filling = false](auto& self, boost::beast::error_code ec = {},
                                         std::size_t n = 0) mutable {
          if (filling) {
            if (ec) return self.complete(ec, 0);
            m_begin = 0;
            m_end = n;
          }
          if (boost::asio::buffer_size(buffers) == 0) return self.complete({}, 0);
          if (m_begin == m_end) {
            filling = true;
            m_next.async_read_some(boost::asio::buffer(m_buffer.get(), READ_BUFFER_BYTES),
                                   std::move(self));
            return;
          }
          const std::size_t copied = boost::asio::buffer_copy(
              buffers, boost::asio::buffer(m_buffer.get() + m_begin, m_end - m_begin));
          m_begin += copied;
          self.complete({}, copied);
        },
        token, m_next);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return m_next.async_write_some(buffers, std::forward<Token>(token));
  }

 private:
  next_layer_type m_next;
  std::unique_ptr<char[]> m_buffer;
  std::size_t m_begin = 0;  // unread bytes are m_buffer[m_begin, m_end)
  std::size_t m_end = 0;
};

}  // namespace hn::transport::detail
