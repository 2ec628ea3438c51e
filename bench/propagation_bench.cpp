// propagation_bench.cpp — event propagation (issue #13 §1): an event appended on node A →
// visible on B and C, with every node's sync period an hour so only the push moves it.
// N real `hearthnet run` processes on loopback in a full static mesh; each sample appends
// one event on A (POST /node/v1/debug/emit, count 1, over A's signed local client) and
// polls GET /sync/v1/heads on B and C until their count has it. Baseline in the same run:
// one signed GET /sync/v1/heads round trip to B (the floor any propagation pays at least
// twice: the append request and the push). Samples are 250 ms apart (a person's pace, past
// the push's 150 ms batch gap). Prints one JSON line.
// Usage: hn_bench_propagation [nodes=3] [samples=50]   (HN_HEARTHNET_BIN overrides the binary)
//
// Thread-safety: single-threaded driver.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config/env.h"
#include "core/json.h"
#include "node/home.h"
#include "node/local_client.h"
#include "node/node.h"
#include "support/test_node.h"
#include "support/test_support.h"

using namespace hn;
using Clk = std::chrono::steady_clock;

namespace {

double ms_since(Clk::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clk::now() - t0).count();
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::unique_ptr<node::LocalClient> client_of(const test::NodeProcess& n) {
  config::Env env({{"HEARTHNET_HOME", n.home().string()}});
  auto home = node::open_home(std::nullopt, env);
  if (!home) return nullptr;
  auto c = node::LocalClient::connect(*home);
  return c ? std::move(*c) : nullptr;
}

std::int64_t count_of(node::LocalClient& c) {
  auto r = c.request("GET", "/sync/v1/heads");
  if (!r || r->status != 200) return -1;
  return r->body.value("count", std::int64_t{-1});
}

std::string mesh_config(const std::vector<int>& ports, std::size_t self) {
  std::string s = std::string(test::NO_DISCOVERY) + "bootstrap_peers = [";
  bool first = true;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    if (i == self) continue;
    s += (first ? "" : ", ") + std::string("\"127.0.0.1:") + std::to_string(ports[i]) + "\"";
    first = false;
  }
  return s + "]\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::stoul(argv[1]) : 3;
  const int samples = argc > 2 ? std::stoi(argv[2]) : 50;
  std::vector<int> ports;
  for (std::size_t i = 0; i < n; ++i) ports.push_back(test::unused_port());
  std::vector<std::unique_ptr<test::NodeProcess>> nodes;
  std::string error;
  auto make = [&](std::size_t i) {
    auto p = std::make_unique<test::NodeProcess>(test::NodeOptions{
        .name = "prop-" + std::to_string(i),
        .port = ports[i],
        .discovery = mesh_config(ports, i),
        .found_community = i == 0});
    p->add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=3600");
    p->add_env("HEARTHNET_STATIC_PEER_INTERVAL_SECONDS=1");
    return p;
  };
  nodes.push_back(make(0));
  if (!nodes[0]->start(&error)) {
    std::cerr << error << "\n";
    return 1;
  }
  for (std::size_t i = 1; i < n; ++i) {
    nodes.push_back(make(i));
    const std::string joined = test::join_community(*nodes[0], *nodes[i]);
    if (!joined.empty() || !nodes[i]->start(&error)) {
      std::cerr << joined << error << "\n";
      return 1;
    }
  }
  // Everyone sees everyone, and holds the same log.
  const auto wait_start = Clk::now();
  auto all_peered = [&] {
    for (const auto& p : nodes) {
      if (test::status_of(*p)["peers"].value("count", 0) != static_cast<int>(n - 1)) return false;
    }
    return true;
  };
  while (!all_peered()) {
    if (ms_since(wait_start) > 120000) {
      std::cerr << "mesh did not form\n";
      return 1;
    }
  }
  std::vector<std::unique_ptr<node::LocalClient>> clients;
  for (const auto& p : nodes) clients.push_back(client_of(*p));
  for (const auto& c : clients) {
    if (!c) {
      std::cerr << "no local client\n";
      return 1;
    }
  }
  auto counts_equal = [&] {
    const auto want = count_of(*clients[0]);
    for (const auto& c : clients) {
      if (count_of(*c) != want) return false;
    }
    return true;
  };
  while (!counts_equal()) {
  }

  // Baseline: a signed heads round trip to B.
  std::vector<double> rtt;
  for (int i = 0; i < samples; ++i) {
    const auto t0 = Clk::now();
    count_of(*clients[1]);
    rtt.push_back(ms_since(t0));
  }
  // Samples: append on A, then B and C (the first two peers) see it.
  std::vector<double> seen;  // per receiving node
  const std::size_t watch = std::min<std::size_t>(2, n - 1);
  int timeouts = 0;
  for (int s = 0; s < samples; ++s) {
    // Events a writer makes at human pace: past the outbox's batch gap (PUSH_MIN_GAP_MS),
    // so each sample measures an idle push, not the pacing of a burst.
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const auto want = count_of(*clients[0]) + 1;
    const auto t0 = Clk::now();
    auto r = clients[0]->request("POST", node::NODE_DEBUG_EMIT_PATH, Json{{"count", 1}});
    if (!r || r->status != 200) {
      std::cerr << "emit failed\n";
      return 1;
    }
    std::vector<bool> done(watch, false);
    std::size_t left = watch;
    while (left > 0) {
      if (ms_since(t0) > 30000) {
        ++timeouts;
        break;
      }
      for (std::size_t k = 0; k < watch; ++k) {
        if (done[k]) continue;
        if (count_of(*clients[k + 1]) >= want) {
          done[k] = true;
          --left;
          seen.push_back(ms_since(t0));
        }
      }
    }
  }
  Json out{{"bench", "event_propagation"},
           {"nodes", n},
           {"samples", samples},
           {"timeouts", timeouts},
           {"baseline_signed_rtt_ms_p50", quantile(rtt, 0.5)},
           {"visible_ms_p50", quantile(seen, 0.5)},
           {"visible_ms_p99", quantile(seen, 0.99)},
           {"visible_ms_max", quantile(seen, 1.0)},
           {"p50_over_rtt", quantile(seen, 0.5) / std::max(1e-9, quantile(rtt, 0.5))},
           {"push", test::status_of(*nodes[0])["sync"]["push"]}};
  std::cout << out.dump() << std::endl;
  return 0;
}
