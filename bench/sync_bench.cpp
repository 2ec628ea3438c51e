// sync_bench.cpp — X02 event sync throughput: a source log of N signed events is synced
// into an EMPTY log through SyncClient → InProcessSyncPeer (JSON text both ways) →
// SyncServer, against a baseline measured in the same run over the same events:
//   baseline_eps  — append_received_batch of the events straight into an empty log, in
//                   batches of SYNC_BATCH (signature checks + one transaction per batch):
//                   the floor any sync into that log pays
//   sync_eps      — the full round: heads, reconcile, fetch (read + JSON encode/decode),
//                   append — events newly stored per second of the round
//   noop_ms       — a second round right after (identical logs: heads only)
//   delta_ms      — a round after the source gained 100 more events
// Prints one JSON line:
//   {"bench":"sync","events":N,"sync_eps":…,"baseline_eps":…,"sync_vs_baseline":…,
//    "rounds":…,"messages":…,"noop_ms":…,"delta_ms":…,"sync_cores_busy":…}
//   (sync_cores_busy: CPU seconds of the round / its wall time — 2.0 is both cores busy)
// Target (DESIGN/brief): sync_eps ≥ 15000 for N = 100000.
//
// Usage: hn_bench_sync [events (default 100000)] [pipeline 1|0 (default 1)]
// Databases live in a fresh directory under $TMPDIR (or /tmp), removed afterwards.
#include <sodium.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "events/sync.h"

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
using namespace hn;
using namespace hn::events;

// CPU seconds this process has used (all threads, user + system).
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

identity::KeyPair key(std::uint8_t b) {
  identity::Seed seed{};
  seed.fill(b);
  return identity::KeyPair::from_seed(seed).value();
}

Json payload(std::size_t i) {
  return Json{{"client_id", "bench-" + std::to_string(i)},
              {"category", "offer"},
              {"title", "Bohrmaschine zu verleihen"},
              {"body", "Leihweise, Abholung am Wochenende."},
              {"tags", {"werkzeug", "leihen"}},
              {"ttl_seconds", 86400}};
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "sync_bench: %s\n", what.c_str());
  std::exit(1);
}

std::vector<Event> mint(const identity::KeyPair& author, const CommunityId& community,
                        std::size_t n, Lamport first) {
  std::vector<Event> out;
  out.reserve(n);
  UlidGenerator ulids;
  for (std::size_t i = 0; i < n; ++i) {
    Event e;
    e.event_id = EventId(ulids.next());
    e.lamport = first + static_cast<Lamport>(i);
    e.wall_clock = "2026-05-26T08:14:22Z";
    e.community_id = community;
    e.author = author.node_id();
    e.event_type = EventType::market_post_created;
    e.data = payload(i);
    if (!sign_event(e, author)) die("sign_event failed");
    out.push_back(std::move(e));
  }
  return out;
}

void append_all(EventLog& log, const std::vector<Event>& events) {
  for (std::size_t i = 0; i < events.size(); i += SYNC_BATCH) {
    std::vector<Event> chunk(
        events.begin() + static_cast<std::ptrdiff_t>(i),
        events.begin() + static_cast<std::ptrdiff_t>(std::min(events.size(), i + SYNC_BATCH)));
    auto r = log.append_received_batch(chunk);
    if (!r || r->accepted != chunk.size()) die("append_received_batch failed");
  }
}

std::unique_ptr<EventLog> open_log(const fs::path& path, const CommunityId& community,
                                   std::uint8_t b) {
  auto log = EventLog::open(path, community, key(b));
  if (!log) die(log.error().to_string());
  return std::move(*log);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  const bool pipeline = argc > 2 ? std::strtol(argv[2], nullptr, 10) != 0 : true;
  if (n == 0) die("usage: hn_bench_sync [events] [pipeline 1|0]");
  if (sodium_init() < 0) die("sodium_init failed");

  const char* tmp = std::getenv("TMPDIR");
  const fs::path dir =
      fs::path(tmp != nullptr ? tmp : "/tmp") / ("hn_sync_bench_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);

  const auto author = key(9);
  const CommunityId community(key(1).node_id().str());
  const auto events = mint(author, community, n, 1);

  // Source log (untimed).
  auto source = open_log(dir / "source.db", community, 1);
  append_all(*source, events);

  // Baseline: the same events straight into an empty log.
  double baseline_s = 0;
  {
    auto log = open_log(dir / "baseline.db", community, 3);
    const auto start = SteadyClock::now();
    append_all(*log, events);
    baseline_s = seconds_since(start);
  }

  // The sync round into an empty log.
  auto target = open_log(dir / "target.db", community, 2);
  SyncServer server(*source);
  InProcessSyncPeer peer(server, "source");
  SyncOptions options;
  options.pipeline = pipeline;
  SyncClient client(*target, options);
  const auto start = SteadyClock::now();
  const double cpu0 = cpu_seconds();
  auto r = client.run_round(peer);
  const double sync_s = seconds_since(start);
  const double sync_cores = (cpu_seconds() - cpu0) / sync_s;  // cores kept busy
  if (!r) die("sync round failed: " + r.error().to_string());
  if (r->received_count != static_cast<std::int64_t>(n)) {
    die("sync round stored " + std::to_string(r->received_count) + " of " + std::to_string(n));
  }

  // A no-op round and a small delta.
  auto t0 = SteadyClock::now();
  auto noop = client.run_round(peer);
  const double noop_s = seconds_since(t0);
  if (!noop || noop->received_count != 0 || noop->sent_count != 0) die("no-op round moved events");
  append_all(*source, mint(author, community, 100, static_cast<Lamport>(n) / 2));
  t0 = SteadyClock::now();
  auto delta = client.run_round(peer);
  const double delta_s = seconds_since(t0);
  if (!delta || delta->received_count != 100) die("delta round did not move 100 events");

  const double sync_eps = static_cast<double>(n) / sync_s;
  const double baseline_eps = static_cast<double>(n) / baseline_s;
  std::printf(
      "{\"bench\":\"sync\",\"events\":%zu,\"pipeline\":%s,\"sync_eps\":%.0f,\"baseline_eps\":%.0f,"
      "\"sync_vs_baseline\":%.3f,\"rounds\":%lld,\"messages\":%lld,\"noop_ms\":%.1f,"
      "\"delta_ms\":%.1f,\"delta_messages\":%lld,\"sync_cores_busy\":%.2f}\n",
      n, pipeline ? "true" : "false", sync_eps, baseline_eps, sync_eps / baseline_eps, static_cast<long long>(r->rounds),
      static_cast<long long>(r->messages), noop_s * 1000.0, delta_s * 1000.0,
      static_cast<long long>(delta->messages), sync_cores);

  source.reset();
  target.reset();
  fs::remove_all(dir);
  return 0;
}
