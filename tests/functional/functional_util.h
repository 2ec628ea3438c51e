// functional_util.h — small helpers shared by the discovery functional tests
// (lan_netns_test.cpp, mdns_test.cpp): trimming CLI output, polling a condition, and
// reading `hearthnet status --json` peer lists.
//
// Thread-safety: plain functions, no shared state.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>

#include "core/json.h"

namespace hn::test {

inline std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// The full path of a program (run_process uses execve): PATH, then /usr/sbin and /sbin;
// "" when not found.
inline std::string find_program(const std::string& name) {
  const char* env_path = std::getenv("PATH");
  std::string dirs = std::string(env_path ? env_path : "") + ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::istringstream in(dirs);
  std::string dir;
  while (std::getline(in, dir, ':')) {
    if (dir.empty()) continue;
    std::error_code ec;
    const auto p = std::filesystem::path(dir) / name;
    if (std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0)
      return p.string();
  }
  return "";
}

// Polls pred every 200 ms for up to `seconds`; the last answer of pred.
template <typename Pred>
bool eventually(Pred pred, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return pred();
}

// The JSON object printed by `status --json`, empty on a bad answer.
inline Json parse_status(const std::string& text) {
  auto j = parse_json(text);
  return j && j->is_object() ? *j : Json::object();
}

// The entry of `peers.list` in a `status --json` document for node_id (full id), or null.
inline Json find_peer(const Json& status, const std::string& node_id) {
  const Json peers = status.value("peers", Json::object());
  for (const auto& p : peers.value("list", Json::array())) {
    if (p.is_object() && p.value("node_id", "") == node_id) return p;
  }
  return Json();
}

}  // namespace hn::test
