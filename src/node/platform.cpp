// platform.cpp — the node's operating-system helpers: advertised address, hardware,
// CPU load, worker priority, file sizes, glob match.
#include "node/platform.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <latch>
#include <memory>
#include <system_error>
#include <thread>
#include <utility>  // before Asio 1.74's headers, which use std::exchange

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/post.hpp>

namespace hn::node {
namespace asio = boost::asio;
namespace fs = std::filesystem;

bool is_wildcard(const std::string& host) {
  return host == "0.0.0.0" || host == "::" || host.empty();
}

std::string advertised_host(const std::string& listen_host) {
  if (!is_wildcard(listen_host)) return listen_host;
  std::string found = "127.0.0.1";
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return found;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    auto* in = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
    asio::ip::address_v4 v4(ntohl(in->sin_addr.s_addr));
    if (v4.is_loopback()) continue;
    found = v4.to_string();
    break;
  }
  ::freeifaddrs(list);
  return found;
}

identity::HardwareSpec detect_hardware(const fs::path& data_dir) {
  identity::HardwareSpec hw;
  struct sysinfo si {};
  if (::sysinfo(&si) == 0) {
    hw.ram_gb = static_cast<double>(static_cast<std::int64_t>(
                    static_cast<double>(si.totalram) * si.mem_unit / (1024.0 * 1024 * 1024) * 10)) /
                10;
  }
  hw.cpu_cores = static_cast<std::int64_t>(std::thread::hardware_concurrency());
  struct statvfs vfs {};
  if (::statvfs(data_dir.c_str(), &vfs) == 0) {
    hw.disk_free_gb =
        static_cast<double>(static_cast<std::int64_t>(static_cast<double>(vfs.f_bavail) *
                                                      vfs.f_frsize / (1024.0 * 1024 * 1024) * 10)) /
        10;
  }
  return hw;
}

double cpu_load() {
  double avg = 0;
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &avg) != 1) avg = 0;
    std::fclose(f);
  }
  const double cores = std::max(1u, std::thread::hardware_concurrency());
  const double per_core = std::clamp(avg / cores, 0.0, 1.0);
  return std::round(per_core * 100) / 100;
}

// Each pool thread runs one setup task; the latch holds them until all have taken one.
void lower_worker_priority(asio::thread_pool& pool, std::size_t threads) {
  auto started = std::make_shared<std::latch>(static_cast<std::ptrdiff_t>(threads));
  for (std::size_t i = 0; i < threads; ++i) {
    asio::post(pool, [started] {
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), WORKER_NICE);
      started->arrive_and_wait();
    });
  }
  started->wait();
}

std::int64_t file_size_or_zero(const fs::path& p) {
  std::error_code ec;
  auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<std::int64_t>(n);
}

bool glob_match(const char* p, const char* s) {
  if (*p == '\0') return *s == '\0';
  if (*p == '*') return glob_match(p + 1, s) || (*s != '\0' && glob_match(p, s + 1));
  if (*s == '\0') return false;
  return (*p == '?' || *p == *s) && glob_match(p + 1, s + 1);
}

}  // namespace hn::node
