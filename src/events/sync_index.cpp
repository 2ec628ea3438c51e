// sync_index.cpp — a log's keys in replay order with prefix-XOR fingerprints (SyncIndex) and
// the cache that rebuilds it only after commits (SyncIndexCache) (sync.h).
#include "events/sync.h"

#include <algorithm>
#include <cassert>

namespace hn::events {
namespace {

void xor_into(Digest& acc, const Digest& d) {
  for (std::size_t i = 0; i < acc.size(); ++i) acc[i] ^= d[i];
}

}  // namespace

// ---------------------------------------------------------------------------------------
// SyncIndex

Result<SyncIndex> SyncIndex::build(EventLog& log) {
  HN_TRY_ASSIGN(auto all, log.sync_keys());
  std::vector<SyncKey> keys;
  keys.reserve(all.stored.size() + all.pruned.size());
  // Merge the two ordered lists; a key in both (a pruned id stored again by a race) once.
  auto a = all.stored.begin();
  auto b = all.pruned.begin();
  while (a != all.stored.end() || b != all.pruned.end()) {
    const bool take_a = b == all.pruned.end() || (a != all.stored.end() && *a <= *b);
    auto& src = take_a ? a : b;
    SyncKey k{src->first, src->second.str()};
    ++src;
    if (keys.empty() || keys.back() < k) keys.push_back(std::move(k));
  }
  SyncIndex index = from_sorted_keys(std::move(keys));
  index.m_covered_seq = all.max_seq;
  return index;
}

SyncIndex SyncIndex::from_sorted_keys(std::vector<SyncKey> keys) {
  SyncIndex index;
  index.m_prefix.resize(keys.size() + 1);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    assert(i == 0 || keys[i - 1] < keys[i]);
    index.m_prefix[i + 1] = index.m_prefix[i];
    xor_into(index.m_prefix[i + 1], event_fingerprint(keys[i].lamport, keys[i].event_id));
  }
  index.m_keys = std::move(keys);
  return index;
}

std::size_t SyncIndex::lower_bound(const SyncKey& k) const {
  return static_cast<std::size_t>(std::lower_bound(m_keys.begin(), m_keys.end(), k) -
                                  m_keys.begin());
}

std::size_t SyncIndex::find(const SyncKey& k) const {
  const std::size_t p = lower_bound(k);
  return p < m_keys.size() && m_keys[p] == k ? p : m_keys.size();
}

RangeFingerprint SyncIndex::fingerprint(std::size_t begin, std::size_t end) const {
  RangeFingerprint fp;
  if (m_prefix.empty() || begin >= end) return fp;
  fp.count = static_cast<std::int64_t>(end - begin);
  fp.digest = m_prefix[end];
  xor_into(fp.digest, m_prefix[begin]);
  return fp;
}

RangeFingerprint SyncIndex::fingerprint(const SyncKey& lo, const SyncKey& hi) const {
  return fingerprint(lower_bound(lo), lower_bound(hi));
}

SyncIndexCache::SyncIndexCache(EventLog& log) : m_log(log) {
  m_subscription = m_log.subscribe([this](const Event&) { m_generation.fetch_add(1); });
}

Result<std::shared_ptr<const SyncIndex>> SyncIndexCache::get() {
  std::lock_guard lk(m_mutex);
  // Read the generation BEFORE the scan: a commit during the scan marks the index stale.
  const std::uint64_t generation = m_generation.load();
  if (m_index && generation == m_built_generation) return m_index;
  HN_TRY_ASSIGN(auto index, SyncIndex::build(m_log));
  m_index = std::make_shared<const SyncIndex>(std::move(index));
  m_built_generation = generation;
  return m_index;
}

}  // namespace hn::events
