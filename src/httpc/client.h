// client.h — a small plain HTTP/1.1 client for servers outside the mesh (inference servers:
// llama-server, vLLM, LM Studio, Ollama, the hosted APIs; embedding servers): one request per
// connection, the response body handed over piece by piece as it arrives (SSE and NDJSON
// streams), plain TCP or TLS (system trust store, SNI, host name verified). Built on
// Boost.Beast with a private io_context per exchange, run on the calling thread, so a
// service's queue thread drives it and no shared thread waits on an outside server.
// The transport layer's client speaks only the signed mesh protocol over pinned TLS; this
// one is for everything else (doc/design/architecture.md, layer `httpc`).
//
// Thread-safety: exchange() and fetch() are reentrant; `cancel` may be cancelled from any
// thread and stops the exchange within one scheduler tick (the socket is closed).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/cancel_token.h"
#include "core/error.h"

namespace hn::httpc {

// A parsed http(s) URL.
struct Url {
  bool tls = false;
  std::string host;
  std::uint16_t port = 0;
  std::string path;  // always starts with '/'; no trailing '/' unless it is "/"

  // "scheme://host:port" + path.
  std::string to_string() const;
  // This URL with `suffix` appended to its path ("/v1" + "/chat/completions").
  Url with_path(std::string_view suffix) const;
};

// Parses "http://host[:port][/path]" or "https://…"; bad_request naming the problem for
// anything else (another scheme, no host, a bad port, user info, a query or fragment).
Result<Url> parse_url(std::string_view text);

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "POST";
  Url url;
  Headers headers;  // besides Host, User-Agent and Content-Length
  std::string body;
  std::chrono::milliseconds connect_timeout{5000};
  // Longest silence allowed while waiting for the head or the next body bytes.
  std::chrono::milliseconds idle_timeout{120000};
};

struct ResponseHead {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  // The value of a header ("" when absent); `name` in any case.
  std::string header(const std::string& name) const;
};

// Called once with the head, then with each piece of the body as it arrives. An error
// from either stops the exchange and is returned as is.
struct ResponseHandler {
  std::function<Status(const ResponseHead&)> on_head;
  std::function<Status(std::string_view)> on_body;
};

// Runs one exchange. Errors: internal_error for a connection that cannot be made (detail
// {"unreachable": true}: nothing was sent), broke, or ended before the response did ("the
// stream ended early"); timeout for the connect or idle timeouts; timeout with detail
// {"cancelled": true} when `cancel` was cancelled; any error a handler returned. Messages
// name the URL, never a header value. Never throws.
Status exchange(const Request& request, const ResponseHandler& handler, const CancelToken& cancel);

// The whole response at once (bodies up to `max_body` bytes; larger: internal_error).
struct Response {
  ResponseHead head;
  std::string body;
};
Result<Response> fetch(const Request& request, const CancelToken& cancel,
                       std::size_t max_body = 16 * 1024 * 1024);

// Whether an error of exchange()/fetch() says the server could not be reached at all.
bool is_unreachable(const Error& error);

}  // namespace hn::httpc
