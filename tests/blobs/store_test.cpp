// store_test.cpp — M07 §3.2 / §5 / §8: BlobStore round trips, layout, hash verification on
// write and read, typed errors, pins persisting across reopen.
#include "blobs/store.h"

#include <gtest/gtest.h>

#include <atomic>

#include <fstream>
#include <random>
#include <thread>

#include "core/file_util.h"
#include "core/hash.h"
#include "blobs/blob_fixtures.h"
#include "support/test_support.h"

namespace hn::blobs {
namespace {

Bytes pattern_bytes(std::size_t n, std::uint32_t seed = 11) { return test_fixtures::pattern_bytes(n, seed); }
using test_fixtures::slurp;

void write_bytes(const fs::path& path, const Bytes& data) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

fs::path chunk_file_of(const fs::path& root, const std::string& cid) {
  return root / cid.substr(7, 2) / (cid.substr(9) + ".bin");
}

// Number of regular files under dir (recursively).
int count_files(const fs::path& dir) {
  int n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BlobStoreOptions options;
    options.clock = &m_clock;
    auto s = BlobStore::open(m_dir / "blobs", options);
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    m_store = std::move(s).value();
  }
  fs::path root() const { return m_dir / "blobs"; }

  test::TempDir m_dir;
  ManualClock m_clock;
  std::unique_ptr<BlobStore> m_store;
};

TEST_F(BlobStoreTest, WriteThenReadReturnsSameBytes) {
  auto data = pattern_bytes(static_cast<std::size_t>(CHUNK_SIZE_BYTES) * 3 + 5);
  auto m = m_store->put_bytes(data, {.mime_type = "application/octet-stream", .filename = "x.bin"});
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  EXPECT_EQ(m->cid, chunk_blob(data).manifest.cid);
  EXPECT_EQ(m->chunks.size(), 4u);
  EXPECT_TRUE(m_store->has(m->cid));
  EXPECT_TRUE(m_store->has_manifest(m->cid));
  EXPECT_TRUE(m_store->has_blob(m->cid));
  EXPECT_FALSE(m_store->has_chunk(m->cid));

  auto back = m_store->read_blob_bytes(m->cid);
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(*back, data);

  auto manifest = m_store->read_manifest(m->cid);
  ASSERT_TRUE(manifest.has_value());
  EXPECT_EQ(*manifest, *m);
  EXPECT_EQ(manifest->filename, "x.bin");

  for (const auto& ref : m->chunks) {
    EXPECT_TRUE(m_store->has(ref.cid));
    auto chunk = m_store->read_chunk(ref.cid);
    ASSERT_TRUE(chunk.has_value());
    EXPECT_EQ(static_cast<std::int64_t>(chunk->size()), ref.size_bytes);
    EXPECT_EQ(hash_bytes(*chunk), ref.cid);
    // M07 §5.1 layout: <dir>/<aa>/<rest>.bin
    EXPECT_TRUE(fs::is_regular_file(chunk_file_of(root(), ref.cid)));
  }
}

TEST_F(BlobStoreTest, EmptyAndOneByteBlobsRoundTrip) {
  for (std::size_t n : {0u, 1u}) {
    auto data = pattern_bytes(n);
    auto m = m_store->put_bytes(data);
    ASSERT_TRUE(m.has_value());
    EXPECT_TRUE(m_store->has_blob(m->cid));
    auto back = m_store->read_blob_bytes(m->cid);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, data);
  }
}

TEST_F(BlobStoreTest, PutFileStreamsAndReadBlobToRestoresIt) {
  auto data = pattern_bytes(static_cast<std::size_t>(CHUNK_SIZE_BYTES) * 5 + 4321, 3);
  write_bytes(m_dir / "report.pdf", data);
  auto m = m_store->put_file(m_dir / "report.pdf", {.mime_type = "application/pdf"});
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  EXPECT_EQ(m->cid, chunk_blob(data).manifest.cid);
  EXPECT_EQ(m->filename, "report.pdf");
  EXPECT_EQ(m->mime_type, "application/pdf");

  ASSERT_TRUE(m_store->read_blob_to(m->cid, m_dir / "out/copy.pdf").has_value());
  EXPECT_EQ(slurp(m_dir / "out/copy.pdf"), data);
  EXPECT_EQ(count_files(m_dir / "out"), 1);  // no temp files left behind

  std::vector<std::int64_t> order;
  ASSERT_TRUE(m_store
                  ->read_blob_stream(m->cid,
                                     [&](const ChunkRef& ref, std::span<const std::uint8_t>) {
                                       order.push_back(ref.index);
                                       return Status{};
                                     })
                  .has_value());
  EXPECT_EQ(order, (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5}));

  auto missing = m_store->put_file(m_dir / "absent.pdf");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
}

TEST_F(BlobStoreTest, CorruptChunkOnDiskReadsAsHashMismatch) {
  auto data = pattern_bytes(static_cast<std::size_t>(CHUNK_SIZE_BYTES) + 100);
  auto m = m_store->put_bytes(data);
  ASSERT_TRUE(m.has_value());
  const std::string victim = m->chunks[1].cid;
  auto path = chunk_file_of(root(), victim);
  Bytes bytes = slurp(path);
  bytes[10] ^= 0x01;  // one bit of rot
  write_bytes(path, bytes);

  auto chunk = m_store->read_chunk(victim);
  ASSERT_FALSE(chunk.has_value());
  EXPECT_EQ(chunk.error().code, ErrorCode::hash_mismatch);

  auto blob = m_store->read_blob_bytes(m->cid);
  ASSERT_FALSE(blob.has_value());
  EXPECT_EQ(blob.error().code, ErrorCode::hash_mismatch);

  auto to = m_store->read_blob_to(m->cid, m_dir / "out/restored.bin");
  ASSERT_FALSE(to.has_value());
  EXPECT_EQ(to.error().code, ErrorCode::hash_mismatch);
  EXPECT_EQ(count_files(m_dir / "out"), 0);  // nothing partial at the destination

  // A truncated chunk is caught the same way.
  write_bytes(path, Bytes(bytes.begin(), bytes.begin() + 50));
  EXPECT_EQ(m_store->read_chunk(victim).error().code, ErrorCode::hash_mismatch);
}

TEST_F(BlobStoreTest, CorruptManifestOnDiskReadsAsHashMismatch) {
  auto m = m_store->put_bytes(pattern_bytes(1000));
  ASSERT_TRUE(m.has_value());
  auto path = root() / m->cid.substr(7, 2) / (m->cid.substr(9) + ".manifest.json");
  ASSERT_TRUE(fs::is_regular_file(path));
  auto text = *read_file(path);
  text[text.find("1000")] = '2';  // size_bytes 1000 → 2000
  ASSERT_TRUE(atomic_write_file(path, text).has_value());
  EXPECT_EQ(m_store->read_manifest(m->cid).error().code, ErrorCode::hash_mismatch);
  EXPECT_EQ(m_store->read_blob_bytes(m->cid).error().code, ErrorCode::hash_mismatch);
  EXPECT_FALSE(m_store->has_blob(m->cid));
}

TEST_F(BlobStoreTest, WriteChunkWithWrongCidIsRejectedAndStoresNothing) {
  auto data = pattern_bytes(5000);
  const std::string wrong = hash_bytes(pattern_bytes(5000, 99));
  auto st = m_store->write_chunk(wrong, data);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::hash_mismatch);
  EXPECT_FALSE(m_store->has(wrong));
  EXPECT_FALSE(m_store->has(hash_bytes(data)));
  EXPECT_EQ(count_files(root()), 0);

  // The right CID is accepted, and writing again is idempotent.
  ASSERT_TRUE(m_store->write_chunk(hash_bytes(data), data).has_value());
  ASSERT_TRUE(m_store->write_chunk(hash_bytes(data), data).has_value());
  EXPECT_EQ(*m_store->read_chunk(hash_bytes(data)), data);
  EXPECT_EQ(count_files(root()), 1);
}

TEST_F(BlobStoreTest, WriteBlobVerifiesEveryChunkBeforeWritingAny) {
  auto blob = chunk_blob(pattern_bytes(static_cast<std::size_t>(CHUNK_SIZE_BYTES) * 2 + 1));
  auto bad = blob.chunks;
  bad[2][0] ^= 0xff;
  auto st = m_store->write_blob(blob.manifest, bad);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::hash_mismatch);
  EXPECT_EQ(count_files(root()), 0);

  auto fewer = blob.chunks;
  fewer.pop_back();
  EXPECT_EQ(m_store->write_blob(blob.manifest, fewer).error().code, ErrorCode::manifest_invalid);

  auto forged = blob.manifest;
  forged.size_bytes += 1;
  EXPECT_EQ(m_store->write_blob(forged, blob.chunks).error().code, ErrorCode::manifest_invalid);
  EXPECT_EQ(count_files(root()), 0);

  ASSERT_TRUE(m_store->write_blob(blob.manifest, blob.chunks).has_value());
  EXPECT_TRUE(m_store->has_blob(blob.manifest.cid));
}

TEST_F(BlobStoreTest, ManifestWithoutChunksIsNotACompleteBlob) {
  auto blob = chunk_blob(pattern_bytes(static_cast<std::size_t>(CHUNK_SIZE_BYTES) + 9));
  ASSERT_TRUE(m_store->write_manifest(blob.manifest).has_value());
  EXPECT_TRUE(m_store->has_manifest(blob.manifest.cid));
  EXPECT_FALSE(m_store->has_blob(blob.manifest.cid));
  auto s = m_store->stat(blob.manifest.cid);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->chunks_present, 0);
  EXPECT_FALSE(s->complete);
  EXPECT_EQ(m_store->read_blob_bytes(blob.manifest.cid).error().code, ErrorCode::not_found);

  ASSERT_TRUE(m_store->write_chunk(blob.manifest.chunks[0].cid, blob.chunks[0]).has_value());
  ASSERT_TRUE(m_store->write_chunk(blob.manifest.chunks[1].cid, blob.chunks[1]).has_value());
  EXPECT_TRUE(m_store->has_blob(blob.manifest.cid));
  EXPECT_TRUE(m_store->stat(blob.manifest.cid)->complete);
}

TEST_F(BlobStoreTest, MissingIsNotFoundAndMalformedCidIsBadRequest) {
  const std::string absent = "blake3:" + std::string(64, 'a');
  EXPECT_FALSE(m_store->has(absent));
  EXPECT_EQ(m_store->read_chunk(absent).error().code, ErrorCode::not_found);
  EXPECT_EQ(m_store->read_manifest(absent).error().code, ErrorCode::not_found);
  EXPECT_EQ(m_store->read_blob_bytes(absent).error().code, ErrorCode::not_found);
  EXPECT_EQ(m_store->stat(absent).error().code, ErrorCode::not_found);
  EXPECT_EQ(m_store->delete_blob(absent).error().code, ErrorCode::not_found);
  EXPECT_FALSE(*m_store->delete_chunk(absent));
  EXPECT_FALSE(m_store->has("blake3:../../etc"));
  EXPECT_EQ(m_store->read_chunk("blake3:../../etc/passwd").error().code, ErrorCode::bad_request);
  EXPECT_EQ(m_store->pin("nope").error().code, ErrorCode::bad_request);
}

TEST_F(BlobStoreTest, ListAndStat) {
  auto a = *m_store->put_bytes(pattern_bytes(100, 1));
  auto b = *m_store->put_bytes(pattern_bytes(static_cast<std::size_t>(CHUNK_SIZE_BYTES) + 1, 2));
  auto all = *m_store->list_cids();
  EXPECT_EQ(all.size(), 2u + 1u + 2u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  auto manifests = *m_store->list_cids("", ListFilter::manifests);
  std::vector<std::string> expected{a.cid, b.cid};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(manifests, expected);
  EXPECT_EQ(m_store->list_cids("", ListFilter::chunks)->size(), 3u);

  auto by_prefix = *m_store->list_cids(a.cid.substr(0, 7 + 6));
  EXPECT_NE(std::find(by_prefix.begin(), by_prefix.end(), a.cid), by_prefix.end());
  for (const auto& c : by_prefix) EXPECT_TRUE(c.starts_with(a.cid.substr(0, 13)));
  EXPECT_EQ(*m_store->list_cids(a.cid), std::vector<std::string>{a.cid});
  EXPECT_TRUE(m_store->list_cids("blake3:zz")->empty());

  auto s = *m_store->stat(b.cid);
  EXPECT_EQ(s.kind, CidKind::manifest);
  EXPECT_EQ(s.size_bytes, CHUNK_SIZE_BYTES + 1);
  EXPECT_EQ(s.chunk_count, 2);
  EXPECT_EQ(s.chunks_present, 2);
  EXPECT_TRUE(s.complete);
  EXPECT_GT(s.stored_bytes, CHUNK_SIZE_BYTES + 1);
  EXPECT_EQ(s.last_used_ms, m_clock.now_ms());
  auto cs = *m_store->stat(b.chunks[1].cid);
  EXPECT_EQ(cs.kind, CidKind::chunk);
  EXPECT_EQ(cs.size_bytes, 1);

  auto total = *m_store->total_bytes();
  EXPECT_GT(total, static_cast<std::uint64_t>(CHUNK_SIZE_BYTES + 101));
}

TEST_F(BlobStoreTest, DeleteBlobKeepsChunksOtherBlobsUse) {
  const auto shared = pattern_bytes(static_cast<std::size_t>(CHUNK_SIZE_BYTES), 5);
  Bytes a_data = shared, b_data = shared;
  auto tail_a = pattern_bytes(10, 6), tail_b = pattern_bytes(10, 7);
  a_data.insert(a_data.end(), tail_a.begin(), tail_a.end());
  b_data.insert(b_data.end(), tail_b.begin(), tail_b.end());
  auto a = *m_store->put_bytes(a_data);
  auto b = *m_store->put_bytes(b_data);
  ASSERT_EQ(a.chunks[0].cid, b.chunks[0].cid);

  ASSERT_TRUE(m_store->pin(b.cid).has_value());
  EXPECT_EQ(m_store->delete_blob(b.cid).error().code, ErrorCode::bad_request);
  EXPECT_EQ(m_store->delete_chunk(b.chunks[0].cid).error().code, ErrorCode::bad_request);

  auto freed = m_store->delete_blob(a.cid);
  ASSERT_TRUE(freed.has_value());
  EXPECT_GT(*freed, 10u);
  EXPECT_LT(*freed, static_cast<std::uint64_t>(CHUNK_SIZE_BYTES));  // the shared chunk stayed
  EXPECT_FALSE(m_store->has(a.cid));
  EXPECT_FALSE(m_store->has(a.chunks[1].cid));
  EXPECT_EQ(*m_store->read_blob_bytes(b.cid), b_data);
}

TEST(BlobStoreConcurrency, ParallelPutsReadsAndGcKeepEveryBlobReadable) {
  test::TempDir dir;
  BlobStoreOptions options;
  options.fsync_writes = false;
  options.disk_usage = []() -> Result<DiskUsage> { return DiskUsage{1, 1'000'000'000}; };
  auto store = std::move(BlobStore::open(dir / "blobs", options)).value();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (std::uint32_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::uint32_t i = 0; i < 10; ++i) {
        // Threads overlap on seeds, so identical chunks are written concurrently.
        auto data = pattern_bytes(static_cast<std::size_t>(CHUNK_SIZE_BYTES) / 2, (t + i) % 6);
        auto m = store->put_bytes(data);
        if (!m.has_value() || *store->read_blob_bytes(m->cid) != data) ++failures;
        if (!store->gc().has_value()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store->list_cids("", ListFilter::manifests)->size(), 6u);
}

TEST(BlobStorePins, PinsSurviveReopening) {
  test::TempDir dir;
  std::string pinned_cid, other_cid;
  {
    auto store = *BlobStore::open(dir / "blobs");
    pinned_cid = store->put_bytes(pattern_bytes(10, 1))->cid;
    other_cid = store->put_bytes(pattern_bytes(10, 2))->cid;
    ASSERT_TRUE(store->pin(pinned_cid).has_value());
    ASSERT_TRUE(store->pin(other_cid).has_value());
    ASSERT_TRUE(store->pin(pinned_cid).has_value());  // idempotent
    ASSERT_TRUE(store->unpin(other_cid).has_value());
    EXPECT_TRUE(store->is_pinned(pinned_cid));
    EXPECT_FALSE(store->is_pinned(other_cid));
  }
  // M07 §5.1: newline-separated CIDs in pinned.txt.
  EXPECT_EQ(*read_file(dir / "blobs" / PINNED_FILE), pinned_cid + "\n");
  auto store = *BlobStore::open(dir / "blobs");
  EXPECT_TRUE(store->is_pinned(pinned_cid));
  EXPECT_FALSE(store->is_pinned(other_cid));
  EXPECT_EQ(store->pinned(), std::vector<std::string>{pinned_cid});
  EXPECT_TRUE(store->stat(pinned_cid)->pinned);
}

TEST(BlobStorePins, CorruptPinsFileFailsToOpen) {
  test::TempDir dir;
  ASSERT_TRUE(atomic_write_file(dir / "blobs" / PINNED_FILE, "not-a-cid\n").has_value());
  auto store = BlobStore::open(dir / "blobs");
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::io_error);
}

TEST(BlobStoreOpen, SweepsStaleTempFiles) {
  test::TempDir dir;
  ASSERT_TRUE(ensure_directory(dir / "blobs/ab").has_value());
  write_bytes(dir / "blobs/ab/.cdef.bin.tmp-01J0000000000000000000000", Bytes{1, 2});
  write_bytes(dir / "blobs/.pinned.txt.tmp-01J0000000000000000000000", Bytes{1});
  auto store = BlobStore::open(dir / "blobs");
  ASSERT_TRUE(store.has_value());
  EXPECT_EQ(count_files(dir / "blobs"), 0);
}

}  // namespace
}  // namespace hn::blobs
