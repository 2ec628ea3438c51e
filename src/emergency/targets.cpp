// targets.cpp — probe target syntax (targets.h).
#include "emergency/targets.h"

#include <charconv>

#include <boost/asio/ip/address.hpp>

namespace hn::emergency {
namespace {

bool is_ip(std::string_view s) {
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(std::string(s), ec);
  return !ec;
}

bool is_host_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t label = 0;
  for (char c : s) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

std::optional<std::uint16_t> parse_port(std::string_view s) {
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v == 0 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

// Splits "host", "host:port", "[v6]" or "[v6]:port"; a bare IPv6 literal has no port.
bool split_host_port(std::string_view s, std::string& host, std::optional<std::uint16_t>& port) {
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(s.substr(1, close - 1));
    const auto rest = s.substr(close + 1);
    if (rest.empty()) return true;
    if (rest.front() != ':') return false;
    port = parse_port(rest.substr(1));
    return port.has_value();
  }
  const auto colon = s.rfind(':');
  if (colon != std::string_view::npos && s.find(':') == colon) {
    host = std::string(s.substr(0, colon));
    port = parse_port(s.substr(colon + 1));
    return port.has_value();
  }
  host = std::string(s);
  return true;
}

Error bad(std::string_view text, std::string why) {
  return make_error(ErrorCode::config_error,
                    "emergency.probe_targets: \"" + std::string(text) + "\" " + std::move(why));
}

}  // namespace

Result<ProbeTarget> parse_probe_target(std::string_view text) {
  ProbeTarget t;
  t.text = std::string(text);
  if (text.starts_with("https://")) {
    auto rest = text.substr(8);
    const auto slash = rest.find('/');
    const auto authority = rest.substr(0, slash);
    t.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    std::optional<std::uint16_t> port;
    if (!split_host_port(authority, t.host, port) || !(is_ip(t.host) || is_host_name(t.host))) {
      return bad(text, "is not an https://host[:port][/path] URL");
    }
    t.kind = ProbeTarget::Kind::https;
    t.port = port.value_or(443);
    return t;
  }
  if (text.find("://") != std::string_view::npos) {
    return bad(text, "names a scheme other than https://");
  }
  std::optional<std::uint16_t> port;
  if (!split_host_port(text, t.host, port)) return bad(text, "has a bad port");
  if (is_ip(t.host)) {
    t.kind = ProbeTarget::Kind::dns;
    t.port = port.value_or(53);
    return t;
  }
  if (!is_host_name(t.host)) {
    return bad(text, "is neither a resolver's IP address, a host name nor an https:// URL");
  }
  t.kind = ProbeTarget::Kind::https;
  t.port = port.value_or(443);
  t.path = "/";
  return t;
}

Result<std::vector<ProbeTarget>> parse_probe_targets(const std::vector<std::string>& texts) {
  std::vector<ProbeTarget> out;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto t = parse_probe_target(texts[i]);
    if (!t) {
      return make_error(ErrorCode::config_error, "emergency.probe_targets[" + std::to_string(i) +
                                                     "]: " + t.error().message);
    }
    out.push_back(std::move(*t));
  }
  return out;
}

}  // namespace hn::emergency
