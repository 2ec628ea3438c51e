// asio_names.h — the Boost.Asio / Beast headers and short names the transport's server and
// client insides share (detail/server_impl.h, detail/client_impl.h).
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "transport/detail/read_buffered_tcp.h"

namespace hn::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
// TLS over TCP, with the socket read in large pieces (detail/read_buffered_tcp.h).
using SslStream = beast::ssl_stream<detail::ReadBufferedTcp>;
using asio::redirect_error;
using asio::use_awaitable;

}  // namespace hn::transport
