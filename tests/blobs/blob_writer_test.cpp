// blob_writer_test.cpp — a fetched blob kept as one file (BlobStore::begin_blob, BlobWriter,
// export_blob; doc/design/files.md "One file per fetched blob"): the store answers the blob
// and each of its chunks from it, a killed writer's file is resumed chunk by chunk, GC and
// deletion take it, and --out is the same file under a second name or a copy.
#include "blobs/blob_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <random>

#include "blobs/store.h"
#include "core/file_util.h"
#include "blobs/blob_fixtures.h"
#include "support/test_support.h"

namespace hn::blobs {
namespace {

using test_fixtures::pattern_bytes;
using test_fixtures::slurp;

// The bytes of chunk i of data (manifest order).
std::span<const std::uint8_t> piece(const Bytes& data, const ChunkRef& c) {
  return std::span<const std::uint8_t>(data).subspan(static_cast<std::size_t>(c.index * CHUNK_SIZE_BYTES),
                                                    static_cast<std::size_t>(c.size_bytes));
}

VerifiedChunk verified(const Bytes& data, const ChunkRef& c) {
  auto p = piece(data, c);
  return std::move(VerifiedChunk::check(c.cid, Bytes(p.begin(), p.end()))).value();
}

fs::path shard_file(const fs::path& root, const std::string& cid, const std::string& suffix) {
  return root / cid.substr(7, 2) / (cid.substr(9) + suffix);
}

class BlobWriterTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void reopen() {
    m_store.reset();
    BlobStoreOptions options;
    options.clock = &m_clock;
    m_store = std::move(BlobStore::open(root(), options)).value();
  }
  fs::path root() const { return m_dir / "blobs"; }

  test::TempDir m_dir;
  ManualClock m_clock;
  std::unique_ptr<BlobStore> m_store;
  Bytes m_data = pattern_bytes(static_cast<std::size_t>(CHUNK_SIZE_BYTES) * 5 + 77, 3);
  BlobManifest m_manifest = chunk_blob(m_data).manifest;
};

TEST_F(BlobWriterTest, ChunksInAnyOrderMakeOneReadOnlyFileThatAnswersTheBlobAndEachChunk) {
  auto w = m_store->begin_blob(m_manifest);
  ASSERT_TRUE(w.has_value()) << w.error().to_string();
  EXPECT_EQ((*w)->chunks_present(), 0);
  for (auto it = m_manifest.chunks.rbegin(); it != m_manifest.chunks.rend(); ++it) {
    ASSERT_TRUE((*w)->write(verified(m_data, *it)).has_value());
  }
  // Not whole before commit: the bytes wait in the .partial file.
  EXPECT_FALSE(m_store->has_blob(m_manifest.cid));
  EXPECT_FALSE(m_store->has_chunk(m_manifest.chunks[2].cid));
  EXPECT_TRUE(fs::exists(shard_file(root(), m_manifest.cid, ".partial")));
  ASSERT_TRUE((*w)->commit().has_value());

  const fs::path data = shard_file(root(), m_manifest.cid, ".data");
  EXPECT_EQ(slurp(data), m_data);
  EXPECT_FALSE(fs::exists(shard_file(root(), m_manifest.cid, ".partial")));
  EXPECT_EQ(fs::status(data).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  EXPECT_TRUE(m_store->has_blob(m_manifest.cid));
  EXPECT_EQ(*m_store->read_blob_bytes(m_manifest.cid), m_data);
  // No chunk files: each chunk is found inside the blob's file.
  EXPECT_TRUE(m_store->list_cids("", ListFilter::chunks)->empty());
  const auto& third = m_manifest.chunks[2];
  EXPECT_TRUE(m_store->has_chunk(third.cid));
  auto chunk = m_store->read_chunk(third.cid);
  ASSERT_TRUE(chunk.has_value()) << chunk.error().to_string();
  EXPECT_TRUE(std::ranges::equal(*chunk, piece(m_data, third)));
  auto served = m_store->read_blob_chunk(m_manifest, m_manifest.chunks.back());
  ASSERT_TRUE(served.has_value());
  EXPECT_TRUE(std::ranges::equal(*served, piece(m_data, m_manifest.chunks.back())));
  auto st = m_store->stat(m_manifest.cid);
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->complete);
  EXPECT_EQ(st->chunks_present, 6);
  EXPECT_GE(st->stored_bytes, static_cast<std::int64_t>(m_data.size()));
  // A fresh store finds the chunks again (the index is rebuilt from the manifests).
  reopen();
  EXPECT_TRUE(m_store->has_chunk(third.cid));
  EXPECT_TRUE(m_store->has(third.cid));
}

TEST_F(BlobWriterTest, AKilledWritersFileIsResumedKeepingOnlyChunksThatStillVerify) {
  {
    auto w = std::move(m_store->begin_blob(m_manifest)).value();
    for (int i : {0, 1, 3, 5}) ASSERT_TRUE(w->write(verified(m_data, m_manifest.chunks[i])).has_value());
  }  // destroyed without commit: what a kill leaves
  const fs::path partial = shard_file(root(), m_manifest.cid, ".partial");
  ASSERT_TRUE(fs::exists(partial));
  // One kept chunk rots on disk; it must be fetched again, not trusted.
  {
    const int fd = ::open(partial.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    const char junk = 0x5a;
    ASSERT_EQ(::pwrite(fd, &junk, 1, 3 * CHUNK_SIZE_BYTES + 10), 1);
    ::close(fd);
  }
  reopen();  // a restarted node: the .partial file is not swept
  auto w = m_store->begin_blob(m_manifest);
  ASSERT_TRUE(w.has_value()) << w.error().to_string();
  EXPECT_EQ((*w)->chunks_resumed(), 3);
  EXPECT_TRUE((*w)->present(m_manifest.chunks[0].cid));
  EXPECT_FALSE((*w)->present(m_manifest.chunks[3].cid));
  EXPECT_FALSE((*w)->present(m_manifest.chunks[2].cid));
  for (const auto& c : m_manifest.chunks) {
    if (!(*w)->present(c.cid)) {
      ASSERT_TRUE((*w)->write(verified(m_data, c)).has_value());
    }
  }
  ASSERT_TRUE((*w)->commit().has_value());
  EXPECT_EQ(*m_store->read_blob_bytes(m_manifest.cid), m_data);
}

TEST_F(BlobWriterTest, ChunksTheStoreHoldsElsewhereAreCopiedInAndASecondWriterIsRefused) {
  const auto& c = m_manifest.chunks[1];
  auto p = piece(m_data, c);
  ASSERT_TRUE(m_store->write_chunk(c.cid, p).has_value());
  auto w = m_store->begin_blob(m_manifest);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ((*w)->chunks_present(), 1);
  EXPECT_EQ((*w)->chunks_resumed(), 0);
  EXPECT_TRUE((*w)->present(c.cid));
  auto second = m_store->begin_blob(m_manifest);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, ErrorCode::bad_request);
  // A chunk of another blob is refused.
  const Bytes other = pattern_bytes(100, 9);
  auto stranger = VerifiedChunk::check(chunk_blob(other).manifest.chunks[0].cid, other);
  ASSERT_TRUE(stranger.has_value());
  EXPECT_EQ((*w)->write(*stranger).error().code, ErrorCode::bad_request);
}

TEST_F(BlobWriterTest, ExportIsAHardLinkOnTheSameFilesystemACopyElsewhereOrWhenAsked) {
  auto w = std::move(m_store->begin_blob(m_manifest)).value();
  for (const auto& c : m_manifest.chunks) ASSERT_TRUE(w->write(verified(m_data, c)).has_value());
  ASSERT_TRUE(w->commit().has_value());

  const fs::path shared = m_dir / "out" / "shared.bin";
  auto kind = m_store->export_blob(m_manifest.cid, shared);
  ASSERT_TRUE(kind.has_value()) << kind.error().to_string();
  EXPECT_TRUE(*kind == ExportKind::hard_link || *kind == ExportKind::reflink);
  EXPECT_EQ(slurp(shared), m_data);
  if (*kind == ExportKind::hard_link) {
    EXPECT_EQ(fs::hard_link_count(shared), 2u);
  }

  const fs::path copied = m_dir / "out" / "copied.bin";
  EXPECT_EQ(*m_store->export_blob(m_manifest.cid, copied, ExportMode::copy), ExportKind::copy);
  EXPECT_EQ(slurp(copied), m_data);
  EXPECT_EQ(fs::hard_link_count(copied), 1u);

  // Another filesystem (tmpfs here) cannot share the file: a copy.
  if (fs::exists("/dev/shm")) {
    const fs::path elsewhere = fs::path("/dev/shm") / ("hn-export-" + std::to_string(::getpid()) + ".bin");
    auto k = m_store->export_blob(m_manifest.cid, elsewhere);
    ASSERT_TRUE(k.has_value()) << k.error().to_string();
    struct stat a {}, b {};
    ::stat(root().c_str(), &a);
    ::stat("/dev/shm", &b);
    if (a.st_dev != b.st_dev) {
      EXPECT_EQ(*k, ExportKind::copy);
    }
    EXPECT_EQ(slurp(elsewhere), m_data);
    fs::remove(elsewhere);
  }

  // The store deleting its copy leaves the exported names whole.
  ASSERT_TRUE(m_store->delete_blob(m_manifest.cid).has_value());
  EXPECT_FALSE(m_store->has_chunk(m_manifest.chunks[0].cid));
  EXPECT_FALSE(fs::exists(shard_file(root(), m_manifest.cid, ".data")));
  EXPECT_EQ(slurp(shared), m_data);
}

TEST_F(BlobWriterTest, ACorruptedBlobFileReadsAsHashMismatchNeverAsWrongBytes) {
  auto w = std::move(m_store->begin_blob(m_manifest)).value();
  for (const auto& c : m_manifest.chunks) ASSERT_TRUE(w->write(verified(m_data, c)).has_value());
  ASSERT_TRUE(w->commit().has_value());
  const fs::path data = shard_file(root(), m_manifest.cid, ".data");
  fs::permissions(data, fs::perms::owner_write, fs::perm_options::add);
  {
    const int fd = ::open(data.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    const char junk = 0x01;
    ASSERT_EQ(::pwrite(fd, &junk, 1, CHUNK_SIZE_BYTES + 1), 1);
    ::close(fd);
  }
  EXPECT_EQ(m_store->read_chunk(m_manifest.chunks[1].cid).error().code, ErrorCode::hash_mismatch);
  EXPECT_EQ(m_store->read_blob_chunk(m_manifest, m_manifest.chunks[1]).error().code, ErrorCode::hash_mismatch);
  EXPECT_EQ(m_store->read_blob_bytes(m_manifest.cid).error().code, ErrorCode::hash_mismatch);
  EXPECT_TRUE(m_store->read_blob_chunk(m_manifest, m_manifest.chunks[0]).has_value());
}

// GC: an unpinned whole-blob file goes with its manifest, oldest first; a pinned one stays;
// a .partial file nobody writes is reclaimed, one a live writer holds is not.
TEST(BlobWriterGc, EvictsUnpinnedBlobFilesAndIdlePartialsButNeverALiveOne) {
  test::TempDir dir;
  ManualClock clock;
  BlobStoreOptions options;
  options.clock = &clock;
  options.fsync_writes = false;
  options.capacity_bytes = 1;  // usage is the store's own bytes: everything is "too much"
  auto store = std::move(BlobStore::open(dir / "blobs", options)).value();
  auto whole = [&](std::uint32_t seed) {
    const Bytes data = pattern_bytes(static_cast<std::size_t>(CHUNK_SIZE_BYTES) + 9, seed);
    const BlobManifest m = chunk_blob(data).manifest;
    auto w = std::move(store->begin_blob(m)).value();
    for (const auto& c : m.chunks) EXPECT_TRUE(w->write(verified(data, c)).has_value());
    EXPECT_TRUE(w->commit().has_value());
    clock.advance_seconds(1);
    return m;
  };
  const BlobManifest pinned = whole(1);
  ASSERT_TRUE(store->pin(pinned.cid).has_value());
  const BlobManifest unpinned = whole(2);
  // An idle partial (a fetch that died) and a live one.
  const Bytes idle_data = pattern_bytes(static_cast<std::size_t>(CHUNK_SIZE_BYTES) * 2, 3);
  const BlobManifest idle = chunk_blob(idle_data).manifest;
  { auto w = std::move(store->begin_blob(idle)).value(); }
  const Bytes live_data = pattern_bytes(static_cast<std::size_t>(CHUNK_SIZE_BYTES) * 2, 4);
  const BlobManifest live = chunk_blob(live_data).manifest;
  auto live_writer = std::move(store->begin_blob(live)).value();

  auto report = store->gc(0.0);
  ASSERT_TRUE(report.has_value()) << report.error().to_string();
  EXPECT_TRUE(store->has_blob(pinned.cid));
  EXPECT_FALSE(store->has_manifest(unpinned.cid));
  EXPECT_FALSE(store->has_chunk(unpinned.chunks[0].cid));
  EXPECT_FALSE(fs::exists(shard_file(dir / "blobs", unpinned.cid, ".data")));
  EXPECT_FALSE(fs::exists(shard_file(dir / "blobs", idle.cid, ".partial")));
  EXPECT_TRUE(fs::exists(shard_file(dir / "blobs", live.cid, ".partial")));
  // The live writer still finishes its blob.
  for (const auto& c : live.chunks) ASSERT_TRUE(live_writer->write(verified(live_data, c)).has_value());
  ASSERT_TRUE(live_writer->commit().has_value());
  // Its manifest went in that pass (unpinned, and the target was 0): the file it committed
  // is an orphan the next pass takes. The pinned blob stays readable throughout.
  EXPECT_FALSE(store->has_blob(live.cid));
  ASSERT_TRUE(store->gc(0.0).has_value());
  EXPECT_FALSE(fs::exists(shard_file(dir / "blobs", live.cid, ".data")));
  EXPECT_EQ(store->read_blob_bytes(pinned.cid)->size(), static_cast<std::size_t>(CHUNK_SIZE_BYTES) + 9);
}

}  // namespace
}  // namespace hn::blobs
