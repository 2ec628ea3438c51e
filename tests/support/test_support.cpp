// test_support.cpp — scratch directories and build paths for tests.
#include "support/test_support.h"

#include <cstdlib>
#include <stdexcept>

namespace hn::test {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/hn-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  m_path = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(m_path, ec);
}

std::filesystem::path hearthnet_binary() {
  const char* p = std::getenv("HN_HEARTHNET_BIN");
  return p ? p : "hearthnet";
}

std::filesystem::path source_dir() {
  const char* p = std::getenv("HN_SOURCE_DIR");
  return p ? p : ".";
}

}  // namespace hn::test
