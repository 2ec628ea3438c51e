// discovery_log.cpp — the log hook of discovery_log.h.
#include "discovery/discovery_log.h"

#include <iostream>
#include <memory>
#include <mutex>
#include <string>

namespace hn::discovery {
namespace {

std::mutex g_mutex;
std::shared_ptr<const LogHook> g_hook;

}  // namespace

void set_discovery_log_hook(LogHook hook) {
  std::lock_guard lock(g_mutex);
  g_hook = hook ? std::make_shared<const LogHook>(std::move(hook)) : nullptr;
}

void discovery_log(LogSeverity severity, std::string_view component, std::string_view msg) {
  std::shared_ptr<const LogHook> hook;
  {
    std::lock_guard lock(g_mutex);
    hook = g_hook;
  }
  if (hook) {
    (*hook)(severity, component, msg);
    return;
  }
  if (severity == LogSeverity::warning || severity == LogSeverity::error) {
    std::string line = std::string(severity == LogSeverity::warning ? "warning " : "error ") +
                       std::string(component) + ": " + std::string(msg) + "\n";
    std::cerr << line;
  }
}

}  // namespace hn::discovery
