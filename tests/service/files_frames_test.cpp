// files_frames_test.cpp — the file service's parsers of peer bytes and its source index
// (services/files/frames.h, source_index.h): bad frames are typed errors, never stored.
#include <gtest/gtest.h>

#include "blobs/chunker.h"
#include "core/encoding.h"
#include "services/files/frames.h"
#include "services/files/source_index.h"

namespace hn::services::files {
namespace {

TEST(FileFrames, ChunkFrameRoundTripsAndVerifies) {
  Bytes data(1000, 42);
  const std::string cid = blobs::hash_bytes(data);
  auto parsed = parse_chunk_frame(chunk_frame(3, cid, data));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->index, 3);
  EXPECT_EQ(Bytes(parsed->data().begin(), parsed->data().end()), data);

  Bytes flipped = data;
  flipped[0] ^= 1;
  auto bad = parse_chunk_frame(chunk_frame(3, cid, flipped));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::hash_mismatch);
}

TEST(FileFrames, MalformedChunkFramesAreBadRequests) {
  Bytes data(10, 1);
  const std::string cid = blobs::hash_bytes(data);
  for (const Json& f : {Json::array(), Json{{"cid", "blake3:zz"}, {"data_b64", "AA"}},
                        Json{{"cid", cid}}, Json{{"cid", cid}, {"data_b64", "!!"}},
                        Json{{"cid", cid}, {"i", -1}, {"data_b64", base64url_encode(data)}},
                        Json{{"cid", cid}, {"size_bytes", 11}, {"data_b64", base64url_encode(data)}}}) {
    auto r = parse_chunk_frame(f);
    ASSERT_FALSE(r) << f.dump();
    EXPECT_EQ(r.error().code, ErrorCode::bad_request) << f.dump();
  }
}

// The binary chunk path (doc/design/files.md): the bytes are the frame's payload, the data
// the same fields without data_b64; the same verification and the same typed errors.
TEST(FileFrames, BinaryChunkFrameRoundTripsAndVerifies) {
  Bytes data(300 * 1024, 0);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 31);
  const std::string cid = blobs::hash_bytes(data);
  const Json header = chunk_frame_header(4, cid, data.size());
  EXPECT_FALSE(header.contains("data_b64"));
  auto parsed = parse_chunk_frame(header, data);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->index, 4);
  EXPECT_EQ(parsed->cid(), cid);
  EXPECT_EQ(Bytes(parsed->data().begin(), parsed->data().end()), data);

  Bytes flipped = data;
  flipped[1000] ^= 0x80;
  auto bad = parse_chunk_frame(header, flipped);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::hash_mismatch);
}

TEST(FileFrames, MalformedBinaryChunkFramesAreBadRequests) {
  Bytes data(10, 1);
  const std::string cid = blobs::hash_bytes(data);
  const std::vector<std::pair<Json, Bytes>> cases = {
      {Json::array(), data},
      {Json{{"cid", "blake3:zz"}, {"size_bytes", 10}}, data},
      {Json{{"cid", cid}}, data},                                  // no size_bytes
      {Json{{"cid", cid}, {"size_bytes", 11}}, data},              // size is not the payload's
      {Json{{"cid", cid}, {"size_bytes", "10"}}, data},
      {Json{{"cid", cid}, {"size_bytes", 10}, {"i", -2}}, data},
      {Json{{"cid", cid}, {"size_bytes", 10}, {"data_b64", base64url_encode(data)}}, data},
      {Json{{"cid", cid}, {"size_bytes", 0}}, Bytes{}},            // an empty payload for a 10-byte CID
  };
  for (const auto& [frame, payload] : cases) {
    auto r = parse_chunk_frame(frame, payload);
    ASSERT_FALSE(r) << frame.dump();
    EXPECT_TRUE(r.error().code == ErrorCode::bad_request || r.error().code == ErrorCode::hash_mismatch)
        << frame.dump();
  }
  // Only the last one is well formed (and fails on its hash).
  EXPECT_EQ(parse_chunk_frame(Json{{"cid", cid}, {"size_bytes", 0}}, Bytes{}).error().code,
            ErrorCode::hash_mismatch);
  EXPECT_EQ(parse_chunk_frame(Json{{"cid", cid}, {"size_bytes", 11}}, data).error().code,
            ErrorCode::bad_request);
}

TEST(FileFrames, PutRequestChunksMustMatchTheManifest) {
  Bytes data(300 * 1024, 5);
  auto blob = blobs::chunk_blob(data);
  const Json m = blobs::manifest_to_json(blob.manifest);
  auto ok = parse_put_request(Json{{"manifest", m},
                                   {"chunks", Json::array({chunk_frame(1, blob.manifest.chunks[1].cid,
                                                                       blob.chunks[1])})}});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->chunks.size(), 1u);
  // Chunk 0's bytes sent as chunk 1.
  auto wrong = parse_put_request(Json{
      {"manifest", m},
      {"chunks", Json::array({chunk_frame(1, blob.manifest.chunks[0].cid, blob.chunks[0])})}});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::bad_request);
  auto no_manifest = parse_put_request(Json{{"chunks", Json::array()}});
  EXPECT_FALSE(no_manifest);
  Json tampered = m;
  tampered["size_bytes"] = 1;
  EXPECT_FALSE(parse_put_request(Json{{"manifest", tampered}}));
}

TEST(FileSourceIndex, AdvertisedAddsUnpinnedRemoves) {
  SourceIndex index;
  const std::string cid = "blake3:" + std::string(64, 'a');
  events::Event adv;
  adv.author = NodeId("ed25519:A");
  adv.event_type = events::EventType::file_cid_advertised;
  adv.data = Json{{"cid", cid}, {"sizes_bytes", 10}};
  index.apply(adv);
  index.record(NodeId("ed25519:B"), {cid});
  EXPECT_EQ(index.holders(cid).size(), 2u);
  events::Event unpin = adv;
  unpin.event_type = events::EventType::file_cid_unpinned;
  unpin.data = Json{{"cid", cid}};
  index.apply(unpin);
  EXPECT_EQ(index.holders(cid), std::vector<NodeId>{NodeId("ed25519:B")});
  // Malformed data is ignored.
  adv.data = Json{{"cid", 5}};
  index.apply(adv);
  EXPECT_EQ(index.all().size(), 1u);
  // Snapshot state round-trips (the event part).
  SourceIndex other;
  ASSERT_TRUE(other.restore_state(index.snapshot_state()));
}

}  // namespace
}  // namespace hn::services::files
