// progress.cpp — see progress.h.
#include "cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace hn::cli {

std::string human_bytes(double n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (n >= 1024 && u < 4) {
    n /= 1024;
    ++u;
  }
  std::ostringstream o;
  o << std::fixed << std::setprecision(u == 0 ? 0 : 1) << n << " " << units[u];
  return o.str();
}

ProgressBar::ProgressBar(std::string label)
    : m_label(std::move(label)), m_tty(::isatty(STDERR_FILENO) == 1),
      m_started(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(std::int64_t done, std::int64_t total, int sources) {
  if (!m_tty) return;
  if (m_first_done < 0) m_first_done = done;  // a resumed fetch: rate of what moves now
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count();
  const double rate = secs > 0 ? static_cast<double>(done - m_first_done) / secs : 0;
  const double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  std::ostringstream line;
  line << human_bytes(static_cast<double>(done)) << " / " << human_bytes(static_cast<double>(total)) << "  "
       << human_bytes(rate) << "/s";
  if (rate > 0 && total > done) {
    line << "  ETA " << static_cast<std::int64_t>(static_cast<double>(total - done) / rate) << " s";
  }
  if (sources >= 0) line << "  sources " << sources;
  draw(frac, line.str());
}

void ProgressBar::update_fraction(double fraction, const std::string& detail) {
  if (!m_tty) return;
  draw(fraction, detail);
}

void ProgressBar::draw(double fraction, const std::string& detail) {
  const double frac = std::clamp(fraction, 0.0, 1.0);
  const int width = 30, filled = static_cast<int>(frac * width);
  std::ostringstream line;
  line << "\r" << m_label << " [" << std::string(static_cast<std::size_t>(filled), '#')
       << std::string(static_cast<std::size_t>(width - filled), ' ') << "] " << std::setw(3)
       << static_cast<int>(frac * 100) << "%  " << detail << "   ";
  std::cerr << line.str() << std::flush;
  m_drawn = true;
}

void ProgressBar::finish() {
  if (m_drawn) std::cerr << "\n" << std::flush;
  m_drawn = false;
}

}  // namespace hn::cli
