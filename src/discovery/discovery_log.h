// discovery_log.h — how the discovery layer reports warnings without depending on the
// observability layer (the node plugs X03 logging in with set_discovery_log_hook).
// Until a hook is installed, warnings and errors go to stderr, debug/info are dropped.
//
// Thread-safety: the hook may be replaced and called from any thread (guarded by a mutex;
// the hook itself is called outside the lock and must not call set_discovery_log_hook).
#pragma once

#include <functional>
#include <string_view>

namespace hn::discovery {

enum class LogSeverity { debug, info, warning, error };

// Receives (severity, component such as "discovery.udp", message).
using LogHook = std::function<void(LogSeverity, std::string_view, std::string_view)>;

// Installs hook (an empty function restores the stderr default).
void set_discovery_log_hook(LogHook hook);
// Sends one line to the installed hook.
void discovery_log(LogSeverity severity, std::string_view component, std::string_view msg);

}  // namespace hn::discovery
