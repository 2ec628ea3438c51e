// mesh_bench.cpp — mesh core figures (X01 transport, M03 bus, M02 discovery) against real
// `hearthnet run` processes, each with a baseline measured in the same run:
//   1. signed diag.echo@1.0 calls client → node over HTTPS at 1/16/64 concurrent callers
//      (N coroutines on one io_context) vs (a) the raw libsodium crypto ceiling of one call
//      (2 sign + 2 verify, 2 threads), (b) a bare Beast HTTPS server answering a fixed JSON
//      (bare_https_server.h) and (c) an unsigned public route of an in-process
//      transport::Server, all driven by the same client loop;
//   2. a 100k-frame diag.echo stream: read from an in-process bus, read over HTTPS from a
//      node whose own provider serves it, and relayed — the node forwards it from a second
//      node's provider (`call --node`): the relay's added µs per frame;
//   3. UDP discovery: spawn of the second node → its status lists the first;
//   4. VmRSS of an idle node after 5 s.
// Usage: hn_bench_mesh [seconds_per_point=3] [signed|stream|relay]   (HN_HEARTHNET_BIN
// overrides the binary). `signed`: only the 64-client signed point; `stream`: only section
// 2 (three direct and three relayed reads, alternating; medians); `relay`: only its relayed
// reads — each to run under perf; `ab [ROUNDS [CLIENTS=64]]`: the signed point alternating
// between node A (HN_HEARTHNET_BIN) and node B (HN_HEARTHNET_BIN_B), medians of each.
// Prints one JSON line. Single-threaded driver apart from the crypto-ceiling threads.
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bare_https_server.h"
#include "bus/bus.h"
#include "services/diag/diag_echo.h"
#include "core/json.h"
#include "identity/keys.h"
#include "identity/tls_cert.h"
#include "node/node.h"
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

using test::status_of;

// `status[section][key]`, or `fallback` where the status lacks it (a node still starting).
template <typename T>
T status_field(const Json& status, const char* section, const char* key, T fallback) {
  auto it = status.find(section);
  if (it == status.end() || !it->is_object()) return fallback;
  return it->value(key, fallback);
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

// CPU seconds (user + system) a process used so far, from /proc/<pid>/stat.
double process_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  long utime = 0, stime = 0;
  for (int i = 3; fields >> f; ++i) {
    if (i == 14) utime = std::stol(f);
    if (i == 15) {
      stime = std::stol(f);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double own_cpu_seconds() { return process_cpu_seconds(getpid()); }

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
  // `hn_bench_mesh S signed`: only the signed calls at 64 clients, for S seconds (to run
  // under perf; prints that point alone).
  const bool signed_only = argc > 2 && std::string_view(argv[2]) == "signed";
  // `hn_bench_mesh S ab [ROUNDS [CLIENTS]]`: two binaries' signed points, alternating (see below).
  const bool ab_mode = argc > 2 && std::string_view(argv[2]) == "ab";
  // `hn_bench_mesh S stream`: only the stream section (direct and relayed).
  // `hn_bench_mesh S relay`: only the relayed reads of that section (for perf on node A).
  const bool relay_only = argc > 2 && std::string_view(argv[2]) == "relay";
  const bool stream_only = relay_only || (argc > 2 && std::string_view(argv[2]) == "stream");
  if (sodium_init() < 0) return 1;
  Json out{{"bench", "mesh"}, {"seconds_per_point", seconds}};

  // --- node A: founded community, no discovery ---
  // A and (later) B find each other by UDP multicast on a random port of their own.
  std::random_device rd;
  const int mesh_udp = 20000 + static_cast<int>(rd() % 30000);
  test::NodeProcess a({.name = "bench-a", .discovery = udp_discovery(mesh_udp)});
  std::string err;
  if (!a.start(&err)) {
    std::cerr << "node a: " << err << "\n";
    return 1;
  }
  // 4. idle RSS after 5 s (not for the single-section modes).
  if (!signed_only && !stream_only && !ab_mode) {
    std::this_thread::sleep_for(std::chrono::seconds(5));
    out["idle_rss_kib"] = a.rss_kib();
    std::cerr << "rss " << out["idle_rss_kib"] << "\n";
  }

  const Json st = status_of(a);
  const std::string a_id = status_field(st, "node", "node_id", std::string());
  const std::string community = status_field(st, "community", "community_id", std::string());
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

  if (ab_mode) {
    // Node A runs HN_HEARTHNET_BIN, node B (its own community) HN_HEARTHNET_BIN_B; 64-client
    // signed points alternate between them, each followed by a crypto ceiling, so a slow
    // phase of the machine falls on both. Prints each binary's medians.
    const char* other = std::getenv("HN_HEARTHNET_BIN_B");
    if (other == nullptr) {
      std::cerr << "ab: set HN_HEARTHNET_BIN_B\n";
      return 2;
    }
    const std::string first = test::hearthnet_binary().string();
    ::setenv("HN_HEARTHNET_BIN", other, 1);
    test::NodeProcess bnode({.name = "bench-ab"});
    const bool b_up = bnode.start(&err);
    ::setenv("HN_HEARTHNET_BIN", first.c_str(), 1);
    if (!b_up) {
      std::cerr << "node b: " << err << "\n";
      return 1;
    }
    const Json bst = status_of(bnode);
    auto bkeys = identity::load_keys(find_keys_dir(bnode.home()));
    if (!bkeys) return 1;
    transport::ClientOptions bco = co;
    bco.community = CommunityId(status_field(bst, "community", "community_id", std::string()));
    transport::Client bclient(io.get_executor(), *bkeys, **pins, bco);
    transport::Endpoint bep{"127.0.0.1", static_cast<std::uint16_t>(bnode.port()),
                            NodeId(status_field(bst, "node", "node_id", std::string()))};
    struct Side {
      const char* name;
      transport::Client* client;
      transport::Endpoint ep;
      pid_t pid;
      std::vector<double> rps, node_us, client_us, p99, vs_ceiling;
    };
    Side sides[2] = {{"a", &client, ep, a.pid(), {}, {}, {}, {}, {}},
                     {"b", &bclient, bep, bnode.pid(), {}, {}, {}, {}, {}}};
    const int rounds = argc > 3 ? std::atoi(argv[3]) : 6;
    const int ab_clients = argc > 4 ? std::atoi(argv[4]) : 64;
    for (int round = 0; round < rounds * 2; ++round) {
      Side& side = sides[round % 2];
      auto op = [&]() -> asio::awaitable<Status> {
        auto call = side.client->async_call(side.ep, "diag.echo", Version{1, 0}, echo_body, copt);
        auto r = co_await std::move(call);
        co_return r ? Status{} : Status(r.error());
      };
      drive(io, ab_clients, 0.3, op);
      const double node0 = process_cpu_seconds(side.pid), client0 = own_cpu_seconds();
      Point p = drive(io, ab_clients, seconds, op);
      if (p.calls == 0) continue;
      side.rps.push_back(p.rps);
      side.p99.push_back(p.p99_ms);
      side.node_us.push_back((process_cpu_seconds(side.pid) - node0) * 1e6 / p.calls);
      side.client_us.push_back((own_cpu_seconds() - client0) * 1e6 / p.calls);
      side.vs_ceiling.push_back(p.rps / crypto_ceiling(1.0));
    }
    auto median = [](std::vector<double> v) {
      if (v.empty()) return 0.0;
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    Json j;
    for (const Side& side : sides) {
      j[side.name] = Json{{"rps", median(side.rps)},
                          {"node_cpu_us_per_call", median(side.node_us)},
                          {"client_cpu_us_per_call", median(side.client_us)},
                          {"p99_ms", median(side.p99)},
                          {"vs_crypto_ceiling", median(side.vs_ceiling)},
                          {"rps_runs", side.rps}};
    }
    std::cout << j.dump() << "\n";
    return 0;
  }

  if (signed_only) {
    drive(io, 64, 0.3, [&]() -> asio::awaitable<Status> {
      auto op = client.async_call(ep, "diag.echo", Version{1, 0}, echo_body, copt);
      auto r = co_await std::move(op);
      co_return r ? Status{} : Status(r.error());
    });
    const double node_cpu0 = process_cpu_seconds(a.pid()), client_cpu0 = own_cpu_seconds();
    Point p = drive(io, 64, seconds, [&]() -> asio::awaitable<Status> {
      auto op = client.async_call(ep, "diag.echo", Version{1, 0}, echo_body, copt);
      auto r = co_await std::move(op);
      co_return r ? Status{} : Status(r.error());
    });
    Json j = point_json(p);
    if (p.calls > 0) {
      j["node_cpu_us_per_call"] = (process_cpu_seconds(a.pid()) - node_cpu0) * 1e6 / p.calls;
      j["client_cpu_us_per_call"] = (own_cpu_seconds() - client_cpu0) * 1e6 / p.calls;
    }
    std::cout << j.dump() << "\n";
    return 0;
  }

  if (!stream_only) {
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
    // (b) the bare Beast server (same certificate; the client pins it under its own id).
    auto bkeys = identity::KeyPair::generate();
    auto bcert = identity::generate_self_signed_cert(bkeys, "127.0.0.1");
    if (!bcert) return 1;
    bench::BareHttpsServer beast_server(bcert->cert_pem, bcert->key_pem);
    const std::uint16_t beast_port = beast_server.start(R"({"output":{"text":"ping"}})");
    transport::Endpoint beast_ep{"127.0.0.1", beast_port, bkeys.node_id()};

    // --- 1. calls ---
    Json calls = Json::array();
    for (int n : {1, 16, 64}) {
      // warm-up (connections, pins)
      drive(io, n, 0.3, [&]() -> asio::awaitable<Status> {
        auto op = client.async_call(ep, "diag.echo", Version{1, 0}, echo_body, copt);
        auto r = co_await std::move(op);
        if (!r) co_return r.error();
        co_return Status{};
      });
      const double node_cpu0 = process_cpu_seconds(a.pid()), client_cpu0 = own_cpu_seconds();
      Point signed_p = drive(io, n, seconds, [&]() -> asio::awaitable<Status> {
        auto op = client.async_call(ep, "diag.echo", Version{1, 0}, echo_body, copt);
        auto r = co_await std::move(op);
        if (!r) co_return r.error();
        co_return Status{};
      });
      // Where the CPU went: µs of CPU per call in the node and in this client process.
      const double node_cpu = process_cpu_seconds(a.pid()) - node_cpu0;
      const double client_cpu = own_cpu_seconds() - client_cpu0;
      auto get = [&](const transport::Endpoint& target) {
        return [&, target]() -> asio::awaitable<Status> {
          auto op = client.async_get_public(target, "/bench/echo?text=ping", copt);
          auto r = co_await std::move(op);
          if (!r) co_return r.error();
          if (r->status != 200) co_return make_error(ErrorCode::internal_error, "status");
          co_return Status{};
        };
      };
      drive(io, n, 0.3, get(beast_ep));
      Point beast_p = drive(io, n, seconds, get(beast_ep));
      drive(io, n, 0.3, get(bep));
      Point public_p = drive(io, n, seconds, get(bep));
      Json sp = point_json(signed_p);
      if (signed_p.calls > 0) {
        sp["node_cpu_us_per_call"] = node_cpu * 1e6 / static_cast<double>(signed_p.calls);
        sp["client_cpu_us_per_call"] = client_cpu * 1e6 / static_cast<double>(signed_p.calls);
      }
      calls.push_back(Json{{"signed_node", sp},
                           {"bare_beast", point_json(beast_p)},
                           {"transport_public_route", point_json(public_p)},
                           {"vs_crypto_ceiling", signed_p.rps / ceiling},
                           {"vs_bare_beast", beast_p.rps > 0 ? signed_p.rps / beast_p.rps : 0.0},
                           {"public_route_vs_bare_beast", beast_p.rps > 0 ? public_p.rps / beast_p.rps : 0.0}});
    }
    out["calls"] = calls;
    guard.reset();
    bare.stop();
    sio.stop();
    sthread.join();
    beast_server.stop();
  }

  // --- 2. stream relay: one 100k-frame stream, three ways ---
  {
    constexpr int FRAMES = 100000;
    Json sbody{{"input", {{"text", "ping"}, {"n", FRAMES}}}};
    Json out_s;
    // A second node B joins A's community and A learns B's capabilities (static peer).
    test::NodeProcess b({.discovery = udp_discovery(mesh_udp), .found_community = false});
    const std::string join_error = test::join_community(a, b);
    std::string b_id;
    if (!join_error.empty() || !b.start(&err)) {
      out_s["error"] = "node b: " + join_error + err;
    } else {
      b_id = status_field(status_of(b), "node", "node_id", std::string());
      if (b_id.empty()) out_s["error"] = "node b answers no status";
      for (int i = 0; i < 300 && status_field(status_of(a), "peers", "count", 0) < 1; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    std::string serr;
    // Reads one stream over HTTPS; `relay` pins it to B's provider through A.
    auto read_remote = [&](bool relay, int n) {
      long frames = 0;
      Json body{{"input", {{"text", "ping"}, {"n", n}}}};
      asio::co_spawn(
          io,
          [&, relay, body]() -> asio::awaitable<void> {
            auto count = [&](const transport::Frame&) {
              ++frames;
              return true;
            };
            Result<transport::Frame> r = make_error(ErrorCode::internal_error, "not run");
            if (relay) {
              Json req{{"capability", "diag.echo@1.0"}, {"node", b_id}, {"body", body}};
              auto op = client.async_stream_request(ep, node::NODE_CALL_PATH, req, count, copt);
              r = co_await std::move(op);
            } else {
              auto op = client.async_stream(ep, "diag.echo", Version{1, 0}, body, count, copt);
              r = co_await std::move(op);
            }
            if (!r && serr.empty()) serr = r.error().to_string();
          },
          asio::detached);
      io.restart();
      io.run();
      return frames;
    };
    // Direct and relayed reads alternate, three of each, so a slow phase of the machine
    // falls on both; the figures are the medians (every run is listed too).
    read_remote(false, 1000);  // warm-up
    if (!b_id.empty()) read_remote(true, 1000);
    std::vector<double> direct_runs, relay_runs;
    long direct_frames = 0, relay_frames = 0;
    // CPU µs per frame of the reader (this process), node A and node B, summed over runs.
    struct Cpu {
      double reader = 0, a = 0, b = 0;
      long frames = 0;
    } direct_cpu, relay_cpu;
    auto timed_read = [&](bool relay, Cpu& cpu, long& frames) {
      const double r0 = own_cpu_seconds(), a0 = process_cpu_seconds(a.pid()),
                   b0 = process_cpu_seconds(b.pid());
      auto t0 = Clk::now();
      frames = read_remote(relay, FRAMES);
      const double us = secs_since(t0) * 1e6 / static_cast<double>(std::max(frames, 1L));
      cpu.reader += own_cpu_seconds() - r0;
      cpu.a += process_cpu_seconds(a.pid()) - a0;
      cpu.b += process_cpu_seconds(b.pid()) - b0;
      cpu.frames += frames;
      return us;
    };
    for (int round = 0; round < 3; ++round) {
      if (!relay_only) direct_runs.push_back(timed_read(false, direct_cpu, direct_frames));
      if (!b_id.empty()) relay_runs.push_back(timed_read(true, relay_cpu, relay_frames));
    }
    auto cpu_json = [](const Cpu& c) {
      const double n = static_cast<double>(std::max(c.frames, 1L));
      return Json{{"reader", c.reader * 1e6 / n}, {"node_a", c.a * 1e6 / n}, {"node_b", c.b * 1e6 / n}};
    };
    out_s["direct_cpu_us_per_frame"] = cpu_json(direct_cpu);
    out_s["relayed_cpu_us_per_frame"] = cpu_json(relay_cpu);
    auto median = [](std::vector<double> v) {
      if (v.empty()) return 0.0;
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    out_s["direct_runs_us_per_frame"] = direct_runs;
    out_s["relayed_runs_us_per_frame"] = relay_runs;

    bus::CapabilityBus bus(NodeId(a_id), bus::BusConfig{}, SystemClock::instance());
    services::diag::DiagEchoService echo{NodeId(a_id)};
    if (!bus.register_service(echo)) return 1;
    long local_frames = 0;
    auto t0 = Clk::now();
    auto r = bus.stream("diag.echo", Version{1, 0}, sbody, [&](const bus::StreamFrame&) -> Status {
      ++local_frames;
      return {};
    });
    if (!r && serr.empty()) serr = r.error().to_string();
    const double local_s = secs_since(t0);
    auto per_frame = [](double s, long n) { return n > 0 ? s * 1e6 / n : 0.0; };
    const double direct_us = median(direct_runs), relayed_us = median(relay_runs);
    out_s["frames"] = FRAMES;
    out_s["frames_in_process"] = local_frames;
    out_s["frames_direct"] = direct_frames;
    out_s["frames_relayed"] = relay_frames;
    out_s["in_process_us_per_frame"] = per_frame(local_s, local_frames);
    out_s["direct_us_per_frame"] = direct_us;
    out_s["relayed_us_per_frame"] = relayed_us;
    out_s["direct_added_us_per_frame"] = direct_us - per_frame(local_s, local_frames);
    out_s["relay_added_us_per_frame"] = relayed_us - direct_us;
    if (!serr.empty()) out_s["first_error"] = serr;
    out["stream"] = out_s;
    std::cerr << "stream " << out_s.dump() << "\n";
    b.stop();
  }
  client.close();
  a.stop();

  std::cerr << "discovery\n";
  // --- 3. UDP discovery ---
  {
    const int udp = mesh_udp + 1;
    test::NodeProcess u1({.name = "udp-a", .discovery = udp_discovery(udp)});
    test::NodeProcess u2({.discovery = udp_discovery(udp), .found_community = false});
    Json d;
    if (!u1.start(&err)) {
      d["error"] = err;
    } else {
      if (const std::string join_error = test::join_community(u1, u2); !join_error.empty()) {
        d["error"] = join_error;
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
            if (status_field(status_of(u2), "peers", "count", 0) >= 1) {
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
