// json.h — JSON at the edges: strict parsing of outside bytes, and canonical JSON per
// RFC 8785 (JCS), which is the byte form of everything HearthNet signs or hashes
// (CONTRACT §1.2, DESIGN.md).
//
// Thread-safety: pure functions.
// Invariants: canonical_json(parse(canonical_json(x))) == canonical_json(x).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace hn {

using Json = nlohmann::json;

// Maximum nesting depth accepted from outside bytes.
inline constexpr int JSON_MAX_DEPTH = 64;

// Parses untrusted bytes: UTF-8 only, no duplicate-key tricks beyond nlohmann's
// last-wins, depth ≤ JSON_MAX_DEPTH. Errors are ErrorCode::bad_request.
Result<Json> parse_json(std::string_view text);

// RFC 8785 canonical form. Errors (bad_request) only for non-finite numbers.
Result<std::string> try_canonical_json(const Json& value);
// The same for values known to be finite (anything parse_json produced, or built in code);
// a non-finite number here is a programming bug.
std::string canonical_json(const Json& value);
// Appends value's canonical form to out (for signing strings built piecewise); false, with
// out partly written, for a non-finite number.
bool append_canonical_json(std::string& out, const Json& value);
// Appends text as a canonical JSON string literal (quotes and RFC 8785 escapes).
void append_json_string(std::string& out, std::string_view text);

// Serialises one double the way ECMAScript's Number.prototype.toString does (RFC 8785 §3.2.2.3).
std::string format_es6_number(double value);

// Exactly value.dump().size(), without building the string (byte counts for metrics).
std::size_t json_dump_size(const Json& value);

// Field accessors that turn a missing or mistyped field into a typed error naming it.
Result<std::string> get_string(const Json& obj, std::string_view key);
Result<std::int64_t> get_int(const Json& obj, std::string_view key);
Result<bool> get_bool(const Json& obj, std::string_view key);
Result<Json> get_object(const Json& obj, std::string_view key);
Result<Json> get_array(const Json& obj, std::string_view key);

}  // namespace hn
