// test_support.h — helpers shared by the test suites: scratch directories that clean up
// after themselves, paths of the build, child processes (run to the end, or in the
// background), and polling a condition.
//
// Thread-safety: one TempDir per test; the functions keep no shared state. Background
// children die with the thread that started them (tests start them from their main thread).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace hn::test {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

 private:
  std::filesystem::path m_path;
};

// The built `hearthnet` binary (HN_HEARTHNET_BIN, set by ctest).
std::filesystem::path hearthnet_binary();
// The source tree root (HN_SOURCE_DIR, set by ctest).
std::filesystem::path source_dir();
// The environment that points `hearthnet` at home: HEARTHNET_HOME and HOME.
std::vector<std::string> home_env(const std::filesystem::path& home);

// The whole file, "" when it cannot be read.
std::string read_text(const std::filesystem::path& path);
// s without its trailing newlines and spaces (one line of CLI output).
std::string trim(std::string s);
// The full path of a program (run_process uses execve): PATH, then /usr/sbin and /sbin;
// "" when not found.
std::string find_program(const std::string& name);

// A TCP port on 127.0.0.1 nothing listens on right now (bound, read, released): for a node
// whose port its peers must know before it starts.
int unused_tcp_port();

// How long functional tests wait for a mesh to settle (discovery, sync, health).
inline constexpr int WAIT_SECONDS = 40;

// Polls pred every 100 ms for up to `seconds`; the last answer of pred.
template <typename Pred>
bool eventually(Pred pred, int seconds = WAIT_SECONDS) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

}  // namespace hn::test

namespace hn::test {

// What a finished child process left behind.
struct ProcessResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;
  std::string err;
};

// Runs argv[0] with the given extra environment (KEY=VALUE, added to this process's),
// feeding stdin_data, and waits for it (killing it after timeout_seconds).
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::vector<std::string>& extra_env = {},
                          const std::string& stdin_data = "", int timeout_seconds = 120);

// Where a background child's stderr goes.
enum class ChildStderr { to_out_file, inherited };

// Starts argv[0] in the background with extra_env (as run_process), stdin from /dev/null and
// stdout — stderr too, unless inherited — into out_path. The child is SIGKILLed when the
// starting thread exits. Returns its pid (-1 when fork fails); the caller reaps it.
pid_t spawn_process(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                    const std::filesystem::path& out_path,
                    ChildStderr stderr_to = ChildStderr::to_out_file);

}  // namespace hn::test
