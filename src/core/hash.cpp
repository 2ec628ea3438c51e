// hash.cpp — BLAKE3 helpers over the official C implementation.
#include "core/hash.h"

#include "core/encoding.h"

namespace hn {

Digest Blake3Hasher::digest() const {
  Digest out{};
  blake3_hasher_finalize(&m_state, out.data(), out.size());
  return out;
}

std::string Blake3Hasher::hex_cid() const { return digest_to_cid(digest()); }

Digest blake3_digest(std::span<const std::uint8_t> data) {
  Blake3Hasher h;
  h.update(data);
  return h.digest();
}

std::string blake3_cid(std::span<const std::uint8_t> data) {
  return digest_to_cid(blake3_digest(data));
}

std::string blake3_cid(std::string_view data) { return blake3_cid(as_bytes(data)); }

std::string digest_to_cid(const Digest& digest) { return "blake3:" + hex_encode(digest); }

bool is_valid_cid(std::string_view text) {
  if (text.size() != 7 + 64 || text.substr(0, 7) != "blake3:") return false;
  for (char c : text.substr(7)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string short_cid(std::string_view cid) {
  if (cid.size() < 7 + 16) return std::string(cid);
  return std::string(cid.substr(0, 7 + 16)) + "...";
}

}  // namespace hn
