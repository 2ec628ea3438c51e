// session.cpp — session token, cookie and query parsing (session.h).
#include "ui/session.h"

#include <sodium.h>

#include <array>
#include <cstdint>

#include "core/encoding.h"
#include "transport/envelope.h"

namespace hn::ui {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view query_of(std::string_view target) {
  auto hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);
  auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  return target.substr(q + 1);
}

}  // namespace

std::string new_session_token() {
  std::array<std::uint8_t, 32> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  return base64url_encode(bytes);
}

bool token_matches(std::string_view presented, std::string_view token) {
  if (presented.empty() || token.empty() || presented.size() != token.size()) return false;
  return sodium_memcmp(presented.data(), token.data(), token.size()) == 0;
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view pair = trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim(pair.substr(0, eq)) != name) continue;
    std::string_view value = trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return std::string(value);
  }
  return std::nullopt;
}

std::optional<std::string> query_value(std::string_view target, std::string_view key) {
  auto query = transport::parse_query(query_of(target));
  if (!query) return std::nullopt;
  auto it = query->find(std::string(key));
  if (it == query->end()) return std::nullopt;
  return it->second;
}

std::string_view target_path(std::string_view target) {
  auto end = target.find_first_of("?#");
  return end == std::string_view::npos ? target : target.substr(0, end);
}

std::string target_without_token(std::string_view target) {
  std::string out(target_path(target));
  std::string_view query = query_of(target);
  std::string kept;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == TOKEN_QUERY_KEY || pair.empty()) continue;
    if (!kept.empty()) kept.push_back('&');
    kept.append(pair);
  }
  if (out.empty()) out = "/";
  if (!kept.empty()) out += "?" + kept;
  return out;
}

std::string session_cookie(std::string_view token) {
  return std::string(SESSION_COOKIE) + "=" + std::string(token) +
         "; Path=/; HttpOnly; SameSite=Strict";
}

Admission admit(std::string_view target, std::string_view cookie_header, std::string_view token) {
  if (auto c = cookie_value(cookie_header, SESSION_COOKIE); c && token_matches(*c, token)) {
    return Admission::allowed;
  }
  if (auto t = query_value(target, TOKEN_QUERY_KEY); t && token_matches(*t, token)) {
    return Admission::redirect_with_cookie;
  }
  return Admission::refused;
}

}  // namespace hn::ui
