// chunker_test.cpp — M07 §3.1 / §8: chunk boundaries, manifest CID stability, verification
// and manifest parsing (manifest_invalid on bad input).
#include "blobs/chunker.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "core/hash.h"
#include "support/test_support.h"

namespace hn::blobs {
namespace {

Bytes pattern_bytes(std::size_t n, std::uint32_t seed = 7) {
  Bytes out(n);
  std::mt19937 rng(seed);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

void expect_consistent(const ChunkedBlob& blob, const Bytes& data) {
  const auto& m = blob.manifest;
  EXPECT_EQ(m.size_bytes, static_cast<std::int64_t>(data.size()));
  EXPECT_EQ(m.chunk_size_bytes, CHUNK_SIZE_BYTES);
  ASSERT_EQ(m.chunks.size(), blob.chunks.size());
  std::size_t off = 0;
  for (std::size_t i = 0; i < m.chunks.size(); ++i) {
    EXPECT_EQ(m.chunks[i].index, static_cast<std::int64_t>(i));
    EXPECT_EQ(m.chunks[i].size_bytes, static_cast<std::int64_t>(blob.chunks[i].size()));
    std::span<const std::uint8_t> slice(data.data() + off, blob.chunks[i].size());
    EXPECT_EQ(m.chunks[i].cid, blake3_cid(slice));
    off += blob.chunks[i].size();
  }
  EXPECT_EQ(off, data.size());
  EXPECT_EQ(reassemble(blob.chunks), data);
  EXPECT_EQ(m.cid, manifest_cid(m));
}

TEST(Chunker, EmptyBlobHasNoChunksAndAStableCid) {
  auto blob = chunk_blob({});
  expect_consistent(blob, {});
  EXPECT_TRUE(blob.manifest.chunks.empty());
  // BLAKE3 of {"chunk_size_bytes":262144,"chunks":[],"size_bytes":0} (computed with b3sum).
  EXPECT_EQ(blob.manifest.cid,
            "blake3:cf755a76e6987c7a3b9c59553ede4dae7c3450be85ee4b35c84f102f355a72ed");
}

TEST(Chunker, OneByteBlobIsOneChunkAndTheManifestCidDiffersFromIt) {
  Bytes data{'a'};
  auto blob = chunk_blob(data);
  expect_consistent(blob, data);
  ASSERT_EQ(blob.manifest.chunks.size(), 1u);
  EXPECT_EQ(blob.manifest.chunks[0].cid,
            "blake3:17762fddd969a453925d65717ac3eea21320b66b54342fde15128d6caf21215f");
  // BLAKE3 of {"chunk_size_bytes":262144,"chunks":["blake3:1776…215f"],"size_bytes":1}.
  EXPECT_EQ(blob.manifest.cid,
            "blake3:cdaaba35c8093a1212612bfa0a6880c15ac301726b4a20f16b89dcb4c629cd9e");
  EXPECT_NE(blob.manifest.cid, blob.manifest.chunks[0].cid);
}

TEST(Chunker, ExactlyOneChunkSize) {
  auto data = pattern_bytes(static_cast<std::size_t>(CHUNK_SIZE_BYTES));
  auto blob = chunk_blob(data);
  expect_consistent(blob, data);
  ASSERT_EQ(blob.manifest.chunks.size(), 1u);
  EXPECT_EQ(blob.manifest.chunks[0].size_bytes, CHUNK_SIZE_BYTES);
}

TEST(Chunker, OneChunkSizePlusOne) {
  auto data = pattern_bytes(static_cast<std::size_t>(CHUNK_SIZE_BYTES) + 1);
  auto blob = chunk_blob(data);
  expect_consistent(blob, data);
  ASSERT_EQ(blob.manifest.chunks.size(), 2u);
  EXPECT_EQ(blob.manifest.chunks[0].size_bytes, CHUNK_SIZE_BYTES);
  EXPECT_EQ(blob.manifest.chunks[1].size_bytes, 1);
}

TEST(Chunker, SeveralMebibytesRoundTrip) {
  auto data = pattern_bytes(3 * 1024 * 1024 + 123);
  auto blob = chunk_blob(data);
  expect_consistent(blob, data);
  EXPECT_EQ(blob.manifest.chunks.size(), 13u);
  EXPECT_EQ(blob.manifest.chunks.back().size_bytes, 123);
}

TEST(Chunker, ManifestCidIsDeterministicAndIgnoresAdvisoryFields) {
  auto data = pattern_bytes(600000);
  auto a = chunk_blob(data).manifest;
  auto b = chunk_blob(data).manifest;
  EXPECT_EQ(a.cid, b.cid);
  b.filename = "report.pdf";
  b.mime_type = "application/pdf";
  EXPECT_EQ(manifest_cid(b), a.cid);
  // Any change to the content changes it.
  data[599999] ^= 1;
  EXPECT_NE(chunk_blob(data).manifest.cid, a.cid);
  // So does the chunk size.
  EXPECT_NE(chunk_blob(data, 4096).manifest.cid, chunk_blob(data).manifest.cid);
}

TEST(Chunker, ManifestCidCoversExactlyTheSpecProjection) {
  auto m = chunk_blob(pattern_bytes(300000)).manifest;
  Json projection = {{"chunk_size_bytes", m.chunk_size_bytes},
                     {"chunks", {m.chunks[0].cid, m.chunks[1].cid}},
                     {"size_bytes", m.size_bytes}};
  EXPECT_EQ(m.cid, blake3_cid(canonical_json(projection)));
}

TEST(Chunker, VerifyChunkDetectsOneBitFlip) {
  auto data = pattern_bytes(1000);
  const std::string cid = hash_bytes(data);
  EXPECT_TRUE(verify_chunk(data, cid).has_value());
  data[500] ^= 0x10;
  auto st = verify_chunk(data, cid);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, ErrorCode::hash_mismatch);
}

TEST(Chunker, ChunkFileStreamsTheSameManifestAsChunkBlob) {
  test::TempDir dir;
  auto data = pattern_bytes(static_cast<std::size_t>(CHUNK_SIZE_BYTES) * 2 + 77);
  {
    std::ofstream f(dir / "in.bin", std::ios::binary);
    f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  }
  std::vector<Bytes> seen;
  auto m = chunk_file(dir / "in.bin", [&](const ChunkRef& ref, std::span<const std::uint8_t> d) {
    EXPECT_EQ(ref.index, static_cast<std::int64_t>(seen.size()));
    seen.emplace_back(d.begin(), d.end());
    return Status{};
  });
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  auto expected = chunk_blob(data);
  EXPECT_EQ(*m, expected.manifest);
  EXPECT_EQ(seen, expected.chunks);

  auto missing = chunk_file(dir / "absent", nullptr);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
}

TEST(BlobManifestJson, RoundTripsThroughParse) {
  auto m = chunk_blob(pattern_bytes(700000)).manifest;
  m.mime_type = "text/plain";
  m.filename = "notes.txt";
  auto j = manifest_to_json(m);
  EXPECT_EQ(j["chunks"][1]["i"], 1);
  auto parsed = parse_blob_manifest(*parse_json(canonical_json(j)));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
  EXPECT_EQ(*parsed, m);
}

TEST(BlobManifestJson, AcceptsTheContractFrameWithoutChunkSizes) {
  // CONTRACT §4.7 manifest frame: chunks carry only {"i","cid"}.
  auto m = chunk_blob(pattern_bytes(300000)).manifest;
  Json j = manifest_to_json(m);
  for (auto& c : j["chunks"]) c.erase("size_bytes");
  auto parsed = parse_blob_manifest(j);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
  EXPECT_EQ(*parsed, m);
}

TEST(BlobManifestJson, RejectsBadInputAsManifestInvalid) {
  const auto m = chunk_blob(pattern_bytes(600000)).manifest;  // 3 chunks
  const Json good = manifest_to_json(m);
  ASSERT_TRUE(parse_blob_manifest(good).has_value());

  std::vector<std::pair<std::string, Json>> cases;
  cases.emplace_back("array", Json::array());
  cases.emplace_back("string", Json("blake3:00"));
  auto with = [&](auto edit) {
    Json j = good;
    edit(j);
    return j;
  };
  cases.emplace_back("no cid", with([](Json& j) { j.erase("cid"); }));
  cases.emplace_back("bad cid", with([](Json& j) { j["cid"] = "sha256:abc"; }));
  cases.emplace_back("uppercase cid", with([](Json& j) {
                       std::string c = j["cid"];
                       for (auto& ch : c)
                         ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                       j["cid"] = "blake3:" + c.substr(7);
                     }));
  cases.emplace_back("size string", with([](Json& j) { j["size_bytes"] = "600000"; }));
  cases.emplace_back("negative size", with([](Json& j) { j["size_bytes"] = -1; }));
  cases.emplace_back("fractional size", with([](Json& j) { j["size_bytes"] = 600000.5; }));
  cases.emplace_back("chunk size 0", with([](Json& j) { j["chunk_size_bytes"] = 0; }));
  cases.emplace_back("chunk size huge", with([](Json& j) { j["chunk_size_bytes"] = 1ll << 40; }));
  cases.emplace_back("chunks object", with([](Json& j) { j["chunks"] = Json::object(); }));
  cases.emplace_back("missing chunk", with([](Json& j) { j["chunks"].erase(2); }));
  cases.emplace_back("extra chunk", with([](Json& j) { j["chunks"].push_back(j["chunks"][0]); }));
  cases.emplace_back("huge size, no chunks", with([](Json& j) {
                       j["size_bytes"] = 9007199254740991ll;
                       j["chunks"] = Json::array();
                     }));
  cases.emplace_back("swapped order",
                     with([](Json& j) { std::swap(j["chunks"][0], j["chunks"][1]); }));
  cases.emplace_back("no index", with([](Json& j) { j["chunks"][1].erase("i"); }));
  cases.emplace_back("index disagrees", with([](Json& j) { j["chunks"][1]["index"] = 2; }));
  cases.emplace_back("chunk not object", with([](Json& j) { j["chunks"][0] = "blake3:x"; }));
  cases.emplace_back("chunk bad cid", with([](Json& j) { j["chunks"][0]["cid"] = 5; }));
  cases.emplace_back("chunk wrong size",
                     with([](Json& j) { j["chunks"][2]["size_bytes"] = 262144; }));
  cases.emplace_back("tampered chunk cid", with([](Json& j) {
                       j["chunks"][0]["cid"] = "blake3:" + std::string(64, '0');
                     }));
  cases.emplace_back("size changed", with([](Json& j) { j["size_bytes"] = 600001; }));
  cases.emplace_back("mime number", with([](Json& j) { j["mime_type"] = 3; }));
  cases.emplace_back("filename too long",
                     with([](Json& j) { j["filename"] = std::string(5000, 'x'); }));
  for (const auto& [name, j] : cases) {
    auto r = parse_blob_manifest(j);
    ASSERT_FALSE(r.has_value()) << name;
    EXPECT_EQ(r.error().code, ErrorCode::manifest_invalid) << name;
  }
}

TEST(BlobManifestJson, NullAdvisoryFieldsAreAbsent) {
  auto m = chunk_blob(pattern_bytes(10)).manifest;
  Json j = manifest_to_json(m);
  j["mime_type"] = nullptr;
  j["filename"] = nullptr;
  auto parsed = parse_blob_manifest(j);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_FALSE(parsed->mime_type.has_value());
  EXPECT_FALSE(parsed->filename.has_value());
}

}  // namespace
}  // namespace hn::blobs
