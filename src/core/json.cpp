// json.cpp — strict parsing and RFC 8785 canonicalisation.
#include "core/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

namespace hn {
namespace {

// Rejects nesting deeper than JSON_MAX_DEPTH before nlohmann's recursive parser sees it.
bool depth_ok(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > JSON_MAX_DEPTH) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

// Decodes UTF-8 into UTF-16 code units, for RFC 8785 §3.2.3 key ordering.
std::u16string to_utf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp;
    size_t len;
    if (c < 0x80) { cp = c; len = 1; }
    else if ((c >> 5) == 6) { cp = c & 0x1f; len = 2; }
    else if ((c >> 4) == 14) { cp = c & 0x0f; len = 3; }
    else if ((c >> 3) == 30) { cp = c & 0x07; len = 4; }
    else { out.push_back(c); ++i; continue; }  // invalid: order by the raw byte
    if (i + len > s.size()) { out.push_back(c); ++i; continue; }
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xd800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
    i += len;
  }
  return out;
}

// Appends s as a JSON string; runs of characters that need no escape go in one append.
void write_string(std::string& out, std::string_view s) {
  static constexpr char HEX[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // start of the pending unescaped run
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += HEX[c >> 4];
        out += HEX[c & 15];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

template <typename Int>
void write_int(std::string& out, Int v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// Whether every key of the object is ASCII: then std::map's byte order already is the
// UTF-16 code-unit order RFC 8785 §3.2.3 asks for, and no sort is needed.
bool ascii_keys(const Json& object) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    for (char ch : it.key()) {
      if (static_cast<unsigned char>(ch) >= 0x80) return false;
    }
  }
  return true;
}

bool write_value(std::string& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: out += "null"; return true;
    case Json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return true;
    case Json::value_t::number_integer: write_int(out, v.get<std::int64_t>()); return true;
    case Json::value_t::number_unsigned: write_int(out, v.get<std::uint64_t>()); return true;
    case Json::value_t::number_float: {
      double d = v.get<double>();
      if (!std::isfinite(d)) return false;
      out += format_es6_number(d);
      return true;
    }
    case Json::value_t::string: write_string(out, v.get_ref<const std::string&>()); return true;
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ',';
        first = false;
        if (!write_value(out, e)) return false;
      }
      out += ']';
      return true;
    }
    case Json::value_t::object: {
      // Members in UTF-16 code-unit order of their keys (RFC 8785 §3.2.3). std::map keeps
      // byte order, which is that order when every key is ASCII: then nothing is sorted.
      out += '{';
      bool first = true;
      auto member = [&](Json::const_iterator it) {
        if (!first) out += ',';
        first = false;
        write_string(out, it.key());
        out += ':';
        return write_value(out, it.value());
      };
      if (ascii_keys(v)) {
        for (auto it = v.begin(); it != v.end(); ++it) {
          if (!member(it)) return false;
        }
      } else {
        std::vector<std::pair<std::u16string, Json::const_iterator>> keys;
        keys.reserve(v.size());
        for (auto it = v.begin(); it != v.end(); ++it) keys.emplace_back(to_utf16(it.key()), it);
        std::sort(keys.begin(), keys.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& [k16, it] : keys) {
          if (!member(it)) return false;
        }
      }
      out += '}';
      return true;
    }
    case Json::value_t::binary:
    case Json::value_t::discarded:
      return false;
  }
  return false;
}

}  // namespace

std::string format_es6_number(double value) {
  if (value == 0) return "0";  // also -0
  std::string out;
  if (value < 0) {
    out += '-';
    value = -value;
  }
  // Shortest round-trip digits in scientific form: d[.ddd]e±XX
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  auto epos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, epos)) {
    if (c != '.') digits += c;
  }
  int exp10 = 0;
  std::from_chars(sci.data() + epos + 1 + (sci[epos + 1] == '+' ? 1 : 0), sci.data() + sci.size(),
                  exp10);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1;
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<size_t>(n));
    out += '.';
    out += digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += (n - 1 >= 0) ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

Result<Json> parse_json(std::string_view text) {
  if (!depth_ok(text)) return make_error(ErrorCode::bad_request, "JSON nested too deeply");
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(ErrorCode::bad_request, "malformed JSON");
  return j;
}

bool append_canonical_json(std::string& out, const Json& value) { return write_value(out, value); }

void append_json_string(std::string& out, std::string_view text) { write_string(out, text); }

Result<std::string> try_canonical_json(const Json& value) {
  std::string out;
  if (!write_value(out, value)) {
    return make_error(ErrorCode::bad_request, "value has no canonical JSON form (NaN, Inf or binary)");
  }
  return out;
}

std::string canonical_json(const Json& value) {
  auto r = try_canonical_json(value);
  assert(r.has_value() && "canonical_json on a non-finite number");
  return r.has_value() ? std::move(r).value() : std::string("null");
}

namespace {
Result<const Json*> field(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return make_error(ErrorCode::bad_request, "expected a JSON object");
  auto it = obj.find(key);
  if (it == obj.end()) {
    return make_error(ErrorCode::bad_request, "missing field '" + std::string(key) + "'");
  }
  return &*it;
}
Error wrong_type(std::string_view key, const char* want) {
  return make_error(ErrorCode::bad_request,
                    "field '" + std::string(key) + "' must be " + want);
}
}  // namespace

Result<std::string> get_string(const Json& obj, std::string_view key) {
  HN_TRY_ASSIGN(const Json* v, field(obj, key));
  if (!v->is_string()) return wrong_type(key, "a string");
  return v->get<std::string>();
}

Result<std::int64_t> get_int(const Json& obj, std::string_view key) {
  HN_TRY_ASSIGN(const Json* v, field(obj, key));
  if (v->is_number_integer()) return v->get<std::int64_t>();
  if (v->is_number_unsigned()) {
    auto u = v->get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(u);
  }
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9.007199254740992e15) {
      return static_cast<std::int64_t>(d);
    }
  }
  return wrong_type(key, "an integer");
}

Result<bool> get_bool(const Json& obj, std::string_view key) {
  HN_TRY_ASSIGN(const Json* v, field(obj, key));
  if (!v->is_boolean()) return wrong_type(key, "a boolean");
  return v->get<bool>();
}

Result<Json> get_object(const Json& obj, std::string_view key) {
  HN_TRY_ASSIGN(const Json* v, field(obj, key));
  if (!v->is_object()) return wrong_type(key, "an object");
  return *v;
}

Result<Json> get_array(const Json& obj, std::string_view key) {
  HN_TRY_ASSIGN(const Json* v, field(obj, key));
  if (!v->is_array()) return wrong_type(key, "an array");
  return *v;
}

namespace {

std::size_t digits(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

// nlohmann's dump escaping (ensure_ascii off): ", \ and the short escapes take 2 bytes,
// other control characters \u00XX 6, everything else (UTF-8 included) itself.
std::size_t string_dump_size(const std::string& s) {
  std::size_t n = 2;
  for (unsigned char c : s) {
    switch (c) {
      case '"': case '\\': case '\b': case '\f': case '\n': case '\r': case '\t':
        n += 2;
        break;
      default:
        n += c < 0x20 ? 6 : 1;
    }
  }
  return n;
}

}  // namespace

std::size_t json_dump_size(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object: {
      std::size_t n = 2;
      bool first = true;
      for (const auto& [k, v] : value.items()) {
        n += (first ? 0 : 1) + string_dump_size(k) + 1 + json_dump_size(v);
        first = false;
      }
      return n;
    }
    case Json::value_t::array: {
      std::size_t n = 2;
      bool first = true;
      for (const auto& v : value) {
        n += (first ? 0 : 1) + json_dump_size(v);
        first = false;
      }
      return n;
    }
    case Json::value_t::string:
      return string_dump_size(value.get_ref<const std::string&>());
    case Json::value_t::boolean:
      return value.get<bool>() ? 4 : 5;
    case Json::value_t::null:
      return 4;
    case Json::value_t::number_unsigned:
      return digits(value.get<std::uint64_t>());
    case Json::value_t::number_integer: {
      const auto v = value.get<std::int64_t>();
      if (v >= 0) return digits(static_cast<std::uint64_t>(v));
      return 1 + digits(static_cast<std::uint64_t>(-(v + 1)) + 1);
    }
    default:  // floats (shortest round-trip form) and binary: rare, dump them
      return value.dump().size();
  }
}

}  // namespace hn
