// test_support.h — helpers shared by the test suites: scratch directories that clean up
// after themselves, and paths of the build.
//
// Thread-safety: one TempDir per test.
#pragma once

#include <filesystem>
#include <string>

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
