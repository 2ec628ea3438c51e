// log_reader.cpp — reading JSON-lines logs back (M12 §3.6).
#include "observability/log_reader.h"

#include "observability/log_files.h"

#include <algorithm>
#include <charconv>
#include <deque>
#include <fstream>
#include <utility>

namespace hn::observability {

namespace fs = std::filesystem;

Result<LogEntry> parse_log_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  HN_TRY_ASSIGN(Json j, parse_json(line));
  if (!j.is_object()) return make_error(ErrorCode::bad_request, "log line is not an object");
  LogEntry e;
  HN_TRY_ASSIGN(e.ts, get_string(j, "ts"));
  HN_TRY_ASSIGN(std::string level, get_string(j, "level"));
  auto parsed = parse_log_level(level);
  if (!parsed) return make_error(ErrorCode::bad_request, "unknown log level: " + level);
  e.level = *parsed;
  // X03 §3.3 names the logger `logger`; lines written before that said `component`.
  HN_TRY_ASSIGN(e.component, get_string(j, j.contains("logger") ? "logger" : "component"));
  HN_TRY_ASSIGN(e.msg, get_string(j, "msg"));
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k == "ts" || k == "level" || k == "logger" || k == "component" || k == "msg") continue;
    e.fields[k] = it.value();
  }
  e.raw = std::string(line);
  return e;
}

bool matches(const LogEntry& entry, const LogFilter& filter) {
  if (filter.min_level && static_cast<int>(entry.level) < static_cast<int>(*filter.min_level)) {
    return false;
  }
  if (filter.component && !filter.component->empty()) {
    const std::string& want = *filter.component;
    if (entry.component != want) {
      const bool child = entry.component.size() > want.size() &&
                         entry.component.compare(0, want.size(), want) == 0 &&
                         entry.component[want.size()] == '.';
      if (!child) return false;
    }
  }
  return true;
}

std::vector<fs::path> list_log_files(const fs::path& dir, const std::string& file_name) {
  // Rotated files are <stem>.<YYYY-MM-DD>.<N><ext> (log_files.h), oldest day and N first;
  // older releases left spdlog's <stem>.<N><ext> (1 = newest), which come before them.
  const fs::path base(file_name);
  const std::string stem = base.stem().string();
  const std::string ext = base.extension().string();
  std::vector<std::pair<unsigned, fs::path>> rotated;
  std::vector<std::pair<RotatedLogName, fs::path>> dated;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string name = it->path().filename().string();
    if (auto d = parse_rotated_log_name(name, stem, ext)) {
      dated.emplace_back(std::move(*d), it->path());
      continue;
    }
    if (name.size() <= stem.size() + 1 + ext.size()) continue;
    if (name.compare(0, stem.size() + 1, stem + ".") != 0) continue;
    if (name.compare(name.size() - ext.size(), ext.size(), ext) != 0) continue;
    const std::string digits =
        name.substr(stem.size() + 1, name.size() - stem.size() - 1 - ext.size());
    unsigned index = 0;
    auto [p, errc] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (errc != std::errc() || p != digits.data() + digits.size() || index == 0) continue;
    rotated.emplace_back(index, it->path());
  }
  std::sort(rotated.begin(), rotated.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<fs::path> files;
  for (auto& [index, path] : rotated) files.push_back(std::move(path));
  std::sort(dated.begin(), dated.end());
  for (auto& [name, path] : dated) files.push_back(std::move(path));
  if (fs::is_regular_file(dir / base, ec)) files.push_back(dir / base);
  return files;
}

Result<std::vector<LogEntry>> read_log_lines(const fs::path& dir, const LogFilter& filter,
                                             std::size_t max_entries,
                                             const std::string& file_name) {
  const auto files = list_log_files(dir, file_name);
  if (files.empty()) {
    return make_error(ErrorCode::not_found, "no log files in " + dir.string());
  }
  std::deque<LogEntry> tail;
  std::string line;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) continue;  // rotated away between listing and opening
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      auto entry = parse_log_line(line);
      if (!entry || !matches(*entry, filter)) continue;
      tail.push_back(std::move(entry).value());
      if (tail.size() > max_entries) tail.pop_front();
    }
  }
  return std::vector<LogEntry>(std::make_move_iterator(tail.begin()),
                               std::make_move_iterator(tail.end()));
}

}  // namespace hn::observability
