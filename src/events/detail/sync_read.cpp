// sync_read.cpp — reading events by sync key under a byte budget (sync_read.h).
#include "events/detail/sync_read.h"

#include <string_view>
#include <unordered_map>

namespace hn::events::detail {
namespace {

// A run of wanted keys is read with one ordered scan when it has at least this many keys
// and they are dense enough among the log's keys (see read_by_keys).
constexpr std::size_t MIN_SCAN_RUN = 8;
constexpr std::size_t SCAN_DENSITY = 4;

// A cheap upper-ish estimate of an event's JSON size, for byte budgets.
std::size_t approx_json_bytes(const Json& j) {
  switch (j.type()) {
    case Json::value_t::object: {
      std::size_t n = 2;
      for (auto it = j.begin(); it != j.end(); ++it)
        n += it.key().size() + 4 + approx_json_bytes(*it);
      return n;
    }
    case Json::value_t::array: {
      std::size_t n = 2;
      for (const auto& v : j) n += 1 + approx_json_bytes(v);
      return n;
    }
    case Json::value_t::string:
      return j.get_ref<const std::string&>().size() + 2;
    default:
      return 24;
  }
}

std::size_t approx_event_bytes(const Event& e) {
  // The envelope without data: ids, author, community, signature, names, punctuation.
  return 200 + e.event_id.str().size() + e.community_id.str().size() + e.author.str().size() +
         e.signature.size() + e.wall_clock.size() + approx_json_bytes(e.data);
}

}  // namespace

Result<ReadBatch> read_by_keys(EventLog& log, const SyncIndex& index, std::span<const SyncKey> keys,
                               std::size_t max_bytes) {
  ReadBatch out;
  std::size_t bytes = 0;
  auto admit = [&](Event&& e) {
    const std::size_t size = approx_event_bytes(e);
    if (!out.events.empty() && bytes + size > max_bytes) return false;
    bytes += size;
    out.events.push_back(std::move(e));
    return true;
  };

  std::size_t i = 0;
  while (i < keys.size()) {
    const std::size_t pos = index.find(keys[i]);
    if (pos != index.size()) {
      std::size_t j = i;
      std::size_t last = pos;
      while (j + 1 < keys.size()) {
        const std::size_t p = index.find(keys[j + 1]);
        if (p == index.size() || p <= last) break;
        if (p - pos + 1 > SCAN_DENSITY * (j + 2 - i) + SYNC_LEAF_SIZE) break;
        ++j;
        last = p;
      }
      if (j - i + 1 >= MIN_SCAN_RUN) {
        std::unordered_map<std::string_view, std::size_t> want;
        want.reserve(j - i + 1);
        for (std::size_t k = i; k <= j; ++k) want.emplace(keys[k].event_id, k);
        bool stopped = false;
        ReplayOptions options;
        options.from_lamport = keys[i].lamport;
        options.to_lamport = keys[j].lamport;
        HN_TRY(log.replay(options, [&](Event& e) {
          auto it = want.find(e.event_id.str());
          if (it == want.end() || e.lamport != keys[it->second].lamport) return true;
          const std::size_t slot = it->second;
          if (!admit(std::move(e))) {
            stopped = true;
            out.consumed = slot;
            return false;
          }
          return true;
        }));
        if (stopped) return out;
        i = j + 1;
        continue;
      }
    }
    HN_TRY_ASSIGN(auto e, log.get(EventId(keys[i].event_id)));
    if (e && e->lamport == keys[i].lamport && !admit(std::move(*e))) {
      out.consumed = i;
      return out;
    }
    ++i;
  }
  out.consumed = keys.size();
  return out;
}

}  // namespace hn::events::detail
