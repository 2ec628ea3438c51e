// source_index.h — who holds which blob (M07 §5.5, IMPLEMENTATION_REFERENCE event table):
// a materialised view of `file.cid.advertised` (author holds cid) and `file.cid.unpinned`
// (author no longer offers it) events, plus what peers told us directly with
// file.advertise@1.0 or answered to file.list@1.0. The event part is rebuilt by replay; the
// direct part lives in memory only (a peer re-advertises after a restart).
//
// Thread-safety: every method is safe from any thread (one mutex).
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/types.h"
#include "events/replay.h"

namespace hn::services::files {

class SourceIndex final : public events::MaterialisedView {
 public:
  std::string name() const override { return "file.sources"; }
  void reset() override;
  void apply(const events::Event& event) override;
  Json snapshot_state() const override;
  Status restore_state(const Json& state) override;

  // A peer said it holds these CIDs (file.advertise, file.list answers).
  void record(const NodeId& node, const std::vector<std::string>& cids);
  // A peer answered that it does not hold cid (drop it as a source).
  void forget(const NodeId& node, const std::string& cid);
  // The nodes known to hold cid, sorted.
  std::vector<NodeId> holders(const std::string& cid) const;
  // Every CID some node holds, with its holders and the advertised size (−1 unknown).
  struct Entry {
    std::set<NodeId> holders;
    std::int64_t size_bytes = -1;
  };
  std::map<std::string, Entry> all() const;

 private:
  mutable std::mutex m_mutex;
  std::map<std::string, Entry> m_events;  // from the log
  std::map<std::string, Entry> m_direct;  // from calls
};

}  // namespace hn::services::files
