// spill.cpp — the spill share of quick requests and the load it is decided from.
#include "transport/spill.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace hn::transport {

void SpillControl::update(double thread_busy, double idle_cores) {
  if (thread_busy >= SATURATED && idle_cores >= SPARE_CORES) {
    m_share = std::min(MAX_SHARE, m_share + STEP);
  } else if (thread_busy < SLACK || idle_cores < NO_SPARE_CORES) {
    m_share = std::max(0.0, m_share - STEP);
  }
  if (m_share == 0.0) m_credit = 0.0;
}

bool SpillControl::next_spills() {
  if (m_share <= 0.0) return false;
  m_credit += m_share;
  if (m_credit < 1.0 - 1e-9) return false;  // (tenths do not add up exactly)
  m_credit -= 1.0;
  return true;
}

namespace {

std::int64_t thread_cpu_ns() {
  timespec ts{};
  if (::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

std::int64_t machine_idle_ticks() {
  std::FILE* f = std::fopen("/proc/stat", "re");
  if (f == nullptr) return -1;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0;
  const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle, &iowait);
  std::fclose(f);
  if (n != 5) return -1;
  return static_cast<std::int64_t>(idle + iowait);
}

void LoadSampler::tick(SpillControl& control) {
  const auto now = std::chrono::steady_clock::now();
  if (!m_started) {
    m_started = true;
    m_wall = now;
    m_thread_ns = thread_cpu_ns();
    m_idle_ticks = machine_idle_ticks();
    return;
  }
  const auto wall_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - m_wall).count();
  if (wall_ns < std::chrono::duration_cast<std::chrono::nanoseconds>(WINDOW).count()) return;
  const std::int64_t thread_ns = thread_cpu_ns();
  const std::int64_t idle_ticks = machine_idle_ticks();
  const double busy = static_cast<double>(thread_ns - m_thread_ns) / static_cast<double>(wall_ns);
  double idle_cores = -1.0;
  if (idle_ticks >= 0 && m_idle_ticks >= 0) {
    static const long hz = std::max(1L, ::sysconf(_SC_CLK_TCK));
    idle_cores = static_cast<double>(idle_ticks - m_idle_ticks) / static_cast<double>(hz) /
                 (static_cast<double>(wall_ns) / 1e9);
  }
  control.update(busy, idle_cores);
  m_wall = now;
  m_thread_ns = thread_ns;
  m_idle_ticks = idle_ticks;
}

}  // namespace hn::transport
