// put_progress.cpp — see put_progress.h.
#include "services/files/put_progress.h"

#include <algorithm>

namespace hn::services::files {

void PutProgress::start(const std::string& manifest_cid, const std::vector<blobs::ChunkRef>& missing) {
  Put put;
  for (const auto& c : missing) {
    put.missing.emplace(c.index, c.cid);
    put.indices[c.cid].push_back(c.index);
  }
  std::lock_guard lock(m_mutex);
  if (m_puts.contains(manifest_cid)) m_order.remove(manifest_cid);
  m_puts[manifest_cid] = std::move(put);
  m_order.push_back(manifest_cid);
  while (m_puts.size() > m_max_puts) {
    m_puts.erase(m_order.front());
    m_order.pop_front();
  }
}

std::optional<std::vector<std::int64_t>> PutProgress::stored(const std::string& manifest_cid,
                                                             const std::vector<std::string>& cids) {
  std::lock_guard lock(m_mutex);
  auto it = m_puts.find(manifest_cid);
  if (it == m_puts.end()) return std::nullopt;
  Put& put = it->second;
  for (const auto& cid : cids) {
    auto at = put.indices.find(cid);
    if (at == put.indices.end()) continue;
    for (auto index : at->second) put.missing.erase(index);
    put.indices.erase(at);
  }
  std::vector<std::int64_t> left;
  left.reserve(put.missing.size());
  for (const auto& [index, cid] : put.missing) left.push_back(index);
  return left;
}

void PutProgress::finish(const std::string& manifest_cid) {
  std::lock_guard lock(m_mutex);
  if (m_puts.erase(manifest_cid) > 0) m_order.remove(manifest_cid);
}

std::size_t PutProgress::tracked() const {
  std::lock_guard lock(m_mutex);
  return m_puts.size();
}

}  // namespace hn::services::files
