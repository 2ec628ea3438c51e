// server.h — the dashboard's HTTP server (M08): serves the embedded SPA (assets.h) and the
// small API the page needs at ui.host:ui.port (X04 [ui], default 127.0.0.1:7860).
//
// Every request must carry the run's session token (session.h); a request without it gets
// 401 and reaches nothing behind the server. The backend holds no service logic:
//   GET  /api/session                 {"mode": "node"|"setup", ...}
//   POST /api/call                    {"capability", "version"?, "body", "stream"?, "node"?}
//                                     → one bus call as the node itself; with "stream": true
//                                     the answer is an SSE stream of the call's frames
//   GET  /api/events                  SSE: pubsub topics, topology and recent call traces
//   GET|POST /api/node/<route>        the node's own `self` routes (/node/v1/<route>)
//   GET  /api/manifest, /api/community/manifest, /api/trace/recent, /api/ready, /api/health
// In node mode these reach the running node exactly as the CLI does (node_link.h: signed
// with the node's key over loopback, so the node grants `self`). In setup mode (no
// community yet, M13 first run) the composer adds its own routes with add_api().
//
// Threading: everything runs on the executor given (the node's network thread); start/stop
// /add_api on that thread or before it runs. stop() may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>  // before Asio 1.74's awaitable.hpp, which uses std::exchange

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/error.h"
#include "core/json.h"
#include "ui/node_link.h"

namespace hn::ui {
namespace detail {
struct ServerImpl;
}

inline constexpr std::size_t MAX_UI_BODY_BYTES = 8 * 1024 * 1024;

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 7860;  // 0: any free port
  std::string token;          // the run's session token (new_session_token())
};

// An API answer: a JSON body with its status.
struct ApiResponse {
  int status = 200;
  Json body = Json::object();
  static ApiResponse error(const Error& e);
};
using ApiHandler = std::function<boost::asio::awaitable<ApiResponse>(Json body)>;

class Server {
 public:
  Server(boost::asio::any_io_executor executor, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Node mode: API calls go to this node. Before start().
  void set_node(NodeLinkOptions link);
  // An extra route under /api/ (setup mode), e.g. add_api("POST", "/api/setup/create", …).
  void add_api(std::string method, std::string path, ApiHandler handler);
  // Binds (SO_REUSEADDR) and starts accepting; returns the bound port.
  Result<std::uint16_t> start();
  void stop();
  std::uint16_t port() const;
  // "http://HOST:PORT/?token=…" — the one URL that opens a session.
  std::string url() const;

 private:
  std::shared_ptr<detail::ServerImpl> m_impl;
};

// Opens url in the desktop's browser (xdg-open, detached) when a display is there;
// false when there is none or xdg-open is missing.
bool launch_browser(const std::string& url);

}  // namespace hn::ui
