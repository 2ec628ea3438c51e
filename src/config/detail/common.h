// detail/common.h — helpers shared by the config layer's translation units: the one way
// a config error is built (X04 §4 ConfigError codes in detail.reason), UTF-8 checks, and
// ${NAME} expansion / escaping.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/env.h"
#include "core/error.h"

namespace hn::config::detail {

// Problem kinds carried in detail.problem of an invalid_field error.
inline constexpr std::string_view PROBLEM_UNKNOWN_KEY = "unknown_key";
inline constexpr std::string_view PROBLEM_WRONG_TYPE = "wrong_type";
inline constexpr std::string_view PROBLEM_OUT_OF_RANGE = "out_of_range";
inline constexpr std::string_view PROBLEM_INVALID_VALUE = "invalid_value";

// config_error "<field>: <what>[ (line N)]" with detail {reason: invalid_field, field,
// problem, line?}.
Error field_error(std::string_view field, std::string_view problem, std::string_view what,
                  std::optional<std::int64_t> line = std::nullopt);
// config_error with detail {reason} and no field (invalid_toml, path_resolution, io).
Error general_error(std::string_view reason, std::string message,
                    std::optional<std::int64_t> line = std::nullopt);

// A value quoted for an error message: at most 64 bytes, control characters and bytes of
// malformed UTF-8 shown as '?', so messages stay printable and valid JSON strings.
std::string quote_value(std::string_view v);
// The same without quotes and with a caller-chosen length cap (for keys and parser text).
std::string printable(std::string_view v, std::size_t max_bytes);

// Whether s is well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF).
bool is_valid_utf8(std::string_view s);

// Whether s is an environment variable name: [A-Za-z_][A-Za-z0-9_]*.
bool is_env_name(std::string_view s);
// Expands ${NAME} from env and turns "$${" into a literal "${". On failure returns
// nullopt and sets *problem to a sentence (unterminated, bad name, unset variable).
std::optional<std::string> expand_env_refs(std::string_view s, const Env& env,
                                           std::string* problem);
// The inverse for literal text: every "${" becomes "$${", so expansion gives s back.
std::string escape_env_refs(std::string_view s);

}  // namespace hn::config::detail
