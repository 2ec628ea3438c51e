// log_files.cpp — daily (and size) rotation of the JSON-lines log, with retention (X03 §3.3).
#include "observability/log_files.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <system_error>
#include <utility>
#include <vector>

#include <spdlog/common.h>

#include "core/time.h"

namespace hn::observability {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t DAY_MS = 24LL * 60 * 60 * 1000;

bool is_day(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

}  // namespace

std::string utc_day(std::int64_t unix_ms) {
  return format_rfc3339_ms(unix_ms).substr(0, 10);  // "YYYY-MM-DDThh:mm:ss.sssZ"
}

std::optional<RotatedLogName> parse_rotated_log_name(std::string_view name, std::string_view stem,
                                                     std::string_view ext) {
  // <stem>.<YYYY-MM-DD>.<N><ext>
  if (name.size() < stem.size() + 1 + 10 + 2 + ext.size()) return std::nullopt;
  if (!name.starts_with(stem) || name[stem.size()] != '.' || !name.ends_with(ext)) return std::nullopt;
  std::string_view rest = name.substr(stem.size() + 1, name.size() - stem.size() - 1 - ext.size());
  if (rest.size() < 12 || !is_day(rest.substr(0, 10)) || rest[10] != '.') return std::nullopt;
  const std::string_view digits = rest.substr(11);
  unsigned n = 0;
  auto [p, errc] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (errc != std::errc() || p != digits.data() + digits.size() || n == 0) return std::nullopt;
  return RotatedLogName{std::string(rest.substr(0, 10)), n};
}

DailyFileSink::DailyFileSink(LogFileOptions options)
    : m_options(std::move(options)), m_path(m_options.dir / m_options.file_name) {
  m_day = utc_day(now_ms());
  std::error_code ec;
  if (fs::exists(m_path, ec) && fs::file_size(m_path, ec) > 0) {
    // A file left by an earlier run covers the day it was last written.
    const auto mtime = fs::last_write_time(m_path, ec);
    if (!ec) {
      const auto sys = std::chrono::file_clock::to_sys(mtime);
      const std::string file_day =
          utc_day(std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count());
      if (file_day < m_day) {
        const std::string today = m_day;
        m_day = file_day;
        m_file.open(m_path.string(), false);
        rotate();
        m_day = today;
        return;
      }
    }
  }
  m_file.open(m_path.string(), false);
  prune();
}

std::int64_t DailyFileSink::now_ms() const {
  return (m_options.clock ? *m_options.clock : SystemClock::instance()).now_ms();
}

void DailyFileSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t line;
  formatter_->format(msg, line);
  const std::string day = utc_day(now_ms());
  if (day != m_day) {
    rotate();  // the file of m_day is complete
    m_day = day;
  } else if (m_file.size() > 0 && m_file.size() + line.size() > m_options.max_file_bytes) {
    rotate();
  }
  m_file.write(line);
}

void DailyFileSink::flush_() { m_file.flush(); }

void DailyFileSink::rotate() {
  m_file.close();
  const fs::path base(m_options.file_name);
  const std::string stem = base.stem().string();
  const std::string ext = base.extension().string();
  // The day's next N: one past the highest present (pruning may have removed the lowest).
  unsigned last = 0;
  std::error_code ec;
  for (fs::directory_iterator it(m_options.dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto parsed = parse_rotated_log_name(it->path().filename().string(), stem, ext);
    if (parsed && parsed->day == m_day) last = std::max(last, parsed->n);
  }
  const fs::path target = m_options.dir / (stem + "." + m_day + "." + std::to_string(last + 1) + ext);
  fs::rename(m_path, target, ec);  // on failure the current file simply grows on
  m_file.open(m_path.string(), false);
  prune();
}

void DailyFileSink::prune() {
  const fs::path base(m_options.file_name);
  const std::string stem = base.stem().string();
  const std::string ext = base.extension().string();
  // Days before `oldest` are past retention.
  const std::string oldest = utc_day(now_ms() - static_cast<std::int64_t>(m_options.retention_days) * DAY_MS);
  std::vector<std::pair<RotatedLogName, fs::path>> kept;
  std::error_code ec;
  for (fs::directory_iterator it(m_options.dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    auto parsed = parse_rotated_log_name(name, stem, ext);
    if (!parsed) continue;
    if (parsed->day < oldest) {
      std::error_code rm;
      fs::remove(it->path(), rm);
    } else {
      kept.emplace_back(std::move(*parsed), it->path());
    }
  }
  if (kept.size() <= m_options.max_files) return;
  std::sort(kept.begin(), kept.end());
  for (std::size_t i = 0; i + m_options.max_files < kept.size(); ++i) {
    std::error_code rm;
    fs::remove(kept[i].second, rm);
  }
}

}  // namespace hn::observability
