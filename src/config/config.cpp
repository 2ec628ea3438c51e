// config.cpp — X04 defaults, the shared error helpers, UTF-8 checks and ${NAME} expansion.
// The keys themselves are listed once, in detail/schema.h; parsing lives in parse.cpp
// (toml++), rendering and saving in serialize.cpp, validate() in validate.cpp.
#include "config/config.h"

#include <string>

#include "config/detail/common.h"
#include "config/detail/schema.h"
#include "core/utf8.h"

namespace hn::config {

// ---------------------------------------------------------------------------------------
// detail helpers

namespace detail {

bool is_env_name(std::string_view s) {
  if (s.empty()) return false;
  auto head = s.front();
  if (!(head == '_' || (head >= 'A' && head <= 'Z') || (head >= 'a' && head <= 'z'))) return false;
  for (char c : s) {
    bool ok = c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

Error field_error(std::string_view field, std::string_view problem, std::string_view what,
                  std::optional<std::int64_t> line) {
  std::string name = printable(field, 200);
  std::string message = name + ": " + std::string(what);
  nlohmann::json d = {{"reason", "invalid_field"},
                      {"field", name},
                      {"problem", std::string(problem)}};
  if (line) {
    message += " (line " + std::to_string(*line) + ")";
    d["line"] = *line;
  }
  return make_error(ErrorCode::config_error, std::move(message), std::move(d));
}

Error general_error(std::string_view reason, std::string message,
                    std::optional<std::int64_t> line) {
  nlohmann::json d = {{"reason", std::string(reason)}};
  if (line) d["line"] = *line;
  return make_error(ErrorCode::config_error, std::move(message), std::move(d));
}

std::string quote_value(std::string_view v) { return "\"" + printable(v, 64) + "\""; }

std::string printable(std::string_view v, std::size_t max_bytes) {
  std::string out;
  std::size_t i = 0;
  while (i < v.size() && i < max_bytes) {
    auto c = static_cast<unsigned char>(v[i]);
    if (c < 0x80) {
      out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
      ++i;
      continue;
    }
    std::size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    if (len > 1 && i + len <= v.size() && is_valid_utf8(v.substr(i, len))) {
      out += v.substr(i, len);
      i += len;
    } else {
      out += '?';
      ++i;
    }
  }
  if (i < v.size()) out += "...";
  return out;
}

bool is_valid_utf8(std::string_view s) { return hn::is_valid_utf8(s); }

std::optional<std::string> expand_env_refs(std::string_view s, const Env& env,
                                           std::string* problem) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    if (s.substr(i, 3) == "$${") {
      out += "${";
      i += 3;
      continue;
    }
    if (s.substr(i, 2) == "${") {
      auto close = s.find('}', i + 2);
      if (close == std::string_view::npos) {
        *problem = "unterminated ${ in value";
        return std::nullopt;
      }
      auto name = s.substr(i + 2, close - i - 2);
      if (!is_env_name(name)) {
        *problem = "bad environment variable name in ${" + std::string(name) + "}";
        return std::nullopt;
      }
      auto value = env.get(name);
      if (!value) {
        *problem = "environment variable " + std::string(name) + " is not set";
        return std::nullopt;
      }
      out += *value;
      i = close + 1;
      continue;
    }
    out += s[i];
    ++i;
  }
  return out;
}

std::string escape_env_refs(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') out += '$';
    out += s[i];
  }
  return out;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------

std::span<const std::string_view> known_llm_backends() { return detail::LLM_BACKENDS; }
std::span<const std::string_view> known_log_levels() { return detail::LOG_LEVELS; }

Config default_config() { return Config{}; }
}  // namespace hn::config
