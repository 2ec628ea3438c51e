// blob_fixtures.h — helpers the blob layer's tests share: seeded pseudo-random bytes and a
// whole file read back as bytes.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <random>

#include "core/encoding.h"
#include "core/file_util.h"

namespace hn::blobs::test_fixtures {

// n bytes from a seeded generator: the same seed, the same bytes.
inline Bytes pattern_bytes(std::size_t n, std::uint32_t seed) {
  Bytes out(n);
  std::mt19937 rng(seed);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

// The file's bytes (a failed read fails the test and gives none).
inline Bytes slurp(const std::filesystem::path& path) {
  auto s = read_file(path);
  EXPECT_TRUE(s.has_value());
  return s ? Bytes(s->begin(), s->end()) : Bytes{};
}

}  // namespace hn::blobs::test_fixtures
