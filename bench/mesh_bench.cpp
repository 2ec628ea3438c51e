// mesh_bench.cpp — mesh core figures (X01 transport, M03 bus, M02 discovery) against real
// `hearthnet run` processes, each with a baseline measured in the same run:
//   1. signed diag.echo@1.0 calls client → node over HTTPS at 1/16/64 concurrent callers
//      (N coroutines on one io_context) vs (a) the raw libsodium crypto ceiling of one call
//      (2 sign + 2 verify, 2 threads) and (b) an unsigned public route of an in-process
//      transport::Server driven by the same client loop;
//   2. a streamed diag.echo read over HTTPS from the node vs the same stream read from an
//      in-process bus: added µs per frame;
//   4. UDP discovery: spawn of the second node → its status lists the first;
//   5. VmRSS of an idle node after 5 s.
// Usage: hn_bench_mesh [seconds_per_point=3]   (HN_HEARTHNET_BIN overrides the binary)
// Prints one JSON line. Single-threaded driver apart from the crypto-ceiling threads.
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bus/bus.h"
#include "bus/diag_echo.h"
#include "core/json.h"
#include "identity/keys.h"
#include "identity/tls_cert.h"
#include "support/test_node.h"
#include "support/test_support.h"
#include "transport/client.h"
#include "transport/pinned_certs.h"
#include "transport/server.h"

namespace asio = boost::asio;
using Clk = std::chrono::steady_clock;
using namespace hn;

namespace {

double secs_since(Clk::time_point t0) {
  return std::chrono::duration<double>(Clk::now() - t0).count();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

Json status_of(const test::NodeProcess& n) {
  auto r = n.cli({"status", "--json"});
  if (r.exit_code != 0) return Json::object();
  auto j = parse_json(r.out);
  return j ? *j : Json::object();
}

std::filesystem::path find_keys_dir(const std::filesystem::path& home) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(home)) {
    if (e.path().filename() == identity::SIGNING_KEY_FILE) return e.path().parent_path();
  }
  return {};
}

struct Point {
  int clients = 0;
  long calls = 0;
  long errors = 0;
  double rps = 0, p50_ms = 0, p99_ms = 0;
  std::string first_error;
};

// Runs `clients` coroutines, each issuing `op` back to back for `seconds`.
template <typename Op>
Point drive(asio::io_context& io, int clients, double seconds, Op op) {
  Point p;
  p.clients = clients;
  std::vector<double> lat;
  const auto end = Clk::now() + std::chrono::duration_cast<Clk::duration>(
                                    std::chrono::duration<double>(seconds));
  const auto t0 = Clk::now();
  for (int i = 0; i < clients; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          while (Clk::now() < end) {
            const auto s = Clk::now();
            Status st = co_await op();
            if (st) {
              lat.push_back(std::chrono::duration<double, std::milli>(Clk::now() - s).count());
            } else {
              if (p.first_error.empty()) p.first_error = st.error().to_string();
              ++p.errors;
            }
          }
        },
        asio::detached);
  }
  io.restart();
  io.run();
  const double el = secs_since(t0);
  std::cerr << "point clients=" << clients << " calls=" << lat.size() << " errors=" << p.errors
            << " " << p.first_error << "\n";
  std::sort(lat.begin(), lat.end());
  p.calls = static_cast<long>(lat.size());
  p.rps = p.calls / el;
  if (!lat.empty()) {
    p.p50_ms = lat[lat.size() / 2];
    p.p99_ms = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
  }
  return p;
}

// Raw libsodium: one call's crypto (request sign + verify, response sign + verify) on 2 threads.
double crypto_ceiling(double seconds) {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  std::string msg(320, 'x');  // about the size of a request's signing string
  std::atomic<long> total{0};
  auto work = [&] {
    unsigned char sig[crypto_sign_BYTES];
    const auto* m = reinterpret_cast<const unsigned char*>(msg.data());
    const auto end = Clk::now() + std::chrono::duration_cast<Clk::duration>(
                                      std::chrono::duration<double>(seconds));
    long n = 0;
    while (Clk::now() < end) {
      for (int k = 0; k < 2; ++k) {
        crypto_sign_detached(sig, nullptr, m, msg.size(), sk);
        if (crypto_sign_verify_detached(sig, m, msg.size(), pk) != 0) std::abort();
      }
      ++n;
    }
    total += n;
  };
  const auto t0 = Clk::now();
  std::thread a(work), b(work);
  a.join();
  b.join();
  return total.load() / secs_since(t0);
}

std::string udp_discovery(int port) {
  return "mdns_enabled = false\nudp_enabled = true\nudp_multicast_group = "
         "\"239.255.42.99\"\nudp_port = " +
         std::to_string(port) + "\n";
}

Json point_json(const Point& p) {
  Json j{{"clients", p.clients}, {"calls", p.calls},   {"errors", p.errors},
         {"rps", static_cast<long>(p.rps)}, {"p50_ms", p.p50_ms}, {"p99_ms", p.p99_ms}};
  if (!p.first_error.empty()) j["first_error"] = p.first_error;
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  if (sodium_init() < 0) return 1;
  test::TempDir tmp;
  Json out{{"bench", "mesh"}, {"seconds_per_point", seconds}};

  // --- node A: founded community, no discovery ---
  test::NodeProcess a(tmp.path() / "a", "bench-a");
  std::string err;
  if (!a.start(&err)) {
    std::cerr << "node a: " << err << "\n";
    return 1;
  }
  // 5. idle RSS after 5 s.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  out["idle_rss_kib"] = a.rss_kib();
  std::cerr << "rss " << out["idle_rss_kib"] << "\n";

  const Json st = status_of(a);
  const std::string a_id = st["node"].value("node_id", "");
  const std::string community = st["community"].value("community_id", "");
  auto keys = identity::load_keys(find_keys_dir(a.home()));
  if (!keys || a_id.empty()) {
    std::cerr << "cannot load node a's keys/status: " << st.dump() << "\n";
    return 1;
  }

  asio::io_context io;
  auto pins = transport::PinnedCerts::open(":memory:");
  if (!pins) return 1;
  transport::ClientOptions co;
  co.community = CommunityId(community);
  co.max_idle_per_peer = 128;
  transport::Client client(io.get_executor(), *keys, **pins, co);
  transport::Endpoint ep{"127.0.0.1", static_cast<std::uint16_t>(a.port()), NodeId(a_id)};
  const Json echo_body{{"input", {{"text", "ping"}}}};
  // Passed as an lvalue: GCC 12 frees a defaulted `CallOptions options = {}` coroutine
  // argument of Client's coroutines with an invalid pointer (seen here, see RESULTS.md).
  const transport::CallOptions copt;

  // --- baselines ---
  const double ceiling = crypto_ceiling(seconds);
  out["crypto_ceiling_calls_s"] = static_cast<long>(ceiling);

  // (b) unsigned public route on an in-process transport::Server (own thread).
  asio::io_context sio;
  auto skeys = identity::KeyPair::generate();
  auto cert = identity::generate_self_signed_cert(skeys, "127.0.0.1");
  if (!cert) return 1;
  transport::ServerOptions so;
  so.cert_pem = cert->cert_pem;
  so.key_pem = cert->key_pem;
  so.verify_threads = 0;
  transport::Server bare(sio.get_executor(), skeys, so);
  bare.add_route(
      "GET", "/bench/echo",
      [](transport::Request r, std::shared_ptr<transport::SseWriter>) -> asio::awaitable<transport::Response> {
        co_return transport::Response::json(Json{{"output", {{"text", r.query["text"]}}}});
      },
      transport::RouteAuth::public_route);
  auto bport = bare.start();
  if (!bport) return 1;
  auto guard = asio::make_work_guard(sio);
  std::thread sthread([&] { sio.run(); });
  transport::Endpoint bep{"127.0.0.1", *bport, skeys.node_id()};

  // --- 1. calls ---
  Json calls = Json::array();
  for (int n : {1, 16, 64}) {
    // warm-up (connections, pins)
    drive(io, n, 0.3, [&]() -> asio::awaitable<Status> {
      auto r = co_await client.async_call(ep, "diag.echo", Version{1, 0}, echo_body, copt);
      if (!r) co_return r.error();
      co_return Status{};
    });
    Point signed_p = drive(io, n, seconds, [&]() -> asio::awaitable<Status> {
      auto r = co_await client.async_call(ep, "diag.echo", Version{1, 0}, echo_body, copt);
      if (!r) co_return r.error();
      co_return Status{};
    });
    drive(io, n, 0.3, [&]() -> asio::awaitable<Status> {
      auto r = co_await client.async_get_public(bep, "/bench/echo?text=ping", copt);
      if (!r) co_return r.error();
      co_return Status{};
    });
    Point bare_p = drive(io, n, seconds, [&]() -> asio::awaitable<Status> {
      auto r = co_await client.async_get_public(bep, "/bench/echo?text=ping", copt);
      if (!r) co_return r.error();
      if (r->status != 200) co_return make_error(ErrorCode::internal_error, "status");
      co_return Status{};
    });
    calls.push_back(Json{{"signed_node", point_json(signed_p)},
                         {"bare_server", point_json(bare_p)},
                         {"vs_crypto_ceiling", signed_p.rps / ceiling},
                         {"vs_bare", bare_p.rps > 0 ? signed_p.rps / bare_p.rps : 0.0}});
  }
  out["calls"] = calls;
  guard.reset();
  bare.stop();
  sio.stop();
  sthread.join();

  // --- 2. stream relay: 10 streams x 1000 frames (diag.echo caps n at 1000) ---
  {
    constexpr int STREAMS = 10, FRAMES = 1000;
    Json sbody{{"input", {{"text", "ping"}, {"n", FRAMES}}}};
    long remote_frames = 0;
    std::string serr;
    auto once = [&](int count) {
      asio::co_spawn(
          io,
          [&, count]() -> asio::awaitable<void> {
            for (int i = 0; i < count; ++i) {
              auto r = co_await client.async_stream(ep, "diag.echo", Version{1, 0}, sbody,
                                                    [&](const transport::Frame&) {
                                                      ++remote_frames;
                                                      return true;
                                                    },
                                                    copt);
              if (!r && serr.empty()) serr = r.error().to_string();
            }
          },
          asio::detached);
      io.restart();
      io.run();
    };
    std::cerr << "stream\n";
    once(2);  // warm-up
    std::cerr << "stream warm " << remote_frames << " " << serr << "\n";
    remote_frames = 0;
    auto t0 = Clk::now();
    once(STREAMS);
    const double remote_s = secs_since(t0);

    bus::CapabilityBus bus(NodeId(a_id), bus::BusConfig{}, SystemClock::instance());
    bus::DiagEchoService echo{NodeId(a_id)};
    if (!bus.register_service(echo)) return 1;
    long local_frames = 0;
    t0 = Clk::now();
    for (int i = 0; i < STREAMS; ++i) {
      auto r = bus.stream("diag.echo", Version{1, 0}, sbody, [&](const bus::StreamFrame&) -> Status {
        ++local_frames;
        return {};
      });
      if (!r && serr.empty()) serr = r.error().to_string();
    }
    const double local_s = secs_since(t0);
    Json s{{"frames_remote", remote_frames},
           {"frames_local", local_frames},
           {"remote_us_per_frame", remote_s * 1e6 / std::max(1L, remote_frames)},
           {"local_us_per_frame", local_s * 1e6 / std::max(1L, local_frames)}};
    s["added_us_per_frame"] = s["remote_us_per_frame"].get<double>() - s["local_us_per_frame"].get<double>();
    if (!serr.empty()) s["first_error"] = serr;
    out["stream"] = s;
  }
  client.close();
  a.stop();

  std::cerr << "discovery\n";
  // --- 4. UDP discovery ---
  {
    std::random_device rd;
    const int udp = 20000 + static_cast<int>(rd() % 30000);
    test::NodeProcess u1(tmp.path() / "u1", "udp-a", "", udp_discovery(udp), true);
    test::NodeProcess u2(tmp.path() / "u2", "udp-b", "", udp_discovery(udp), false);
    Json d;
    if (!u1.start(&err)) {
      d["error"] = err;
    } else {
      auto card = u2.cli({"id"});
      auto inv = u1.cli({"invite", "create", "--node-id", trim(card.out)});
      auto red = u2.cli({"invite", "redeem", trim(inv.out)});
      if (red.exit_code != 0) {
        d["error"] = "redeem: " + red.err;
      } else {
        const auto t0 = Clk::now();
        if (!u2.start(&err)) {
          d["error"] = err;
        } else {
          d["healthy_s"] = secs_since(t0);
          double seen = -1;
          int polls = 0;
          while (secs_since(t0) < 20) {
            ++polls;
            if (status_of(u2)["peers"].value("count", 0) >= 1) {
              seen = secs_since(t0);
              break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          }
          d["first_peer_s"] = seen;
          d["polls"] = polls;
          // the resolution of one poll (a `hearthnet status --json` process)
          const auto p0 = Clk::now();
          status_of(u2);
          d["status_poll_s"] = secs_since(p0);
        }
      }
    }
    out["discovery_udp"] = d;
  }
  std::cout << out.dump() << std::endl;
  return 0;
}
