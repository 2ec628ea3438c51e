// export_file_test.cpp — blobs::ExportFile (`file get --out`): chunks written once at their
// offsets, in any order, appear at the target only whole and by one rename; an abandoned
// export leaves nothing; a killed writer's temporary file is taken over, a live one is not;
// and VerifiedChunk, the hash-once handle the store trusts.
#include "blobs/export_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "blobs/chunker.h"
#include "blobs/store.h"
#include "core/file_util.h"
#include "blobs/blob_fixtures.h"
#include "support/test_support.h"

namespace hn::blobs {
namespace {

Bytes pattern_bytes(std::size_t n, std::uint32_t seed = 5) { return test_fixtures::pattern_bytes(n, seed); }
using test_fixtures::slurp;

int count_entries(const fs::path& dir) {
  int n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

const std::string CID = "blake3:" + std::string(64, 'a');

TEST(ExportFile, ChunksInAnyOrderAppearAtTheTargetOnlyWhenCommitted) {
  test::TempDir dir;
  const fs::path target = dir.path() / "movie.bin";
  const Bytes data = pattern_bytes(3 * 1000 + 17);
  auto file = ExportFile::open(target, CID, static_cast<std::int64_t>(data.size()));
  ASSERT_TRUE(file.has_value()) << file.error().to_string();
  const fs::path tmp = (*file)->temp_path();
  EXPECT_EQ(tmp, ExportFile::temp_path_for(target, CID));
  EXPECT_EQ(tmp.filename().string().rfind(".movie.bin.tmp-aaaaaaaaaaaaaaaa", 0), 0u) << tmp;
  // Sized up front; the target does not exist while the chunks arrive (last chunk first).
  EXPECT_EQ(fs::file_size(tmp), data.size());
  const std::span<const std::uint8_t> all(data);
  ASSERT_TRUE((*file)->write_at(3000, all.subspan(3000)).has_value());
  ASSERT_TRUE((*file)->write_at(1000, all.subspan(1000, 1000)).has_value());
  ASSERT_TRUE((*file)->write_at(0, all.subspan(0, 1000)).has_value());
  ASSERT_TRUE((*file)->write_at(2000, all.subspan(2000, 1000)).has_value());
  EXPECT_FALSE(fs::exists(target));
  ASSERT_TRUE((*file)->commit().has_value());
  EXPECT_EQ(slurp(target), data);
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_EQ(count_entries(dir.path()), 1);
  EXPECT_FALSE((*file)->commit().has_value());  // once only
}

TEST(ExportFile, AnAbandonedExportLeavesNothing) {
  test::TempDir dir;
  const fs::path target = dir.path() / "x.bin";
  {
    auto file = ExportFile::open(target, CID, 4096);
    ASSERT_TRUE(file.has_value());
    ASSERT_TRUE((*file)->write_at(0, pattern_bytes(100)).has_value());
  }
  EXPECT_EQ(count_entries(dir.path()), 0);
}

// A fetch killed with SIGKILL leaves its hidden temporary file; the next export of the same
// blob to the same target takes it over (no litter) and writes every byte again.
TEST(ExportFile, AKilledWritersFileIsTakenOverAndALiveOneIsNot) {
  test::TempDir dir;
  const fs::path target = dir.path() / "x.bin";
  const fs::path stale = ExportFile::temp_path_for(target, CID);
  {
    std::ofstream f(stale, std::ios::binary);
    f << std::string(5000, 'z');  // longer than the blob, and garbage
  }
  const Bytes data = pattern_bytes(1234);
  auto file = ExportFile::open(target, CID, static_cast<std::int64_t>(data.size()));
  ASSERT_TRUE(file.has_value()) << file.error().to_string();
  EXPECT_EQ(fs::file_size(stale), data.size());

  // While this writer lives, a second export of the same target and blob is refused.
  auto second = ExportFile::open(target, CID, static_cast<std::int64_t>(data.size()));
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, ErrorCode::bad_request);
  // Another blob to the same target has its own temporary file.
  const std::string other = "blake3:" + std::string(64, 'b');
  EXPECT_TRUE(ExportFile::open(target, other, 10).has_value());

  ASSERT_TRUE((*file)->write_at(0, data).has_value());
  ASSERT_TRUE((*file)->commit().has_value());
  EXPECT_EQ(slurp(target), data);
  EXPECT_EQ(count_entries(dir.path()), 1);
}

TEST(ExportFile, AMissingDirectoryIsATypedError) {
  test::TempDir dir;
  auto file = ExportFile::open(dir.path() / "no" / "such" / "x.bin", CID, 10);
  ASSERT_FALSE(file.has_value());
  EXPECT_EQ(file.error().code, ErrorCode::not_found);
}

// The hash-once handle: only check() makes one, and a mismatch makes none; the store takes
// it without hashing again and reads it back verified.
TEST(VerifiedChunk, CheckedOnceThenStoredAsIs) {
  const Bytes data = pattern_bytes(70 * 1024);
  const std::string cid = hash_bytes(data);
  Bytes flipped = data;
  flipped[7] ^= 1;
  auto bad = VerifiedChunk::check(cid, flipped);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::hash_mismatch);

  auto good = VerifiedChunk::check(cid, data);
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(good->cid(), cid);
  EXPECT_EQ(good->size(), data.size());

  test::TempDir dir;
  auto store = BlobStore::open(dir.path() / "blobs");
  ASSERT_TRUE(store.has_value());
  ASSERT_TRUE((*store)->write_chunk(*good, BlobStore::Durability::deferred).has_value());
  ASSERT_TRUE((*store)->sync_all().has_value());
  auto back = (*store)->read_chunk(cid);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, data);
}

}  // namespace
}  // namespace hn::blobs
