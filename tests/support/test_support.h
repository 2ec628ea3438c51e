// test_support.h — helpers shared by the test suites: scratch directories that clean up
// after themselves, and paths of the build.
//
// Thread-safety: one TempDir per test.
#pragma once

#include <filesystem>
#include <string>
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

}  // namespace hn::test
