// file_util_test.cpp — atomic writes keep mode and never leave temp files behind.
#include "core/file_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/test_support.h"

namespace hn {
namespace {

TEST(FileUtil, AtomicWriteReplacesAndKeepsMode) {
  test::TempDir dir;
  auto path = dir / "sub/secret.key";
  ASSERT_TRUE(atomic_write_file(path, "one", fs::perms(0600)).has_value());
  ASSERT_TRUE(atomic_write_file(path, "two", fs::perms(0600)).has_value());
  EXPECT_EQ(*read_file(path), "two");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  int entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(path.parent_path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(FileUtil, ReadMissingIsNotFound) {
  test::TempDir dir;
  auto r = read_file(dir / "absent");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
}

}  // namespace
}  // namespace hn
