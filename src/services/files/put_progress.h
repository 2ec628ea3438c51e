// put_progress.h — the chunks each file.put under way still lacks. A put comes as one call
// with the manifest, then batches of chunks (the CLI sends 8 a call), and every answer
// says which chunks are still `needed`. Asking the store for every chunk of the manifest
// on every batch made a put quadratic: a 1 GiB put (4,096 chunks, 512 batches) looked up
// two million chunk files. Here the first call's look-up is kept and each batch strikes
// out what it stored; the store is asked again only for a put it does not track (the node
// restarted, or the put fell out of the bounded table) and once more before the manifest
// makes the blob whole (file_service.cpp).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "blobs/chunker.h"

namespace hn::services::files {

class PutProgress {
 public:
  explicit PutProgress(std::size_t max_puts = 64) : m_max_puts(max_puts) {}

  // Tracks the put of `manifest_cid` (again, if it was): `missing` are the chunks the store
  // lacks. The put tracked longest is forgotten when more than max_puts are.
  void start(const std::string& manifest_cid, const std::vector<blobs::ChunkRef>& missing);
  // Strikes out every index of each stored CID; the indices still missing, ascending.
  // nullopt when the put is not tracked.
  std::optional<std::vector<std::int64_t>> stored(const std::string& manifest_cid,
                                                  const std::vector<std::string>& cids);
  void finish(const std::string& manifest_cid);
  std::size_t tracked() const;

 private:
  struct Put {
    std::map<std::int64_t, std::string> missing;  // chunk index → its CID
    std::unordered_map<std::string, std::vector<std::int64_t>> indices;  // CID → its indices
  };
  const std::size_t m_max_puts;
  mutable std::mutex m_mutex;
  std::unordered_map<std::string, Put> m_puts;
  std::list<std::string> m_order;  // oldest start first
};

}  // namespace hn::services::files
