// env.h — a snapshot of environment variables, handed to the config layer as a value so
// that no module reads the process environment directly (X04 §1) and tests never mutate
// the real environment.
//
// Thread-safety: a value type; const methods are safe to call concurrently.
// Invariants: names are stored verbatim; an empty value is a set, empty variable (callers
// decide whether "set but empty" counts as unset — path resolution does, per XDG).
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace hn::config {

class Env {
 public:
  // An empty environment (nothing set).
  Env() = default;
  // An environment holding exactly these variables.
  explicit Env(std::map<std::string, std::string, std::less<>> vars) : m_vars(std::move(vars)) {}
  // An environment holding these name/value pairs: Env({{"HOME", "/home/u"}}).
  Env(std::initializer_list<std::pair<const std::string, std::string>> vars) : m_vars(vars) {}
  // A snapshot of the calling process's environment (reads `environ` once).
  static Env from_process();

  // The value of name, or nullopt when unset.
  std::optional<std::string> get(std::string_view name) const;
  // The value of name when set and non-empty; nullopt otherwise (XDG treats empty as unset).
  std::optional<std::string> get_non_empty(std::string_view name) const;
  // Sets (or replaces) a variable in this snapshot only.
  void set(std::string name, std::string value) { m_vars[std::move(name)] = std::move(value); }
  // Removes a variable from this snapshot only.
  void unset(std::string_view name);

 private:
  std::map<std::string, std::string, std::less<>> m_vars;
};

}  // namespace hn::config
