// session.h — the dashboard's per-run session token (DESIGN.md: "the web UI gets a local
// session token, never an unauthenticated LAN port").
//
// The node makes one random token per run and prints the dashboard URL with it once
// (`/?token=…`). The first request that carries it is answered with a redirect that drops
// the token from the address bar and sets it as an HttpOnly, SameSite=Strict cookie; every
// later request — page, asset, API, event stream — must carry that cookie. A request
// without it (a LAN client, another site, a second local user without the URL) is refused.
// State-changing API calls also need the `X-HearthNet-UI` header, which a cross-site form
// cannot send without a CORS preflight the server never grants.
//
// Pure functions over header text; thread-safe. Tokens are compared in constant time.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hn::ui {

inline constexpr std::string_view SESSION_COOKIE = "hn_ui";
inline constexpr std::string_view TOKEN_QUERY_KEY = "token";
inline constexpr std::string_view UI_HEADER = "X-HearthNet-UI";

// 32 random bytes (libsodium), base64url: 43 characters.
std::string new_session_token();
// Constant-time comparison; false for an empty `presented`.
bool token_matches(std::string_view presented, std::string_view token);
// The value of cookie `name` in a Cookie header ("a=1; hn_ui=…"), if present.
std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name);
// The percent-decoded value of `key` in a request target's query ("/x?a=1&token=…").
std::optional<std::string> query_value(std::string_view target, std::string_view key);
// The target's path, without query or fragment.
std::string_view target_path(std::string_view target);
// The target without the `token` parameter (what the redirect points to).
std::string target_without_token(std::string_view target);
// The Set-Cookie header value that hands the browser its session.
std::string session_cookie(std::string_view token);

// What the server does with a request, given its target and Cookie header.
enum class Admission {
  allowed,               // the cookie carries the token
  redirect_with_cookie,  // ?token= matches: set the cookie, redirect to target_without_token
  refused,               // neither: 401
};
Admission admit(std::string_view target, std::string_view cookie_header, std::string_view token);

}  // namespace hn::ui
