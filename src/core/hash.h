// hash.h — BLAKE3 content hashes in the wire form "blake3:<64 lowercase hex>"
// (CONTRACT §1.4), one-shot and streaming.
//
// Thread-safety: Blake3Hasher is a value; one per thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <blake3.h>

#include "core/types.h"

namespace hn {

using Digest = std::array<std::uint8_t, 32>;

class Blake3Hasher {
 public:
  Blake3Hasher() { blake3_hasher_init(&m_state); }
  void update(std::span<const std::uint8_t> data) {
    blake3_hasher_update(&m_state, data.data(), data.size());
  }
  void update(std::string_view data) { blake3_hasher_update(&m_state, data.data(), data.size()); }
  Digest digest() const;
  // "blake3:<hex>" of everything fed so far.
  std::string hex_cid() const;

 private:
  blake3_hasher m_state;
};

Digest blake3_digest(std::span<const std::uint8_t> data);
// "blake3:<64 hex>".
std::string blake3_cid(std::span<const std::uint8_t> data);
std::string blake3_cid(std::string_view data);
// "blake3:" + hex of an existing digest.
std::string digest_to_cid(const Digest& digest);
// Whether text is "blake3:" followed by exactly 64 lowercase hex characters.
bool is_valid_cid(std::string_view text);
// The first 16 hex chars for display ("blake3:abc123…", CONTRACT §1.4).
std::string short_cid(std::string_view cid);

}  // namespace hn
