// detail/field.h — a config key as data. A Field names one TOML key of a section struct,
// points at its member (the member's type is the key's kind: bool, int, int64, double,
// string, path, Profile, optional string/path, string list, or [[llm.backends]]) and says
// how validate() checks the value. parse.cpp, serialize.cpp and validate.cpp walk the
// tables of detail/schema.h, so each key is spelled once there (besides its member in
// config.h).
//
// Thread-safety: constant data and pure functions.
// Invariants (checked at compile time by well_formed, see schema.h): keys are unique within
// a table; a rule suits its field's kind; an array of tables comes after every other key of
// its table (TOML writes sub-tables last).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "config/config.h"

namespace hn::config::detail {

class Checker;  // validate.cpp: collects the first problem validate() finds

// What validate() checks of a value beyond its type (X04 §4). A string check applies to a
// string, to an optional string when set and to each item of a string list.
enum class Check : std::uint8_t {
  none,
  non_empty,  // string: not ""
  host,       // string: not "", no whitespace or control characters
  one_of,     // string: one of Rule::set
  format,     // string: Rule::valid(value) holds, else Rule::problem
  range,      // int/int64: Rule::lo ≤ value ≤ Rule::hi (for an int also when parsing)
  positive,   // int/int64: value > 0
  fraction,   // double: 0 < value ≤ 1
};

// Whether a string or path value is first checked to be text: no NUL, valid UTF-8.
enum class Text : bool { unchecked, checked };

struct Rule {
  Check check = Check::none;
  std::int64_t lo = 0;
  std::int64_t hi = 0;
  std::span<const std::string_view> set = {};
  bool (*valid)(std::string_view) = nullptr;
  std::string_view problem = {};  // Check::format's message; "{}" stands for the quoted value
  Text text = Text::checked;
};

constexpr Rule non_empty() { return {.check = Check::non_empty}; }
constexpr Rule host() { return {.check = Check::host}; }
constexpr Rule one_of(std::span<const std::string_view> set, Text text = Text::checked) {
  return {.check = Check::one_of, .set = set, .text = text};
}
// `valid` must not be null (validate treats a null check as failing). The static checks
// below cannot test it: comparing a function's address with null is not a constant
// expression in a sanitized build.
constexpr Rule format(bool (*valid)(std::string_view), std::string_view problem) {
  return {.check = Check::format, .valid = valid, .problem = problem};
}
constexpr Rule range(std::int64_t lo, std::int64_t hi) {
  return {.check = Check::range, .lo = lo, .hi = hi};
}
constexpr Rule positive() { return {.check = Check::positive}; }
constexpr Rule fraction() { return {.check = Check::fraction}; }

// A pointer to the member that holds a key's value; which alternative is its kind.
template <typename S>
using Member = std::variant<bool S::*, int S::*, std::int64_t S::*, double S::*, std::string S::*,
                            fs::path S::*, Profile S::*, std::optional<std::string> S::*,
                            std::optional<fs::path> S::*, std::vector<std::string> S::*,
                            std::vector<LlmBackendConfig> S::*>;

// One key of section struct S.
template <typename S>
struct Field {
  std::string_view key;
  Member<S> member;
  Rule rule = {};
  // A rule across fields of S, checked right after this field's own (validate reports the
  // first problem, so where it sits decides which one). prefix: "transport.",
  // "llm.backends[0].", …
  void (*then)(Checker&, std::string_view prefix, const S&) = nullptr;
  // Written by save as a comment where the key is left out (an unset optional).
  std::string_view unset_note = {};
};

// One [section] of Config and its keys.
template <typename S>
struct Section {
  std::string_view name;
  S Config::*member;
  std::span<const Field<S>> fields;
};

// Whether f is an array of tables ([[section.key]]) rather than a plain key.
template <typename S>
constexpr bool is_array_of_tables(const Field<S>& f) {
  return std::holds_alternative<std::vector<LlmBackendConfig> S::*>(f.member);
}

// Whether f's rule suits its kind (a rule that would be ignored is a mistake in a table).
template <typename S>
constexpr bool rule_fits(const Field<S>& f) {
  return std::visit(
      [&](auto m) {
        using T = std::remove_cvref_t<decltype(std::declval<S&>().*m)>;
        const Check c = f.rule.check;
        if (c == Check::none) return true;
        if constexpr (std::is_same_v<T, int> || std::is_same_v<T, std::int64_t>) {
          return c == Check::range || c == Check::positive;
        } else if constexpr (std::is_same_v<T, double>) {
          return c == Check::fraction;
        } else if constexpr (std::is_same_v<T, std::string> ||
                             std::is_same_v<T, std::optional<std::string>> ||
                             std::is_same_v<T, std::vector<std::string>>) {
          return c == Check::non_empty || c == Check::host ||
                 (c == Check::one_of && !f.rule.set.empty()) ||
                 c == Check::format;
        } else {
          return false;
        }
      },
      f.member);
}

// The invariants above, for one table.
template <typename S>
constexpr bool well_formed(std::span<const Field<S>> fields) {
  bool tables_started = false;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (!rule_fits(fields[i])) return false;
    for (std::size_t j = 0; j < i; ++j) {
      if (fields[j].key == fields[i].key) return false;
    }
    if (is_array_of_tables(fields[i])) {
      tables_started = true;
    } else if (tables_started) {
      return false;
    }
  }
  return true;
}

// std::visit with one lambda per kind.
template <typename... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
// (clang 14, the fuzz build's compiler, has no aggregate deduction without a guide.)
template <typename... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace hn::config::detail
