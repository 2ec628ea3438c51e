// chat_bench.cpp — chat.send → delivered receipt back at the sender (issue #13 §3, target
// p99 ≤ 10 ms between two nodes), against two real `hearthnet run` processes on loopback:
// A founds, B joins; a client holding A's key (trust self, as the CLI) calls chat.send on A
// pinned to A (POST /node/v1/call, node "self"); A delivers to B directly and stores B's
// receipt before it answers, so the call's latency is the send-to-receipt time. Baselines in
// the same run, same client and connection reuse:
//   echo_local   diag.echo@1.0 answered by A (one signed hop),
//   echo_via_a   diag.echo@1.0 pinned to B through A (the two signed hops a direct delivery
//                rides on, without any log write).
// Sequential calls, one every 125 ms (8/s: below X01 §7's soft limit of 10 requests/s per
// peer and capability, which a burst to one peer would hit — its excess then goes by sync),
// after a warm-up. Usage: hn_bench_chat [N=300].
// Prints one JSON line.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "core/json.h"
#include "core/ulid.h"
#include "identity/keys.h"
#include "support/test_node.h"
#include "support/test_support.h"
#include "transport/client.h"
#include "transport/pinned_certs.h"

namespace asio = boost::asio;
using Clk = std::chrono::steady_clock;
using namespace hn;

namespace {

struct Figures {
  double p50_ms = 0, p99_ms = 0, mean_ms = 0;
  long errors = 0;
  std::string first_error;
  Json to_json() const {
    return Json{{"p50_ms", p50_ms}, {"p99_ms", p99_ms}, {"mean_ms", mean_ms}, {"errors", errors}};
  }
};

// Runs op n times one after the other on io; latencies of the successful ones.
constexpr auto PACE = std::chrono::milliseconds(125);

template <typename Op>
Figures run_sequential(asio::io_context& io, int n, Op op) {
  std::vector<double> lat;
  Figures f;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < n; ++i) {
          const auto s = Clk::now();
          Status st = co_await op(i);
          if (st) {
            lat.push_back(std::chrono::duration<double, std::milli>(Clk::now() - s).count());
          } else {
            if (f.first_error.empty()) f.first_error = st.error().to_string();
            ++f.errors;
          }
          std::this_thread::sleep_until(s + PACE);  // (one caller: nothing else to run)
        }
      },
      asio::detached);
  io.restart();
  io.run();
  std::sort(lat.begin(), lat.end());
  if (!lat.empty()) {
    f.p50_ms = lat[lat.size() / 2];
    f.p99_ms = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
    double sum = 0;
    for (double v : lat) sum += v;
    f.mean_ms = sum / static_cast<double>(lat.size());
  }
  if (!f.first_error.empty()) std::cerr << "first error: " << f.first_error << "\n";
  return f;
}

bool lists_remote(const test::NodeProcess& n, const std::string& capability, const std::string& provider) {
  auto r = n.cli({"caps", "--remote-only", "--json", "--name", capability});
  auto j = parse_json(r.out);
  if (r.exit_code != 0 || !j || !j->is_array()) return false;
  for (const auto& e : *j) {
    if (e.value("node_id", "") == provider) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::max(10, std::atoi(argv[1])) : 300;
  std::string err;
  // Each node a static peer of the other (a node learns peers from its configuration).
  const int port_a = test::unused_port(), port_b = test::unused_port();
  auto peer_of = [](int port) {
    return std::string(test::NO_DISCOVERY) + "bootstrap_peers = [\"127.0.0.1:" + std::to_string(port) + "\"]\n";
  };
  test::NodeProcess a({.name = "bench-chat-a", .port = port_a, .discovery = peer_of(port_b)});
  a.add_env("HEARTHNET_STATIC_PEER_INTERVAL_SECONDS=1");
  if (!a.start(&err)) {
    std::cerr << "node a: " << err << "\n";
    return 1;
  }
  test::NodeProcess b({.name = "bench-chat-b", .port = port_b, .discovery = peer_of(port_a),
                       .found_community = false});
  b.add_env("HEARTHNET_STATIC_PEER_INTERVAL_SECONDS=1");
  if (auto e = test::join_community(a, b); !e.empty() || !b.start(&err)) {
    std::cerr << "node b: " << e << err << "\n";
    return 1;
  }
  const std::string id_a = test::node_id_of(a), id_b = test::node_id_of(b);
  if (!test::eventually([&] { return lists_remote(a, "chat.deliver", id_b); })) {
    std::cerr << "a never saw b's chat.deliver\n";
    return 1;
  }
  const Json st = test::status_of(a);
  auto keys = identity::load_keys(a.home() / "keys");
  auto pins = transport::PinnedCerts::open(":memory:");
  if (!keys || !pins) return 1;

  asio::io_context io;
  transport::ClientOptions co;
  co.community = CommunityId(st["community"].value("community_id", ""));
  transport::Client client(io.get_executor(), *keys, **pins, co);
  const transport::Endpoint ep{"127.0.0.1", static_cast<std::uint16_t>(a.port()), NodeId(id_a)};
  // Passed as an lvalue (GCC 12 and defaulted coroutine arguments, see mesh_bench.cpp).
  const transport::CallOptions copt;

  auto node_call = [&](Json request) -> asio::awaitable<Status> {
    auto r = co_await client.async_request(ep, "POST", "/node/v1/call", std::move(request), copt);
    if (!r) co_return Status(r.error());
    if (r->status != 200) co_return make_error(ErrorCode::internal_error, r->body.dump());
    co_return Status{};
  };
  // (Requests built outside the coroutines: GCC 12 miscompiles braced JSON initialisers
  // inside a co_await expression.)
  const Json echo_self{{"capability", "diag.echo@1.0"}, {"node", "self"},
                       {"body", {{"input", {{"text", "ping"}}}}}};
  const Json echo_b{{"capability", "diag.echo@1.0"}, {"node", id_b},
                    {"body", {{"input", {{"text", "ping"}}}}}};
  auto echo_local = [&](int) -> asio::awaitable<Status> { return node_call(echo_self); };
  auto echo_via_a = [&](int) -> asio::awaitable<Status> { return node_call(echo_b); };
  long not_direct = 0;
  auto send_request = [&](int i) {
    return Json{{"capability", "chat.send@1.0"}, {"node", "self"},
                {"body", {{"input", {{"client_id", "bench-" + std::to_string(i) + "-" + new_ulid()},
                                     {"recipient", id_b},
                                     {"body", "bench message " + std::to_string(i)}}}}}};
  };
  auto send = [&](int i) -> asio::awaitable<Status> {
    const Json request = send_request(i);
    auto r = co_await client.async_request(ep, "POST", "/node/v1/call", request, copt);
    if (!r) co_return Status(r.error());
    if (r->status != 200) co_return make_error(ErrorCode::internal_error, r->body.dump());
    if (r->body["output"].value("delivered", "") != "direct") ++not_direct;
    co_return Status{};
  };

  (void)run_sequential(io, 20, send);  // warm-up: connections, caches, SQLite pages
  (void)run_sequential(io, 20, echo_via_a);
  const Figures local = run_sequential(io, n, echo_local);
  const Figures via = run_sequential(io, n, echo_via_a);
  not_direct = 0;
  const Figures chat = run_sequential(io, n, send);

  // Every one of them has its delivered receipt on A (the history says delivered_at).
  long delivered = 0, seen = 0;
  Json cursor{{"peer", id_b}, {"limit", 1000}};
  for (;;) {
    Json page;
    const Json history_request{{"capability", "chat.history@1.0"}, {"node", "self"},
                               {"body", {{"input", cursor}}}};
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      auto r = co_await client.async_request(ep, "POST", "/node/v1/call", history_request, copt);
      if (r && r->status == 200) page = r->body["output"];
    }, asio::detached);
    io.restart();
    io.run();
    if (!page.is_object()) break;
    for (const auto& m : page["messages"]) {
      ++seen;
      delivered += m["delivered_at"].is_null() ? 0 : 1;
    }
    if (!page.contains("next")) break;
    cursor["since_lamport"] = page["next"]["since_lamport"];
    cursor["since_event_id"] = page["next"]["since_event_id"];
  }

  Json out{{"bench", "chat"},
           {"calls", n},
           {"echo_local", local.to_json()},
           {"echo_via_a", via.to_json()},
           {"chat_send_to_receipt", chat.to_json()},
           {"not_direct", not_direct},
           {"history_messages", seen},
           {"history_delivered", delivered},
           {"p99_vs_echo_via_a", via.p99_ms > 0 ? chat.p99_ms / via.p99_ms : 0.0},
           {"p50_vs_echo_via_a", via.p50_ms > 0 ? chat.p50_ms / via.p50_ms : 0.0}};
  std::cout << out.dump() << std::endl;
  return 0;
}
