// serialize.cpp — Config → TOML text and the atomic save (X04 §4 save), driven by the key
// tables of detail/schema.h. The writer is hand-rolled so that sections come out in the
// spec's order with exact float round trips; parse.cpp reads its output back to an equal
// Config (tests/config/ checks it).
#include <charconv>
#include <cstdio>
#include <span>
#include <string>
#include <type_traits>
#include <variant>

#include "config/config.h"
#include "config/detail/common.h"
#include "config/detail/schema.h"
#include "core/file_util.h"

namespace hn::config {

namespace {

using detail::Field;
using detail::LLM_BACKEND_FIELDS;

// A TOML basic string: escapes quotes, backslashes and control characters, and "${" so that
// ${NAME} expansion on load gives the value back (X04 §7).
std::string toml_string(std::string_view raw) {
  std::string s = detail::escape_env_refs(raw);
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

// The shortest text that reads back as exactly v, always with a '.' or an exponent so that
// TOML sees a float. Non-finite values never get here (validate rejects them).
std::string toml_float(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

// Appends TOML text. put() has one overload per kind of Field::member (detail/field.h) and
// says whether it wrote the key: unset optionals and empty paths are left out.
class TomlWriter {
 public:
  void section(std::string_view name) {
    if (!m_out.empty()) m_out += '\n';
    m_out += "[" + std::string(name) + "]\n";
  }
  void array_section(std::string_view name) {
    if (!m_out.empty()) m_out += '\n';
    m_out += "[[" + std::string(name) + "]]\n";
  }
  void comment(std::string_view text) { m_out += "# " + std::string(text) + "\n"; }

  bool put(std::string_view key, bool v) { return line(key, v ? "true" : "false"); }
  bool put(std::string_view key, int v) { return line(key, std::to_string(v)); }
  bool put(std::string_view key, std::int64_t v) { return line(key, std::to_string(v)); }
  bool put(std::string_view key, double v) { return line(key, toml_float(v)); }
  bool put(std::string_view key, const std::string& v) { return line(key, toml_string(v)); }
  bool put(std::string_view key, Profile v) { return line(key, toml_string(to_string(v))); }
  bool put(std::string_view key, const std::optional<std::string>& v) {
    return v && put(key, *v);
  }
  bool put(std::string_view key, const fs::path& p) {
    return !p.empty() && put(key, p.native());
  }
  bool put(std::string_view key, const std::optional<fs::path>& p) {
    return p && put(key, p->native());
  }
  bool put(std::string_view key, const std::vector<std::string>& items) {
    std::string v = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0) v += ", ";
      v += toml_string(items[i]);
    }
    v += "]";
    return line(key, v);
  }
  std::string take() && { return std::move(m_out); }

 private:
  bool line(std::string_view key, std::string_view value) {
    m_out += std::string(key) + " = " + std::string(value) + "\n";
    return true;
  }
  std::string m_out;
};

// Writes v's fields under the current header; an array of tables becomes one
// [[table.key]] section per entry (the schema puts those last, as TOML needs).
template <typename S>
void write_fields(TomlWriter& w, std::string_view table,
                  std::span<const Field<std::type_identity_t<S>>> fields, const S& v) {
  for (const auto& f : fields) {
    std::visit(detail::Overloaded{
                   [&](std::vector<LlmBackendConfig> S::*member) {
                     for (const auto& entry : v.*member) {
                       w.array_section(std::string(table) + "." + std::string(f.key));
                       write_fields<LlmBackendConfig>(w, table, LLM_BACKEND_FIELDS, entry);
                     }
                   },
                   [&](auto member) {
                     if (!w.put(f.key, v.*member) && !f.unset_note.empty()) {
                       w.comment(f.unset_note);
                     }
                   }},
               f.member);
  }
}

}  // namespace

std::string serialize_config(const Config& cfg) {
  TomlWriter w;
  w.comment("HearthNet node configuration (X04). Empty paths resolve to XDG / HEARTHNET_HOME.");
  detail::for_each_section([&](const auto& section) {
    // A section of arrays of tables only ([llm]) needs no [name] header of its own.
    bool plain_keys = false;
    for (const auto& f : section.fields) plain_keys = plain_keys || !detail::is_array_of_tables(f);
    if (plain_keys) w.section(section.name);
    write_fields(w, section.name, section.fields, cfg.*section.member);
  });
  return std::move(w).take();
}

Status save_config(const Config& cfg, const fs::path& path) {
  HN_TRY(validate(cfg));
  auto written = atomic_write_file(path, serialize_config(cfg), fs::perms(0644));
  if (!written) {
    return detail::general_error("io", "cannot save config to " + path.string() + ": " +
                                           written.error().message);
  }
  return {};
}

}  // namespace hn::config
