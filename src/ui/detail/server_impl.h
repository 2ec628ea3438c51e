// server_impl.h — the UI server's state, shared by server.cpp (accept, admission, static
// files, plain API) and events.cpp (the event stream, streamed calls). src/ui only.
//
// Threading: every member is touched on the executor's thread only (stopping also from
// Server::stop, which is atomic and posts the rest).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "ui/server.h"

namespace hn::ui::detail {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;
using StreamPtr = std::shared_ptr<boost::beast::tcp_stream>;

// POST /api/call's body, parsed.
struct CallRequest {
  std::string capability;
  Version version;
  Json body = Json::object();
  bool stream = false;
  std::string node;  // empty: the router chooses
};
Result<CallRequest> parse_call(const Json& body);

// Bytes queued for one browser connection that streams (SSE): writes go out one at a
// time in order; the producer waits for room (backpressure) or for the queue to drain.
class StreamOut : public std::enable_shared_from_this<StreamOut> {
 public:
  explicit StreamOut(StreamPtr stream);
  void push(std::string bytes);
  bool failed() const { return m_failed; }
  void fail();  // the browser went away (or the server stops)
  // Waits while more than `limit` bytes are queued (returns early once failed).
  boost::asio::awaitable<void> async_wait_room(std::size_t limit);
  // Sleeps up to `ms`, returning early once failed.
  boost::asio::awaitable<void> async_sleep(std::chrono::milliseconds ms);
  // Reads (and ignores) what the browser sends, to notice when it closes.
  void watch_close();

 private:
  void write_next();
  void notify();
  StreamPtr m_stream;
  std::deque<std::string> m_queue;
  std::size_t m_queued = 0;
  bool m_writing = false;
  bool m_failed = false;
  boost::asio::steady_timer m_signal;
  std::array<char, 256> m_sink{};
};

struct ServerImpl : std::enable_shared_from_this<ServerImpl> {
  ServerImpl(boost::asio::any_io_executor ex, ServerOptions o)
      : executor(ex), options(std::move(o)), acceptor(ex) {}

  boost::asio::awaitable<void> async_accept_loop();
  boost::asio::awaitable<void> async_session(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<HttpResponse> async_dispatch(HttpRequest req);
  boost::asio::awaitable<HttpResponse> async_api(HttpRequest req, std::string path);
  boost::asio::awaitable<ApiResponse> async_node_api(std::string method, std::string path,
                                                     Json body);
  // events.cpp
  boost::asio::awaitable<void> async_events(StreamPtr stream);
  boost::asio::awaitable<void> async_stream_call(StreamPtr stream, CallRequest call);
  void wake_all();

  boost::asio::any_io_executor executor;
  ServerOptions options;
  boost::asio::ip::tcp::acceptor acceptor;
  std::uint16_t bound_port = 0;
  std::atomic<bool> stopping{false};
  std::unique_ptr<NodeLink> link;
  std::map<std::pair<std::string, std::string>, ApiHandler> extra_routes;
  std::list<std::weak_ptr<boost::beast::tcp_stream>> open;
  std::list<std::weak_ptr<StreamOut>> outs;  // every open stream (closed on stop)

  // The event hub (events.cpp): one set of loops for all open pages, running while at
  // least one page listens; what they read is broadcast to every page.
  std::list<std::weak_ptr<StreamOut>> listeners;
  std::set<std::string> running_loops;  // "topology", "traces", "topic:<name>"
  std::string last_topology;            // the newest `topology` frame, for a new page
  std::string last_topology_json;       // the same topology as JSON, for index.html's boot data
  bool has_listeners();
  void broadcast(const std::string& frame);
  void start_hub_loops();
};

}  // namespace hn::ui::detail
