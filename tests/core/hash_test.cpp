// hash_test.cpp — BLAKE3 against the official test vectors (input: bytes i % 251).
#include "core/hash.h"

#include <gtest/gtest.h>

#include "core/encoding.h"

namespace hn {
namespace {

Bytes official_input(size_t len) {
  Bytes b(len);
  for (size_t i = 0; i < len; ++i) b[i] = static_cast<std::uint8_t>(i % 251);
  return b;
}

TEST(Blake3, OfficialTestVectors) {
  // First 32 bytes of the "hash" field of BLAKE3's test_vectors.json.
  const std::pair<size_t, const char*> vectors[] = {
      {0, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"},
      {1, "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"},
      {1023, "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11"},
      {1024, "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"},
      {1025, "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"},
      {2048, "e776b6028c7cd22a4d0ba182a8bf62205d2ef576467e838ed6f2529b85fba24a"},
      {2049, "5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b68795225630309"},
      {3072, "b98cb0ff3623be03326b373de6b9095218513e64f1ee2edd2525c7ad1e5cffd2"},
      {3073, "7124b49501012f81cc7f11ca069ec9226cecb8a2c850cfe644e327d22d3e1cd3"},
      {4096, "015094013f57a5277b59d8475c0501042c0b642e531b0a1c8f58d2163229e969"},
      {4097, "9b4052b38f1c5fc8b1f9ff7ac7b27cd242487b3d890d15c96a1c25b8aa0fb995"},
      {5120, "9cadc15fed8b5d854562b26a9536d9707cadeda9b143978f319ab34230535833"},
      {6145, "f1323a8631446cc50536a9f705ee5cb619424d46887f3c376c695b70e0f0507f"},
      {7169, "a003fc7a51754a9b3c7fae0367ab3d782dccf28855a03d435f8cfe74605e7817"},
  };
  for (const auto& [len, hex] : vectors) {
    EXPECT_EQ(blake3_cid(official_input(len)), std::string("blake3:") + std::string(hex).substr(0, 64))
        << "len " << len;
  }
}

TEST(Blake3, StreamingEqualsOneShot) {
  auto input = official_input(100000);
  Blake3Hasher h;
  for (size_t off = 0; off < input.size(); off += 7777) {
    h.update(std::span(input).subspan(off, std::min<size_t>(7777, input.size() - off)));
  }
  EXPECT_EQ(h.hex_cid(), blake3_cid(input));
}

TEST(Blake3, CidValidation) {
  EXPECT_TRUE(is_valid_cid(blake3_cid(std::string_view("x"))));
  EXPECT_FALSE(is_valid_cid("blake3:ABC"));
  EXPECT_FALSE(is_valid_cid("sha256:" + std::string(64, 'a')));
  EXPECT_FALSE(is_valid_cid("blake3:" + std::string(64, 'A')));
  EXPECT_EQ(short_cid("blake3:" + std::string(64, 'a')), "blake3:" + std::string(16, 'a') + "...");
}

}  // namespace
}  // namespace hn
