// start_bench.cpp — start-to-ready of a node's views over a long event log, without and with
// a snapshot (X02 §5.4, "snapshots for fast bootstrap"), measured in the same run over the
// same database file:
//   full      — EventLog::open + ReplayEngine + register the views: every event replayed
//   snapshot  — the same after LogUpkeep::choose_base: the newest snapshot's state, then only
//               the events after it (SNAPSHOT_LAG_LAMPORT of them, the most a node replays
//               between two lag-driven snapshots)
// The views are what the node registers (CommunityView) plus a stand-in for the service views
// to come (chat / market): one that takes every event and keeps an aggregate per channel, so
// its state is small like theirs will be per item, not a copy of the log.
// Prints one JSON line:
//   {"bench":"start","events":N,"full_ms":…,"snapshot_ms":…,"ratio":…,"community_only_full_ms":…,
//    "community_only_snapshot_ms":…,"community_only_ratio":…,"snapshot_bytes":…,"build_ms":…,
//    "replayed_full":…,"replayed_snapshot":…}
// ratio = snapshot_ms / full_ms (below 1: the snapshot start is faster). Each figure is the
// median of 3 starts.
//
// Usage: hn_bench_start [events (default 1000000)] [dir]
// With a dir, the log (and its snapshot) are kept there and reused by the next run with the
// same count; without, a fresh directory under $TMPDIR (or /tmp) is removed afterwards.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/parallel.h"
#include "core/ulid.h"
#include "events/community_view.h"
#include "events/event_log.h"
#include "events/replay.h"
#include "events/upkeep.h"

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
using namespace hn;
using namespace hn::events;

double ms_since(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "start_bench: %s\n", what.c_str());
  std::exit(1);
}

identity::KeyPair key(std::uint8_t b) {
  identity::Seed seed{};
  seed.fill(b);
  return identity::KeyPair::from_seed(seed).value();
}

// Per channel: message count and the newest message id (a chat view's summary).
class ChannelView final : public MaterialisedView {
 public:
  std::string name() const override { return "channels"; }
  void reset() override { m_channels.clear(); }
  void apply(const Event& e) override {
    auto it = e.data.find("channel");
    if (it == e.data.end() || !it->is_string()) return;
    auto& c = m_channels[it->get<std::string>()];
    ++c.first;
    c.second = e.event_id.str();
  }
  Json snapshot_state() const override {
    Json out = Json::object();
    for (const auto& [name, c] : m_channels) out[name] = Json::array({c.first, c.second});
    return out;
  }
  Status restore_state(const Json& state) override {
    if (!state.is_object()) return make_error(ErrorCode::bad_request, "channels: not an object");
    std::map<std::string, std::pair<std::int64_t, std::string>> next;
    for (auto it = state.begin(); it != state.end(); ++it) {
      const Json& v = *it;
      if (!v.is_array() || v.size() != 2 || !v[0].is_number_integer() || !v[1].is_string()) {
        return make_error(ErrorCode::bad_request, "channels: bad entry");
      }
      next[it.key()] = {v[0].get<std::int64_t>(), v[1].get<std::string>()};
    }
    m_channels = std::move(next);
    return {};
  }

 private:
  std::map<std::string, std::pair<std::int64_t, std::string>> m_channels;
};

constexpr std::size_t BATCH = 5000;
constexpr int CHANNELS = 200;

// The community's 50 members (their keys; found() admits them).
std::vector<identity::KeyPair> member_keys() {
  std::vector<identity::KeyPair> members;
  for (int i = 0; i < 50; ++i) members.push_back(key(static_cast<std::uint8_t>(10 + i)));
  return members;
}

// Founds the community and admits every member (invite + join).
void found(EventLog& log, const identity::KeyPair& founder) {
  if (!log.append_local(EventType::community_created, {{"name", "Bench"},
                                                       {"founder_node_id", founder.node_id().str()},
                                                       {"policy", Json::object()}})) {
    die("genesis failed");
  }
  for (const auto& m : member_keys()) {
    if (!log.append_local(EventType::community_member_invited, {{"invitee_node_id", m.node_id().str()}}) ||
        !log.append_local(EventType::community_member_joined, Json::object(), m)) {
      die("invite failed");
    }
  }
}

// Writes n chat events by the members, signed on every core, in transactions of BATCH.
void write_chat(EventLog& log, std::size_t n) {
  const CommunityId community = log.community_id();
  const auto members = member_keys();
  Lamport lamport = log.clock();
  UlidGenerator ulids;
  for (std::size_t done = 0; done < n;) {
    const std::size_t count = std::min(BATCH, n - done);
    std::vector<Event> batch(count);
    for (std::size_t i = 0; i < count; ++i) {
      Event& e = batch[i];
      e.event_id = EventId(ulids.next());
      e.lamport = ++lamport;
      e.wall_clock = "2026-12-03T10:00:00Z";
      e.community_id = community;
      e.event_type = EventType::chat_message_sent;
      e.data = Json{{"channel", "ch-" + std::to_string((done + i) % CHANNELS)},
                    {"text", "Hallo Nachbarn, wer leiht mir eine Leiter?"},
                    {"n", done + i}};
    }
    std::atomic<std::size_t> cursor{0};
    run_on_all_cores([&] {
      for (std::size_t i = cursor.fetch_add(1); i < count; i = cursor.fetch_add(1)) {
        const auto& author = members[(done + i) % members.size()];
        batch[i].author = author.node_id();
        if (!sign_event(batch[i], author)) die("sign failed");
      }
    });
    auto r = log.append_received_batch(batch);
    if (!r || r->accepted != count) die("append failed");
    done += count;
    if (done % 100000 == 0) std::fprintf(stderr, "start_bench: %zu events written\n", done);
  }
}

struct Start {
  double ms = 0;
  std::int64_t replayed = 0;
};

// One start: open the log, the engine and the views (from a snapshot when asked).
Start start(const fs::path& db, const fs::path& snaps, const CommunityId& community,
            const identity::KeyPair& keys, bool with_snapshot, bool community_only) {
  const auto t0 = SteadyClock::now();
  auto log = EventLog::open(db, community, keys);
  if (!log) die("open: " + log.error().to_string());
  ReplayEngine engine(**log);
  CommunityView view;
  ChannelView channels;
  LogUpkeep upkeep(**log, engine, SnapshotStore(snaps, community), keys, {});
  if (with_snapshot) {
    auto r = upkeep.choose_base();
    if (!r || !r->snapshot) die("no snapshot restored");
  }
  if (!engine.register_view(view, CommunityView::event_types())) die("register community");
  if (!community_only && !engine.register_view(channels)) die("register channels");
  (*log)->set_author_policy(view.author_policy());
  Start s{ms_since(t0), engine.replayed_events()};
  return s;
}

Start median_start(const fs::path& db, const fs::path& snaps, const CommunityId& community,
                   const identity::KeyPair& keys, bool with_snapshot, bool community_only) {
  std::vector<Start> runs;
  for (int i = 0; i < 3; ++i) runs.push_back(start(db, snaps, community, keys, with_snapshot, community_only));
  std::sort(runs.begin(), runs.end(), [](const Start& a, const Start& b) { return a.ms < b.ms; });
  return runs[1];
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const bool keep = argc > 2;
  const fs::path dir = keep ? fs::path(argv[2])
                            : fs::path(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") /
                                  ("hn_start_bench_" + std::to_string(::getpid()));
  const fs::path db = dir / ("events_" + std::to_string(n) + ".sqlite");
  const fs::path snaps = dir / ("snapshots_" + std::to_string(n));
  fs::create_directories(dir);
  const auto founder = key(1);
  const CommunityId community(founder.node_id().str());

  double build_ms = 0;
  if (!fs::exists(db)) {
    fs::remove_all(snaps);
    auto log = EventLog::open(db, community, founder);
    if (!log) die("open: " + log.error().to_string());
    found(**log, founder);
    write_chat(**log, n - SNAPSHOT_LAG_LAMPORT - 101);  // 101: genesis + 50 invites + 50 joins
    // The snapshot a running node would have built, then the lag's worth of events after it.
    ReplayEngine engine(**log);
    CommunityView view;
    ChannelView channels;
    if (!engine.register_view(view, CommunityView::event_types()) || !engine.register_view(channels)) {
      die("register");
    }
    LogUpkeep upkeep(**log, engine, SnapshotStore(snaps, community), founder, {});
    const auto t0 = SteadyClock::now();
    auto snap = upkeep.build_snapshot_now();
    if (!snap || !*snap) die("snapshot failed");
    build_ms = ms_since(t0);
    write_chat(**log, SNAPSHOT_LAG_LAMPORT);
  }

  const Start full = median_start(db, snaps, community, founder, false, false);
  const Start snap = median_start(db, snaps, community, founder, true, false);
  const Start cfull = median_start(db, snaps, community, founder, false, true);
  const Start csnap = median_start(db, snaps, community, founder, true, true);
  std::uintmax_t snapshot_bytes = 0;
  for (const auto& f : fs::directory_iterator(snaps)) snapshot_bytes += fs::file_size(f.path());

  std::printf(
      "{\"bench\":\"start\",\"events\":%zu,\"full_ms\":%.1f,\"snapshot_ms\":%.1f,\"ratio\":%.4f,"
      "\"community_only_full_ms\":%.1f,\"community_only_snapshot_ms\":%.1f,"
      "\"community_only_ratio\":%.4f,\"snapshot_bytes\":%ju,\"build_ms\":%.1f,"
      "\"replayed_full\":%lld,\"replayed_snapshot\":%lld}\n",
      n, full.ms, snap.ms, snap.ms / full.ms, cfull.ms, csnap.ms, csnap.ms / cfull.ms,
      snapshot_bytes, build_ms, static_cast<long long>(full.replayed),
      static_cast<long long>(snap.replayed));
  if (!keep) fs::remove_all(dir);
  return 0;
}
