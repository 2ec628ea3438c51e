// http_client.h — a small HTTP/1.1 client for talking to inference servers (llama-server,
// vLLM, LM Studio, Ollama, the hosted APIs): one request per connection, the response body
// handed over piece by piece as it arrives (SSE and NDJSON streams), plain TCP or TLS
// (system trust store, SNI). Built on Boost.Beast with a private io_context per request run
// on the calling thread, so a service's queue thread drives it and no shared thread waits.
// The transport layer's client speaks only the signed mesh protocol over pinned TLS, and a
// service may not use the transport layer anyway (doc/design/llm.md).
//
// Thread-safety: http_exchange is reentrant; `cancel` may be cancelled from any thread and
// stops the exchange within one scheduler tick (the socket is closed).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bus/capability.h"
#include "core/error.h"

namespace hn::services::llm::http {

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

struct HttpRequest {
  std::string method = "POST";
  Url url;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Host, Content-Length
  std::string body;
  std::chrono::milliseconds connect_timeout{5000};
  // Longest silence allowed while waiting for the head or the next body bytes.
  std::chrono::milliseconds idle_timeout{120000};
};

struct HttpResponseHead {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string header(const std::string& name) const;
};

// Called once with the head, then with each piece of the body as it arrives. An error
// from either stops the exchange and is returned as is.
struct ResponseHandler {
  std::function<Status(const HttpResponseHead&)> on_head;
  std::function<Status(std::string_view)> on_body;
};

// Runs one exchange. Errors: internal_error for a connection that cannot be made, broke,
// or ended before the response did ("backend unreachable" / "stream ended early");
// timeout for the connect or idle timeouts; timeout with detail {"cancelled": true} when
// `cancel` was cancelled; any error a handler returned. Never throws.
Status http_exchange(const HttpRequest& request, const ResponseHandler& handler,
                     const bus::CancelToken& cancel);

// The whole response at once (bodies up to `max_body` bytes; larger: internal_error).
struct HttpResponse {
  HttpResponseHead head;
  std::string body;
};
Result<HttpResponse> http_fetch(const HttpRequest& request, const bus::CancelToken& cancel,
                                std::size_t max_body = 16 * 1024 * 1024);

}  // namespace hn::services::llm::http
