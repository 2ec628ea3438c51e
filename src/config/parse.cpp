// parse.cpp — TOML text → Config with toml++ (X04 §4 load), driven by the key tables of
// detail/schema.h. Every toml++ exception is caught here; a failure names the dotted key
// (or the line of a syntax error) and leaves no partial Config behind.
#include <exception>
#include <limits>
#include <set>
#include <span>
#include <string>
#include <type_traits>
#include <variant>

#include <toml++/toml.h>

#include "config/config.h"
#include "config/detail/common.h"
#include "config/detail/schema.h"
#include "core/file_util.h"

namespace hn::config {

namespace {

using detail::Check;
using detail::Field;
using detail::for_each_section;
using detail::LLM_BACKEND_FIELDS;
using detail::Rule;

std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    default: return "nothing";
  }
}

std::int64_t line_of(const toml::node& n) { return static_cast<std::int64_t>(n.source().begin.line); }

class TableReader;

// Reads fields from r into out, then rejects the keys no field names.
template <typename S>
Status read_fields(TableReader& r, std::span<const Field<std::type_identity_t<S>>> fields,
                   S& out);

// Reads the keys of one TOML table into typed fields, remembering which keys it consumed so
// that finish() can reject the rest as unknown. Fields keep their defaults when absent.
// read() has one overload per kind of Field::member (detail/field.h).
class TableReader {
 public:
  TableReader(const toml::table& table, std::string prefix, const Env& env)
      : m_table(table), m_prefix(std::move(prefix)), m_env(env) {}

  std::string field(std::string_view key) const { return m_prefix + std::string(key); }

  Status read(std::string_view key, bool& out, const Rule&) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    if (const auto* v = n->as_boolean()) {
      out = v->get();
      return {};
    }
    return wrong_type(key, *n, "boolean");
  }

  Status read(std::string_view key, std::int64_t& out, const Rule&) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    if (const auto* v = n->as_integer()) {
      out = v->get();
      return {};
    }
    return wrong_type(key, *n, "integer");
  }

  // An int field (a port): the value must also lie in the rule's range (int's by default).
  Status read(std::string_view key, int& out, const Rule& rule) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    const auto* v = n->as_integer();
    if (v == nullptr) return wrong_type(key, *n, "integer");
    const bool ranged = rule.check == Check::range;
    const std::int64_t lo = ranged ? rule.lo : std::numeric_limits<int>::min();
    const std::int64_t hi = ranged ? rule.hi : std::numeric_limits<int>::max();
    std::int64_t value = v->get();
    if (value < lo || value > hi) {
      return detail::field_error(field(key), detail::PROBLEM_OUT_OF_RANGE,
                                 std::to_string(value) + " is out of range (" +
                                     std::to_string(lo) + ".." + std::to_string(hi) + ")",
                                 line_of(*n));
    }
    out = static_cast<int>(value);
    return {};
  }

  // A float field; an integer is accepted too ("gc_threshold = 1").
  Status read(std::string_view key, double& out, const Rule&) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    if (const auto* v = n->as_floating_point()) {
      out = v->get();
      return {};
    }
    if (const auto* v = n->as_integer()) {
      out = static_cast<double>(v->get());
      return {};
    }
    return wrong_type(key, *n, "number");
  }

  Status read(std::string_view key, std::string& out, const Rule&) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    return string_value(field(key), *n, out);
  }

  Status read(std::string_view key, std::optional<std::string>& out, const Rule&) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    std::string value;
    HN_TRY(string_value(field(key), *n, value));
    out = std::move(value);
    return {};
  }

  Status read(std::string_view key, fs::path& out, const Rule&) {
    std::string value;
    const auto* n = find(key);
    if (n == nullptr) return {};
    HN_TRY(string_value(field(key), *n, value));
    out = fs::path(value);
    return {};
  }

  Status read(std::string_view key, std::optional<fs::path>& out, const Rule&) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    std::string value;
    HN_TRY(string_value(field(key), *n, value));
    out = fs::path(value);
    return {};
  }

  Status read(std::string_view key, std::vector<std::string>& out, const Rule&) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    const auto* arr = n->as_array();
    if (arr == nullptr) return wrong_type(key, *n, "array of strings");
    std::vector<std::string> values;
    values.reserve(arr->size());
    for (std::size_t i = 0; i < arr->size(); ++i) {
      std::string value;
      HN_TRY(string_value(field(key) + "[" + std::to_string(i) + "]", *arr->get(i), value));
      values.push_back(std::move(value));
    }
    out = std::move(values);
    return {};
  }

  Status read(std::string_view key, Profile& out, const Rule&) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    std::string value;
    HN_TRY(string_value(field(key), *n, value));
    auto p = parse_profile(value);
    if (!p) {
      return detail::field_error(field(key), detail::PROBLEM_INVALID_VALUE,
                                 detail::quote_value(value) + " is not one of: anchor, hearth, spark, bridge",
                                 line_of(*n));
    }
    out = *p;
    return {};
  }

  // [[llm.backends]]: an array of tables, each read with LLM_BACKEND_FIELDS — M04 §6.
  Status read(std::string_view key, std::vector<LlmBackendConfig>& out, const Rule&) {
    const auto* n = find(key);
    if (n == nullptr) return {};
    const auto* arr = n->as_array();
    if (arr == nullptr) {
      return wrong_type(key, *n, "array of tables ([[" + field(key) + "]])");
    }
    std::vector<LlmBackendConfig> items;
    for (std::size_t i = 0; i < arr->size(); ++i) {
      auto base = field(key) + "[" + std::to_string(i) + "]";
      const auto& item = *arr->get(i);
      const auto* t = item.as_table();
      if (t == nullptr) {
        return detail::field_error(base, detail::PROBLEM_WRONG_TYPE,
                                   "expected table, got " + std::string(type_name(item)),
                                   line_of(item));
      }
      if (t->get("name") == nullptr) {
        return detail::field_error(base + ".name", detail::PROBLEM_INVALID_VALUE,
                                   "missing required key", line_of(item));
      }
      TableReader r(*t, base + ".", m_env);
      LlmBackendConfig b;
      HN_TRY(read_fields<LlmBackendConfig>(r, LLM_BACKEND_FIELDS, b));
      items.push_back(std::move(b));
    }
    out = std::move(items);
    return {};
  }

  Status wrong_type(std::string_view key, const toml::node& n, std::string_view expected) const {
    return detail::field_error(field(key), detail::PROBLEM_WRONG_TYPE,
                               "expected " + std::string(expected) + ", got " +
                                   std::string(type_name(n)),
                               line_of(n));
  }

  // Rejects every key that no read above asked for.
  Status finish() const {
    for (auto&& [k, v] : m_table) {
      if (m_seen.count(std::string(k.str())) == 0) {
        return detail::field_error(field(k.str()), detail::PROBLEM_UNKNOWN_KEY, "unknown key",
                                   line_of(v));
      }
    }
    return {};
  }

 private:
  const toml::node* find(std::string_view key) {
    m_seen.emplace(key);
    return m_table.get(key);
  }

  Status string_value(const std::string& name, const toml::node& n, std::string& out) const {
    const auto* v = n.as_string();
    if (v == nullptr) {
      return detail::field_error(name, detail::PROBLEM_WRONG_TYPE,
                                 "expected string, got " + std::string(type_name(n)),
                                 line_of(n));
    }
    const std::string& raw = v->get();
    if (raw.find('\0') != std::string::npos) {
      return detail::field_error(name, detail::PROBLEM_INVALID_VALUE, "contains a NUL character",
                                 line_of(n));
    }
    std::string problem;
    auto expanded = detail::expand_env_refs(raw, m_env, &problem);
    if (!expanded) {
      return detail::field_error(name, detail::PROBLEM_INVALID_VALUE, problem, line_of(n));
    }
    out = std::move(*expanded);
    return {};
  }

  const toml::table& m_table;
  std::string m_prefix;
  const Env& m_env;
  std::set<std::string, std::less<>> m_seen;
};

template <typename S>
Status read_fields(TableReader& r, std::span<const Field<std::type_identity_t<S>>> fields,
                   S& out) {
  for (const auto& f : fields) {
    HN_TRY(std::visit([&](auto member) { return r.read(f.key, out.*member, f.rule); },
                      f.member));
  }
  return r.finish();
}

bool is_section(std::string_view name) {
  bool known = false;
  for_each_section([&](const auto& section) { known = known || section.name == name; });
  return known;
}

Result<Config> parse_table(const toml::table& root, const Env& env) {
  // Unknown or mistyped sections first, in key order, so the error is deterministic.
  for (auto&& [k, v] : root) {
    if (!is_section(k.str())) {
      return detail::field_error(k.str(), detail::PROBLEM_UNKNOWN_KEY, "unknown section",
                                 line_of(v));
    }
    if (!v.is_table()) {
      return detail::field_error(k.str(), detail::PROBLEM_WRONG_TYPE,
                                 "expected table, got " + std::string(type_name(v)), line_of(v));
    }
  }
  Config cfg = default_config();
  Status status;
  for_each_section([&](const auto& section) {
    const auto* t = root.get_as<toml::table>(section.name);
    if (!status || t == nullptr) return;
    TableReader r(*t, std::string(section.name) + ".", env);
    status = read_fields(r, section.fields, cfg.*section.member);
  });
  HN_TRY(status);
  HN_TRY(validate(cfg));
  return cfg;
}

}  // namespace

Result<Config> parse_config_text(std::string_view toml, const Env& env) {
  try {
    toml::table root = toml::parse(toml, std::string_view("config.toml"));
    return parse_table(root, env);
  } catch (const toml::parse_error& e) {
    auto line = static_cast<std::int64_t>(e.source().begin.line);
    auto column = static_cast<std::int64_t>(e.source().begin.column);
    return detail::general_error("invalid_toml",
                                 "invalid TOML at line " + std::to_string(line) + ", column " +
                                     std::to_string(column) + ": " +
                                     detail::printable(e.description(), 300),
                                 line);
  } catch (const std::exception& e) {
    return detail::general_error("invalid_toml",
                                 "cannot read config: " + detail::printable(e.what(), 300));
  }
}

Result<Config> load_config(const fs::path& path, const Env& env) {
  auto text = read_file(path, MAX_CONFIG_FILE_BYTES);
  if (!text) {
    const Error& e = text.error();
    if (e.code == ErrorCode::not_found) return text.take_error();
    if (e.code == ErrorCode::bad_request) {
      return detail::general_error("io", path.string() + ": larger than " +
                                             std::to_string(MAX_CONFIG_FILE_BYTES) + " bytes");
    }
    return detail::general_error("io", path.string() + ": " + e.message);
  }
  auto cfg = parse_config_text(*text, env);
  if (!cfg) {
    Error e = cfg.take_error();
    e.message = path.string() + ": " + e.message;
    e.detail["path"] = path.string();
    return e;
  }
  return cfg;
}

Result<Config> load_config_or_default(const fs::path& path, const Env& env) {
  std::error_code ec;
  if (!fs::exists(path, ec) && !ec) return default_config();
  return load_config(path, env);
}

}  // namespace hn::config
