// key_pins.cpp — KeyPinStore (a node id's first key, kept) and VerificationCache (signatures
// checked once per TTL) (manifest.h).
#include "identity/manifest.h"

#include <algorithm>

#include "core/encoding.h"
#include "core/hash.h"
#include "core/json.h"

namespace hn::identity {

// ---------------------------------------------------------------------------------------------
// KeyPinStore

Status KeyPinStore::check_or_pin(std::string_view node_id, const PublicKey& key) {
  std::lock_guard lock(m_mutex);
  auto [it, inserted] = m_pins.try_emplace(std::string(node_id), key);
  if (!inserted && it->second != key) {
    return make_error(ErrorCode::invalid_signature,
                      "key for " + std::string(node_id) + " differs from the pinned key");
  }
  return {};
}

std::optional<PublicKey> KeyPinStore::pinned(std::string_view node_id) const {
  std::lock_guard lock(m_mutex);
  auto it = m_pins.find(std::string(node_id));
  if (it == m_pins.end()) return std::nullopt;
  return it->second;
}

std::size_t KeyPinStore::size() const {
  std::lock_guard lock(m_mutex);
  return m_pins.size();
}

// ---------------------------------------------------------------------------------------------
// VerificationCache

VerificationCache::VerificationCache(const Clock& clock, std::int64_t ttl_ms,
                                     std::size_t max_entries)
    : m_clock(clock), m_ttl_ms(ttl_ms), m_max_entries(std::max<std::size_t>(max_entries, 1)) {}

Status VerificationCache::verify_bytes(std::span<const std::uint8_t> message,
                                       std::string_view signature, const PublicKey& key) {
  Blake3Hasher h;
  h.update(std::span<const std::uint8_t>(key));
  const std::uint64_t sig_len = signature.size();
  h.update(std::string_view(reinterpret_cast<const char*>(&sig_len), sizeof sig_len));
  h.update(signature);
  h.update(message);
  const Digest d = h.digest();
  std::string cache_key(reinterpret_cast<const char*>(d.data()), d.size());
  const std::int64_t now = m_clock.now_ms();
  {
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find(cache_key);
    if (it != m_entries.end() && it->second.expires_ms > now) {
      ++m_hits;
      if (it->second.ok) return {};
      return make_error(ErrorCode::invalid_signature, it->second.message);
    }
    ++m_misses;
  }
  Status result = identity::verify_bytes(message, signature, key);
  std::lock_guard lock(m_mutex);
  if (m_entries.size() >= m_max_entries) {
    std::erase_if(m_entries, [now](const auto& kv) { return kv.second.expires_ms <= now; });
    if (m_entries.size() >= m_max_entries) m_entries.clear();
  }
  m_entries[cache_key] =
      Entry{now + m_ttl_ms, result.has_value(), result ? std::string() : result.error().message};
  return result;
}

Status VerificationCache::verify_payload(const Json& payload, const PublicKey& key) {
  HN_TRY_ASSIGN(SignedPayload signed_payload, split_signed_payload(payload));
  return verify_bytes(as_bytes(signed_payload.message), signed_payload.signature, key);
}

std::size_t VerificationCache::size() const {
  std::lock_guard lock(m_mutex);
  return m_entries.size();
}

std::uint64_t VerificationCache::hits() const {
  std::lock_guard lock(m_mutex);
  return m_hits;
}

std::uint64_t VerificationCache::misses() const {
  std::lock_guard lock(m_mutex);
  return m_misses;
}

}  // namespace hn::identity
