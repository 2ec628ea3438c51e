// url.cpp — parsing http(s) URLs.
#include <charconv>

#include "httpc/client.h"

namespace hn::httpc {

std::string Url::to_string() const {
  return std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(port) +
         (path == "/" ? "" : path);
}

Url Url::with_path(std::string_view suffix) const {
  Url u = *this;
  u.path = (path == "/" ? "" : path) + std::string(suffix);
  if (u.path.empty()) u.path = "/";
  return u;
}

Result<Url> parse_url(std::string_view text) {
  Url url;
  std::string_view rest;
  if (text.starts_with("http://")) {
    rest = text.substr(7);
  } else if (text.starts_with("https://")) {
    url.tls = true;
    rest = text.substr(8);
  } else {
    return make_error(ErrorCode::bad_request,
                      "URL \"" + std::string(text) + "\" must start with http:// or https://");
  }
  if (rest.find_first_of("?#@ ") != std::string_view::npos) {
    return make_error(ErrorCode::bad_request, "URL \"" + std::string(text) +
                                                  "\" may not hold user info, a query or a space");
  }
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  std::string_view port_text;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return make_error(ErrorCode::bad_request, "URL \"" + std::string(text) + "\": bad IPv6 host");
    }
    url.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        return make_error(ErrorCode::bad_request, "URL \"" + std::string(text) + "\": bad host");
      }
      port_text = authority.substr(close + 2);
    }
  } else {
    auto colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) {
    return make_error(ErrorCode::bad_request, "URL \"" + std::string(text) + "\" has no host");
  }
  url.port = url.tls ? 443 : 80;
  if (!port_text.empty() || authority.ends_with(':')) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return make_error(ErrorCode::bad_request,
                        "URL \"" + std::string(text) + "\" has a bad port");
    }
    url.port = static_cast<std::uint16_t>(value);
  }
  url.path = path;
  return url;
}

}  // namespace hn::httpc
