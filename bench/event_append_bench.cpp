// event_append_bench.cpp — X02 event log append rates against the cost of the crypto they
// cannot avoid, measured in the same run over the same canonical bytes:
//   append_local             — tick + ULID + canonical JSON + Ed25519 sign + insert + commit
//   append_received          — verify + checks + observe + insert + commit, one tx per event
//   append_received_batch    — the same in transactions of `batch` events (sync's path)
//   raw_sign / raw_verify    — libsodium crypto_sign_detached / crypto_sign_verify_detached
// Prints one JSON line:
//   {"bench":"event_append","events":N,"local_eps":…,"received_eps":…,"batch_eps":…,
//    "raw_sign_ops":…,"raw_verify_ops":…,"local_vs_sign":…,"received_vs_verify":…,
//    "batch_vs_verify":…}
// A ratio of 1.0 means the log adds nothing on top of the signature operation.
//
// Usage: hn_bench_event_append [events (default 100000)] [batch (default 1000)]
// Databases live in a fresh directory under $TMPDIR (or /tmp), removed afterwards;
// synchronous=NORMAL (the default, see event_log.h).
#include <sodium.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/encoding.h"
#include "events/event_log.h"

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
using namespace hn;
using namespace hn::events;

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
  std::fprintf(stderr, "event_append_bench: %s\n", what.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  const std::size_t batch = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000;
  if (n == 0 || batch == 0) die("usage: hn_bench_event_append [events] [batch]");
  if (sodium_init() < 0) die("sodium_init failed");

  const char* tmp = std::getenv("TMPDIR");
  fs::path dir = fs::path(tmp != nullptr ? tmp : "/tmp") /
                 ("hn_event_bench_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);

  auto node = key(1);
  auto peer = key(2);
  const CommunityId community(node.node_id().str());

  // Events a peer "sent": minted and signed outside the timed sections.
  std::vector<Event> received;
  received.reserve(n);
  {
    UlidGenerator ulids;
    for (std::size_t i = 0; i < n; ++i) {
      Event e;
      e.event_id = EventId(ulids.next());
      e.lamport = static_cast<Lamport>(i + 1);
      e.wall_clock = "2026-05-26T08:14:22Z";
      e.community_id = community;
      e.author = peer.node_id();
      e.event_type = EventType::market_post_created;
      e.data = payload(i);
      if (!sign_event(e, peer)) die("sign_event failed");
      received.push_back(std::move(e));
    }
  }

  // -- append_local ---------------------------------------------------------------------
  double local_s = 0;
  {
    auto log = EventLog::open(dir / "local.db", community, node);
    if (!log) die(log.error().to_string());
    auto start = SteadyClock::now();
    for (std::size_t i = 0; i < n; ++i) {
      if (!(*log)->append_local(EventType::market_post_created, payload(i))) die("append_local failed");
    }
    local_s = seconds_since(start);
  }
  // -- append_received, one transaction per event ----------------------------------------
  double received_s = 0;
  {
    auto log = EventLog::open(dir / "received.db", community, node);
    if (!log) die(log.error().to_string());
    auto start = SteadyClock::now();
    for (const auto& e : received) {
      auto r = (*log)->append_received(e);
      if (!r || *r != AppendOutcome::appended) die("append_received failed");
    }
    received_s = seconds_since(start);
  }
  // -- append_received_batch -------------------------------------------------------------
  double batch_s = 0;
  {
    auto log = EventLog::open(dir / "batch.db", community, node);
    if (!log) die(log.error().to_string());
    std::vector<std::vector<Event>> chunks;
    for (std::size_t i = 0; i < n; i += batch) {
      chunks.emplace_back(received.begin() + static_cast<std::ptrdiff_t>(i),
                          received.begin() + static_cast<std::ptrdiff_t>(std::min(n, i + batch)));
    }
    auto start = SteadyClock::now();
    for (const auto& c : chunks) {
      auto r = (*log)->append_received_batch(c);
      if (!r || r->accepted != c.size()) die("append_received_batch failed");
    }
    batch_s = seconds_since(start);
  }

  // -- raw libsodium over the same canonical bytes ------------------------------------------
  std::vector<std::string> messages;
  messages.reserve(n);
  for (const auto& e : received) messages.push_back(*signing_bytes(e));
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk, sk, peer.seed().data());
  std::vector<std::array<unsigned char, crypto_sign_BYTES>> sigs(n);
  auto sign_start = SteadyClock::now();
  for (std::size_t i = 0; i < n; ++i) {
    const auto& m = messages[i];
    crypto_sign_detached(sigs[i].data(), nullptr, reinterpret_cast<const unsigned char*>(m.data()),
                         m.size(), sk);
  }
  const double sign_s = seconds_since(sign_start);
  std::size_t bad = 0;
  auto verify_start = SteadyClock::now();
  for (std::size_t i = 0; i < n; ++i) {
    const auto& m = messages[i];
    bad += crypto_sign_verify_detached(sigs[i].data(), reinterpret_cast<const unsigned char*>(m.data()),
                                       m.size(), pk) != 0;
  }
  const double verify_s = seconds_since(verify_start);
  sodium_memzero(sk, sizeof sk);
  if (bad != 0) die("raw verify failed");

  fs::remove_all(dir);

  const double nd = static_cast<double>(n);
  const double local_eps = nd / local_s, received_eps = nd / received_s, batch_eps = nd / batch_s;
  const double sign_ops = nd / sign_s, verify_ops = nd / verify_s;
  std::printf(
      "{\"bench\":\"event_append\",\"events\":%zu,\"batch\":%zu,\"local_eps\":%.0f,"
      "\"received_eps\":%.0f,\"batch_eps\":%.0f,\"raw_sign_ops\":%.0f,\"raw_verify_ops\":%.0f,"
      "\"local_vs_sign\":%.3f,\"received_vs_verify\":%.3f,\"batch_vs_verify\":%.3f}\n",
      n, batch, local_eps, received_eps, batch_eps, sign_ops, verify_ops, local_eps / sign_ops,
      received_eps / verify_ops, batch_eps / verify_ops);
  return 0;
}
