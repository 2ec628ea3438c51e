// gc_test.cpp — M07 §3.2 gc / §5.4 / §8: LRU eviction of unpinned blobs down to the target,
// with an injected disk-usage probe simulating a filling disk. Pinned blobs, and chunks they
// reference, are never evicted.
#include <gtest/gtest.h>

#include <atomic>
#include <random>

#include "blobs/store.h"
#include "blobs/blob_fixtures.h"
#include "support/test_support.h"

namespace hn::blobs {
namespace {

using test_fixtures::pattern_bytes;

// Bytes of regular files under dir, walked directly (a probe must not call the store).
std::uint64_t dir_bytes(const fs::path& dir) {
  std::uint64_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file()) n += e.file_size();
  }
  return n;
}

// A store whose "disk" has a fixed capacity; used = other_bytes + the store's files.
class BlobGcTest : public ::testing::Test {
 protected:
  void open(std::uint64_t capacity) {
    m_capacity = capacity;
    BlobStoreOptions options;
    options.clock = &m_clock;
    options.fsync_writes = false;  // tmpfs-speed tests; durability is covered elsewhere
    options.disk_usage = [this]() -> Result<DiskUsage> {
      return DiskUsage{m_other_bytes.load() + dir_bytes(m_dir / "blobs"), m_capacity};
    };
    m_store = std::move(BlobStore::open(m_dir / "blobs", std::move(options))).value();
  }

  // Puts a blob of n bytes at the current clock time and advances the clock.
  BlobManifest put(std::size_t n, std::uint32_t seed) {
    auto m = m_store->put_bytes(pattern_bytes(n, seed));
    EXPECT_TRUE(m.has_value());
    m_clock.advance_seconds(1);
    return *m;
  }

  test::TempDir m_dir;
  ManualClock m_clock;
  std::uint64_t m_capacity = 0;
  std::atomic<std::uint64_t> m_other_bytes{0};
  std::unique_ptr<BlobStore> m_store;
};

TEST_F(BlobGcTest, BelowThresholdNothingIsEvicted) {
  open(10'000'000);
  auto a = put(100'000, 1);
  auto report = m_store->maybe_gc();
  ASSERT_TRUE(report.has_value());
  EXPECT_FALSE(report->ran);
  EXPECT_EQ(report->bytes_freed, 0u);
  EXPECT_TRUE(m_store->has_blob(a.cid));
}

TEST_F(BlobGcTest, EvictsLeastRecentlyUsedUnpinnedBlobsDownToTarget) {
  open(600'000);
  std::vector<BlobManifest> blobs;
  for (std::uint32_t i = 0; i < 5; ++i) blobs.push_back(put(100'000, 100 + i));
  // ≈ 501 kB of 600 kB: above the 0.80 threshold; the 0.70 target is 420 kB.
  ASSERT_TRUE(m_store->pin(blobs[0].cid).has_value());              // oldest, but pinned
  ASSERT_TRUE(m_store->read_blob_bytes(blobs[1].cid).has_value());  // now most recent

  auto report = m_store->maybe_gc();
  ASSERT_TRUE(report.has_value()) << report.error().to_string();
  EXPECT_TRUE(report->ran);
  EXPECT_TRUE(report->target_reached);
  EXPECT_EQ(report->target_bytes, 420'000u);
  EXPECT_EQ(report->evicted, std::vector<std::string>{blobs[2].cid});
  EXPECT_EQ(report->chunks_deleted, 1u);
  EXPECT_GT(report->bytes_freed, 100'000u);
  EXPECT_LT(report->bytes_freed, 101'000u);
  EXPECT_EQ(report->used_after_bytes, report->usage_before.used_bytes - report->bytes_freed);
  EXPECT_LE(dir_bytes(m_dir / "blobs"), 420'000u);

  for (std::size_t i : {0u, 1u, 3u, 4u}) EXPECT_TRUE(m_store->has_blob(blobs[i].cid)) << i;
  EXPECT_FALSE(m_store->has(blobs[2].cid));
  EXPECT_FALSE(m_store->has(blobs[2].chunks[0].cid));

  // Now under the threshold: a second pass does nothing.
  EXPECT_FALSE(m_store->maybe_gc()->ran);
}

TEST_F(BlobGcTest, FullDiskEvictsEverythingUnpinnedButNeverAPinnedBlob) {
  open(1'000'000);
  auto pinned = put(200'000, 1);
  auto a = put(200'000, 2);
  auto b = put(100'000, 3);
  ASSERT_TRUE(m_store->pin(pinned.cid).has_value());
  m_other_bytes = 1'000'000 - dir_bytes(m_dir / "blobs");  // the disk is full
  ASSERT_EQ(m_store->disk_usage()->fraction(), 1.0);

  auto report = m_store->gc(0.0);  // ask for everything
  ASSERT_TRUE(report.has_value());
  EXPECT_FALSE(report->target_reached);  // the pinned blob and other files remain
  EXPECT_EQ(report->evicted, (std::vector<std::string>{a.cid, b.cid}));
  EXPECT_TRUE(m_store->has_blob(pinned.cid));
  EXPECT_EQ(*m_store->read_blob_bytes(pinned.cid), pattern_bytes(200'000, 1));
  EXPECT_FALSE(m_store->has(a.cid));
  EXPECT_FALSE(m_store->has(b.cid));
}

TEST_F(BlobGcTest, NeverDeletesAChunkThatAPinnedManifestReferences) {
  open(10'000'000);
  const auto shared = pattern_bytes(static_cast<std::size_t>(CHUNK_SIZE_BYTES), 50);
  Bytes keep_data = shared, drop_data = shared;
  const auto t1 = pattern_bytes(1000, 51), t2 = pattern_bytes(1000, 52);
  keep_data.insert(keep_data.end(), t1.begin(), t1.end());
  drop_data.insert(drop_data.end(), t2.begin(), t2.end());
  auto drop = *m_store->put_bytes(drop_data);  // older
  m_clock.advance_seconds(1);
  auto keep = *m_store->put_bytes(keep_data);
  ASSERT_EQ(drop.chunks[0].cid, keep.chunks[0].cid);
  ASSERT_TRUE(m_store->pin(keep.cid).has_value());

  auto report = m_store->gc(0.0);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->evicted, std::vector<std::string>{drop.cid});
  EXPECT_EQ(report->chunks_deleted, 1u);  // drop's own tail only
  EXPECT_FALSE(m_store->has(drop.chunks[1].cid));
  EXPECT_TRUE(m_store->has_blob(keep.cid));
  EXPECT_EQ(*m_store->read_blob_bytes(keep.cid), keep_data);
}

TEST_F(BlobGcTest, SharedChunkOfAnUnpinnedSurvivorIsKept) {
  open(10'000'000);
  const auto shared = pattern_bytes(static_cast<std::size_t>(CHUNK_SIZE_BYTES), 60);
  Bytes old_data = shared, new_data = shared;
  new_data.push_back(7);
  auto old_blob = *m_store->put_bytes(old_data);
  m_clock.advance_seconds(10);
  auto new_blob = *m_store->put_bytes(new_data);
  // One byte over the 0.5 target: evicting the older blob's manifest is enough, and the
  // chunk it shares with the newer blob must stay.
  m_other_bytes = 5'000'001 - dir_bytes(m_dir / "blobs");
  auto report = m_store->gc(0.5);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->evicted, std::vector<std::string>{old_blob.cid});
  EXPECT_EQ(report->chunks_deleted, 0u);
  EXPECT_TRUE(report->target_reached);
  EXPECT_TRUE(m_store->has_blob(new_blob.cid));
  EXPECT_EQ(*m_store->read_blob_bytes(new_blob.cid), new_data);
}

TEST_F(BlobGcTest, OrphanChunksAreEvictableAndPinnedChunksAreNot) {
  open(10'000'000);
  const auto a = pattern_bytes(50'000, 70), b = pattern_bytes(50'000, 71);
  ASSERT_TRUE(m_store->write_chunk(hash_bytes(a), a).has_value());
  m_clock.advance_seconds(1);
  ASSERT_TRUE(m_store->write_chunk(hash_bytes(b), b).has_value());
  ASSERT_TRUE(m_store->pin(hash_bytes(a)).has_value());
  auto report = m_store->gc(0.0);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->evicted, std::vector<std::string>{hash_bytes(b)});
  EXPECT_TRUE(m_store->has_chunk(hash_bytes(a)));
  EXPECT_FALSE(m_store->has_chunk(hash_bytes(b)));
}

TEST_F(BlobGcTest, RejectsNonsenseTargets) {
  open(1000);
  EXPECT_EQ(m_store->gc(1.5).error().code, ErrorCode::bad_request);
  EXPECT_EQ(m_store->gc(-0.1).error().code, ErrorCode::bad_request);
}

}  // namespace
}  // namespace hn::blobs
