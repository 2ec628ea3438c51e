// env.cpp — Env: a value snapshot of environment variables (see env.h).
#include "config/env.h"

#include <unistd.h>

extern char** environ;  // POSIX

namespace hn::config {

Env Env::from_process() {
  std::map<std::string, std::string, std::less<>> vars;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view kv(*entry);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    vars.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return Env(std::move(vars));
}

std::optional<std::string> Env::get(std::string_view name) const {
  auto it = m_vars.find(name);
  if (it == m_vars.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Env::get_non_empty(std::string_view name) const {
  auto v = get(name);
  if (!v || v->empty()) return std::nullopt;
  return v;
}

void Env::unset(std::string_view name) {
  auto it = m_vars.find(name);
  if (it != m_vars.end()) m_vars.erase(it);
}

}  // namespace hn::config
