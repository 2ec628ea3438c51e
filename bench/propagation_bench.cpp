// propagation_bench.cpp — event propagation (issue #13 §1): an event appended on node A →
// visible on B and C, with every node's sync period an hour so only the push moves it.
// N real `hearthnet run` processes, either
//   loopback: on 127.0.0.1 in a full static mesh (every node lists every other), or
//   netns:    one network namespace per host on a bridge (scripts/netns-lan up PREFIX N:
//             veth pairs, 10.213.0.x/24), each node on 0.0.0.0:7080 of its own stack,
//             finding the others by the default UDP multicast beacons only (mDNS off), as
//             on a home LAN. Needs root; the namespaces and nodes go on every exit path
//             but a kill (then: scripts/netns-lan down <prefix printed at start>).
// Each sample appends one event on A (POST /node/v1/debug/emit, count 1, over A's signed
// local client) and polls GET /sync/v1/heads on B and C until their count has it. Each
// node's local client lives on a thread of its own that entered the node's namespace
// (setns; the node's loopback is its namespace's), in both modes alike. Baseline in the
// same run: one signed GET /sync/v1/heads round trip to B through that thread (the floor
// any propagation pays at least twice: the append request and the push). Samples are
// 250 ms apart (a person's pace, past the push's 150 ms batch gap). Prints one JSON line
// with the load average at the end.
// Usage: hn_bench_propagation [nodes=3] [samples=50] [loopback|netns]
//        (HN_HEARTHNET_BIN overrides the binary)
//
// Thread-safety: the driver is single-threaded; each NsThread runs the calls handed to it.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
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

constexpr int NETNS_PORT = 7080;

double ms_since(Clk::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clk::now() - t0).count();
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

// A thread that entered network namespace `ns` ("" = stays in ours) and runs the calls
// run() hands it, one at a time.
class NsThread {
 public:
  explicit NsThread(std::string ns) : m_thread([this, ns] { loop(ns); }) {}
  ~NsThread() {
    {
      std::lock_guard lock(m_mutex);
      m_done = true;
    }
    m_cv.notify_all();
    m_thread.join();
  }
  template <typename F>
  auto run(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    {
      std::lock_guard lock(m_mutex);
      m_tasks.push_back([&task] { task(); });
    }
    m_cv.notify_all();
    return result.get();
  }
  bool entered() {
    return run([this] { return m_entered; });
  }

 private:
  void loop(const std::string& ns) {
    m_entered = ns.empty();
    if (!ns.empty()) {
      const int fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
      m_entered = fd >= 0 && ::setns(fd, CLONE_NEWNET) == 0;
      if (fd >= 0) ::close(fd);
    }
    while (true) {
      std::function<void()> task;
      {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return m_done || !m_tasks.empty(); });
        if (m_tasks.empty()) return;
        task = std::move(m_tasks.front());
        m_tasks.pop_front();
      }
      task();
    }
  }
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<std::function<void()>> m_tasks;
  bool m_done = false;
  bool m_entered = false;
  std::thread m_thread;  // last: starts once the rest exists
};

// scripts/netns-lan up PREFIX N, and down when it goes.
class NetnsLan {
 public:
  NetnsLan(std::size_t hosts, std::string* error) {
    std::random_device rd;
    m_prefix = "hnb-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 10000);
    auto up = test::run_process({script(), "up", m_prefix, std::to_string(hosts)}, {}, "", 60);
    m_up = up.exit_code == 0;
    if (!m_up) *error = "netns-lan up failed: " + up.err;
    std::cerr << "netns prefix " << m_prefix << "\n";
  }
  ~NetnsLan() {
    if (m_up) test::run_process({script(), "down", m_prefix}, {}, "", 60);
  }
  bool up() const { return m_up; }
  std::string ns(std::size_t i) const { return m_prefix + "-" + std::string(1, char('a' + i)); }
  static std::string address(std::size_t i) { return "10.213.0." + std::to_string(i + 1); }

 private:
  static std::string script() { return (test::source_dir() / "scripts" / "netns-lan").string(); }
  std::string m_prefix;
  bool m_up = false;
};

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

template <typename Pred>
bool wait_for(Pred pred, int seconds) {
  const auto t0 = Clk::now();
  while (!pred()) {
    if (ms_since(t0) > seconds * 1000.0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return true;
}

int fail(const std::string& why) {
  std::cerr << "propagation bench: " << why << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::stoul(argv[1]) : 3;
  const int samples = argc > 2 ? std::stoi(argv[2]) : 50;
  const std::string mode = argc > 3 ? argv[3] : "loopback";
  if (n < 2 || n > 26 || samples < 1 || (mode != "loopback" && mode != "netns")) {
    return fail("usage: hn_bench_propagation [nodes 2..26] [samples] [loopback|netns]");
  }
  const bool netns = mode == "netns";
  std::string error;
  std::unique_ptr<NetnsLan> lan;  // declared before the nodes: they go first
  if (netns) {
    if (::geteuid() != 0) return fail("netns mode needs root");
    lan = std::make_unique<NetnsLan>(n, &error);
    if (!lan->up()) return fail(error);
  }
  std::vector<int> ports;
  for (std::size_t i = 0; i < n; ++i) ports.push_back(netns ? NETNS_PORT : test::unused_port());
  std::vector<std::unique_ptr<test::NodeProcess>> nodes;
  auto make = [&](std::size_t i) {
    test::NodeOptions o{.name = "prop-" + std::to_string(i),
                        .port = ports[i],
                        .discovery = mesh_config(ports, i),
                        .found_community = i == 0};
    if (netns) {
      // Zero discovery settings but mDNS off: the default UDP multicast finds the hosts.
      o.host = "0.0.0.0";
      o.discovery = "mdns_enabled = false\n";
      o.found_community = false;
      o.launcher = {test::find_program("ip"), "netns", "exec", lan->ns(i)};
    }
    auto p = std::make_unique<test::NodeProcess>(o);
    p->add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=3600");
    p->add_env("HEARTHNET_STATIC_PEER_INTERVAL_SECONDS=1");
    return p;
  };
  nodes.push_back(make(0));
  if (netns) {
    auto init = nodes[0]->cli({"init", "--non-interactive", "--name", "prop-0"});
    if (init.exit_code != 0) return fail("init: " + init.err);
  }
  if (!nodes[0]->start(&error)) return fail(error);
  for (std::size_t i = 1; i < n; ++i) {
    nodes.push_back(make(i));
    const std::string joined = test::join_community(*nodes[0], *nodes[i]);
    if (!joined.empty()) return fail(joined);
    if (!nodes[i]->start(&error)) return fail(error);
  }
  // Everyone sees everyone.
  const auto wait_start = Clk::now();
  const bool peered = wait_for(
      [&] {
        for (const auto& p : nodes) {
          if (test::status_of(*p)["peers"].value("count", 0) != static_cast<int>(n - 1))
            return false;
        }
        return true;
      },
      180);
  if (!peered) return fail("mesh did not form");
  const double mesh_s = ms_since(wait_start) / 1000;

  std::vector<std::unique_ptr<NsThread>> threads;
  std::vector<std::unique_ptr<node::LocalClient>> clients(n);
  for (std::size_t i = 0; i < n; ++i) {
    threads.push_back(std::make_unique<NsThread>(netns ? lan->ns(i) : ""));
    if (!threads[i]->entered()) return fail("cannot enter namespace " + lan->ns(i));
    clients[i] = threads[i]->run([&, i] { return client_of(*nodes[i]); });
    if (!clients[i]) return fail("no local client for node " + std::to_string(i));
  }
  auto count = [&](std::size_t i) { return threads[i]->run([&, i] { return count_of(*clients[i]); }); };
  // ... and holds the same log.
  const bool same = wait_for(
      [&] {
        const auto want = count(0);
        for (std::size_t i = 1; i < n; ++i) {
          if (count(i) != want) return false;
        }
        return true;
      },
      120);
  if (!same) return fail("logs did not converge");

  // Baseline: a signed heads round trip to B.
  std::vector<double> rtt;
  for (int i = 0; i < samples; ++i) {
    const auto t0 = Clk::now();
    count(1);
    rtt.push_back(ms_since(t0));
  }
  // Samples: append on A, then B and C (the first two peers) see it.
  std::vector<double> seen;  // per receiving node
  const std::size_t watch = std::min<std::size_t>(2, n - 1);
  int timeouts = 0;
  for (int s = 0; s < samples && timeouts < 3; ++s) {
    // Events a writer makes at human pace: past the outbox's batch gap (PUSH_MIN_GAP_MS),
    // so each sample measures an idle push, not the pacing of a burst.
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const auto want = count(0) + 1;
    const auto t0 = Clk::now();
    const bool emitted = threads[0]->run([&] {
      auto r = clients[0]->request("POST", node::NODE_DEBUG_EMIT_PATH, Json{{"count", 1}});
      return r && r->status == 200;
    });
    if (!emitted) return fail("emit failed");
    std::vector<bool> done(watch, false);
    std::size_t left = watch;
    while (left > 0) {
      if (ms_since(t0) > 10000) {
        ++timeouts;
        break;
      }
      for (std::size_t k = 0; k < watch; ++k) {
        if (done[k]) continue;
        if (count(k + 1) >= want) {
          done[k] = true;
          --left;
          seen.push_back(ms_since(t0));
        }
      }
    }
  }
  Json out{{"bench", "event_propagation"},
           {"mode", mode},
           {"nodes", n},
           {"samples", samples},
           {"timeouts", timeouts},
           {"mesh_formed_s", mesh_s},
           {"baseline_signed_rtt_ms_p50", quantile(rtt, 0.5)},
           {"baseline_signed_rtt_ms_p99", quantile(rtt, 0.99)},
           {"visible_ms_p50", quantile(seen, 0.5)},
           {"visible_ms_p99", quantile(seen, 0.99)},
           {"visible_ms_max", quantile(seen, 1.0)},
           {"p50_over_rtt", quantile(seen, 0.5) / std::max(1e-9, quantile(rtt, 0.5))},
           {"push", test::status_of(*nodes[0])["sync"]["push"]},
           {"loadavg", load_average()}};
  for (std::size_t i = 0; i < n; ++i) threads[i]->run([&, i] { clients[i].reset(); });
  std::cout << out.dump() << std::endl;
  return timeouts == 0 ? 0 : 1;
}
