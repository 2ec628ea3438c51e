// probes.h — the two probe primitives of M09 §3.2 (`_probe_dns`, `_probe_http`) as Asio
// coroutines: one DNS A query over UDP to a resolver, one HTTPS HEAD to a web server. Each
// ends within its timeout (EMERGENCY_PROBE_TIMEOUT_SECONDS) whatever the far side does,
// never throws, and says why it failed. A HEAD succeeds on any complete HTTP response (a
// proxy or captive portal counts as reachable: M09 §10 accepts that for the MVP); its
// `Date` header feeds the clock check (M09 §5.5).
//
// Thread-safety: run each coroutine on one executor; `tls` is shared read-only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>  // before Asio 1.74's headers, which use std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include "emergency/targets.h"

namespace hn::emergency {

struct ProbeOutcome {
  bool ok = false;
  std::string error;                  // why not, when !ok
  std::int64_t ms = 0;                // how long it took
  std::optional<std::int64_t> date_ms;  // https: the response's Date header (Unix ms)
};

// A client TLS context for the HTTPS probes: the system's trust store and host name
// checks when `verify`, no checks otherwise (tests with self-signed servers).
std::shared_ptr<boost::asio::ssl::context> make_probe_tls(bool verify);

// Asks target (a resolver) for name's A record.
boost::asio::awaitable<ProbeOutcome> async_probe_dns(ProbeTarget target, std::string name,
                                                     std::chrono::milliseconds timeout);

// HEAD target's URL over TLS.
boost::asio::awaitable<ProbeOutcome> async_probe_https(
    ProbeTarget target, std::shared_ptr<boost::asio::ssl::context> tls, bool verify,
    std::chrono::milliseconds timeout);

// Either probe, by target kind.
boost::asio::awaitable<ProbeOutcome> async_probe(ProbeTarget target, std::string dns_name,
                                                 std::shared_ptr<boost::asio::ssl::context> tls,
                                                 bool verify, std::chrono::milliseconds timeout);

// RFC 7231 §7.1.1.1 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") → Unix ms.
std::optional<std::int64_t> parse_http_date(std::string_view text);

}  // namespace hn::emergency
