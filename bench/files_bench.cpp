// files_bench.cpp — file transfer figures (issue #12) against real `hearthnet run` processes,
// each with a baseline measured in the same run:
//   1. `nc` raw: the same file piped through netcat over loopback (the ceiling of one TCP
//      stream on this machine, no TLS, no hashing);
//   2. hearthnet: `file put` on A, then `file get` on B (one source): MiB/s of the fetch and
//      the fetching node's peak RSS (VmHWM, which includes its start-up);
//   3. two sources: C fetches from A and B at once vs B's single-source fetch (C first waits
//      until its `file ls --remote` names both holders: B answers C only once a sync round
//      told B that C joined — without the wait C found only A, bench/RESULTS.md);
//   4. Syncthing (Debian's `syncthing` 1.19): two instances on loopback move the same file
//      (syncthing_pair.h); null with a reason when it is not installed.
// The fetches ask for binary chunk frames (doc/design/files.md), the node's default.
// Usage: hn_bench_files [size_mib=1024] [work_dir=/tmp/hn_bench_files]. Prints one JSON line.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/json.h"
#include "support/test_node.h"
#include "syncthing_pair.h"
#include "support/test_support.h"

using namespace hn;
using Clk = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

double secs_since(Clk::time_point t) { return std::chrono::duration<double>(Clk::now() - t).count(); }

void write_random(const fs::path& path, std::int64_t n) {
  std::mt19937_64 rng(42);
  std::ofstream out(path, std::ios::binary);
  std::vector<std::uint64_t> block(1 << 16);
  for (std::int64_t left = n; left > 0;) {
    for (auto& w : block) w = rng();
    const auto take = std::min<std::int64_t>(left, static_cast<std::int64_t>(block.size() * 8));
    out.write(reinterpret_cast<const char*>(block.data()), take);
    left -= take;
  }
}

long peak_rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

// Seconds to pipe `file` through nc on loopback; -1 when nc is missing or fails.
double nc_seconds(const fs::path& file, const fs::path& out) {
  const std::string nc = test::find_program("nc");
  if (nc.empty()) return -1;
  const int port = 20000 + static_cast<int>(::getpid() % 20000);
  const pid_t listener = test::spawn_process({"/bin/sh", "-c", nc + " -l 127.0.0.1 " + std::to_string(port) +
                                                                  " > " + out.string()},
                                             {}, out.string() + ".log");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto t = Clk::now();
  auto r = test::run_process({"/bin/sh", "-c", nc + " -N 127.0.0.1 " + std::to_string(port) + " < " + file.string()},
                             {}, "", 600);
  int status = 0;
  ::waitpid(listener, &status, 0);
  const double s = secs_since(t);
  if (r.exit_code != 0 || fs::file_size(out) != fs::file_size(file)) return -1;
  return s;
}

std::string static_peers(const std::vector<int>& ports) {
  std::string list = "bootstrap_peers = [";
  for (std::size_t i = 0; i < ports.size(); ++i) {
    list += (i ? ", " : "") + std::string("\"127.0.0.1:") + std::to_string(ports[i]) + "\"";
  }
  return test::NO_DISCOVERY + list + "]\n";
}

bool sees_file_read(const test::NodeProcess& n, const std::string& provider) {
  auto r = n.cli({"caps", "--remote-only", "--json", "--name", "file.read"});
  auto j = parse_json(r.out);
  if (!j || !j->is_array()) return false;
  for (const auto& e : *j) {
    if (e.value("node_id", "") == provider) return true;
  }
  return false;
}

// Whether c's `file ls --remote` names n holders of its one blob.
bool sees_holders(const test::NodeProcess& c, std::size_t n) {
  auto l = parse_json(c.cli({"file", "ls", "--remote", "--json"}).out);
  return l && l->is_array() && l->size() == 1 && (*l)[0]["holders"].size() >= n;
}

std::string load_average() { return test::trim(test::read_text("/proc/loadavg")); }

// `file get` on n with its peak RSS; {seconds, report, peak_rss_kib}.
struct Fetch {
  double seconds = -1;
  Json report;
  long peak_kib = 0;
};
Fetch fetch(const test::NodeProcess& n, const std::string& cid, const fs::path& out) {
  Fetch f;
  const auto t = Clk::now();
  auto r = n.cli({"file", "get", cid, "--out", out.string(), "--json"}, 3600);
  f.seconds = secs_since(t);
  f.peak_kib = peak_rss_kib(n.pid());
  if (r.exit_code != 0) {
    std::cerr << "file get failed: " << r.err << "\n";
    f.seconds = -1;
    return f;
  }
  f.report = parse_json(r.out).value_or(Json());
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t mib = argc > 1 ? std::atoll(argv[1]) : 1024;
  const fs::path work = argc > 2 ? fs::path(argv[2]) : fs::path("/tmp/hn_bench_files");
  fs::remove_all(work);
  fs::create_directories(work);
  const fs::path src = work / "blob.bin";
  write_random(src, mib * 1024 * 1024);
  const double size_mib = static_cast<double>(mib);
  Json out{{"size_mib", mib}, {"load_average_start", load_average()}};

  const double nc_s = nc_seconds(src, work / "nc.out");
  fs::remove(work / "nc.out");
  out["nc_mib_s"] = nc_s > 0 ? size_mib / nc_s : -1;

  const auto st = bench::run_syncthing_pair(src, work / "syncthing");
  if (!st.error.empty()) std::cerr << "syncthing: " << st.error << "\n";
  out["syncthing"] = st.version;
  out["syncthing_mib_s"] = st.seconds > 0 ? Json(size_mib / st.seconds) : Json(nullptr);
  out["syncthing_scan_s"] = st.scan_seconds;
  out["syncthing_receiver_peak_rss_mib"] = static_cast<double>(st.receiver_peak_rss_kib) / 1024.0;

  std::string error;
  // Sync rounds every 2 s (as the functional tests): B hears soon that C joined.
  const std::string quick_sync = "HEARTHNET_SYNC_INTERVAL_SECONDS=2";
  test::NodeProcess a(test::NodeOptions{.name = "bench-a"});
  a.add_env(quick_sync);
  if (!a.start(&error)) return std::cerr << error << "\n", 1;
  test::NodeProcess b(test::NodeOptions{.name = "bench-b", .discovery = static_peers({a.port()}), .found_community = false});
  b.add_env(quick_sync);
  if (!test::join_community(a, b).empty() || !b.start(&error)) return std::cerr << "b: " << error << "\n", 1;
  const std::string id_a = test::node_id_of(a);
  if (!test::eventually([&] { return sees_file_read(b, id_a); })) return std::cerr << "b sees no a\n", 1;

  auto t = Clk::now();
  auto put = a.cli({"file", "put", src.string()}, 3600);
  if (put.exit_code != 0) return std::cerr << "put: " << put.err << "\n", 1;
  out["put_mib_s"] = size_mib / secs_since(t);
  const std::string cid = test::trim(put.out);

  const auto one = fetch(b, cid, work / "b.out");
  out["one_source_mib_s"] = one.seconds > 0 ? size_mib / one.seconds : -1;
  out["fetching_node_peak_rss_mib"] = static_cast<double>(one.peak_kib) / 1024.0;
  out["one_source_out_kind"] = one.report.value("out_kind", Json(nullptr));
  out["ratio_to_nc"] = nc_s > 0 && one.seconds > 0 ? nc_s / one.seconds : -1;
  out["ratio_to_syncthing"] = st.seconds > 0 && one.seconds > 0 ? Json(st.seconds / one.seconds) : Json(nullptr);
  fs::remove(work / "b.out");

  test::NodeProcess c(test::NodeOptions{.name = "bench-c", .discovery = static_peers({a.port(), b.port()}),
                                        .found_community = false});
  c.add_env(quick_sync);
  if (!test::join_community(a, c).empty() || !c.start(&error)) return std::cerr << "c: " << error << "\n", 1;
  const std::string id_b = test::node_id_of(b);
  if (!test::eventually([&] { return sees_file_read(c, id_a) && sees_file_read(c, id_b); })) {
    return std::cerr << "c sees no a/b\n", 1;
  }
  // B refuses C's file.list (and file.read) until a sync round told B that C joined; a
  // fetch started before that finds A alone (the first bench's "two sources" anomaly).
  if (!test::eventually([&] { return sees_holders(c, 2); }, 120)) {
    return std::cerr << "c never saw b as a holder\n", 1;
  }
  const auto two = fetch(c, cid, work / "c.out");
  out["two_sources_mib_s"] = two.seconds > 0 ? size_mib / two.seconds : -1;
  out["two_vs_one"] = two.seconds > 0 && one.seconds > 0 ? one.seconds / two.seconds : -1;
  const Json by_source = two.report.value("chunks_by_source", Json::object());
  out["two_sources_chunks"] = Json{{"a", by_source.value(id_a, 0)}, {"b", by_source.value(id_b, 0)}};
  out["two_sources_dropped"] = two.report.value("dropped_sources", Json::array());
  out["two_sources_peak_rss_mib"] = static_cast<double>(two.peak_kib) / 1024.0;
  out["load_average_end"] = load_average();
  std::cout << out.dump() << std::endl;
  fs::remove_all(work);
  return 0;
}
