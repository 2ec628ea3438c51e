// progress.h — what the CLI's long commands share: a one-line progress bar on stderr
// (`file get`, `file put`, `rag ingest`), drawn only when stderr is a terminal, and human
// byte sizes.
//
// Thread-safety: one ProgressBar per command, used from the CLI's one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace hn::cli {

// "1.5 MiB".
std::string human_bytes(double n);

// A one-line progress bar on stderr, redrawn in place; nothing unless stderr is a terminal.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Bytes: done / total, rate, ETA and (when sources >= 0) the number of sources.
  void update(std::int64_t done, std::int64_t total, int sources);
  // Any unit: the bar at `fraction` (0..1) followed by `detail` ("pages 3/10  chunks 5/20").
  void update_fraction(double fraction, const std::string& detail);
  // Ends the line (when something was drawn).
  void finish();

 private:
  void draw(double fraction, const std::string& detail);

  std::string m_label;
  bool m_tty;
  bool m_drawn = false;
  std::int64_t m_first_done = -1;
  std::chrono::steady_clock::time_point m_started;
};

}  // namespace hn::cli
