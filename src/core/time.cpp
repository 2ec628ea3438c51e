// time.cpp — RFC 3339 formatting and parsing with civil-date arithmetic (no locale, no TZ).
#include "core/time.h"

#include <chrono>
#include <cstdio>

#include "core/clock.h"

namespace hn {
namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

bool read_digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

}  // namespace

std::int64_t SystemClock::now_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

std::int64_t monotonic_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

std::string format_rfc3339(std::int64_t unix_seconds) {
  using namespace std::chrono;
  const std::int64_t days = floor_div(unix_seconds, 86400);
  const std::int64_t secs = unix_seconds - days * 86400;
  year_month_day ymd{sys_days{std::chrono::days{days}}};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(secs / 3600), static_cast<int>((secs / 60) % 60),
                static_cast<int>(secs % 60));
  return buf;
}

std::string format_rfc3339_ms(std::int64_t unix_ms) {
  std::string s = format_rfc3339(floor_div(unix_ms, 1000));
  char ms[8];
  std::snprintf(ms, sizeof ms, ".%03dZ", static_cast<int>(unix_ms - floor_div(unix_ms, 1000) * 1000));
  s.pop_back();
  return s + ms;
}

std::optional<std::int64_t> parse_rfc3339_ms(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (!read_digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !read_digits(s, 5, 2, mo) ||
      s[7] != '-' || !read_digits(s, 8, 2, d) || s[10] != 'T' || !read_digits(s, 11, 2, h) ||
      s[13] != ':' || !read_digits(s, 14, 2, mi) || s[16] != ':' || !read_digits(s, 17, 2, sec)) {
    return std::nullopt;
  }
  int millis = 0;
  size_t pos = 19;
  if (s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    size_t n = pos - start;
    if (n == 0 || n > 9) return std::nullopt;
    int frac = 0;
    read_digits(s, start, n < 3 ? n : 3, frac);
    for (size_t k = n; k < 3; ++k) frac *= 10;
    millis = frac;
  }
  if (pos + 1 != s.size() || s[pos] != 'Z') return std::nullopt;
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  const std::int64_t days = sys_days{ymd}.time_since_epoch().count();
  return ((days * 86400) + h * 3600 + mi * 60 + sec) * 1000 + millis;
}

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
  auto ms = parse_rfc3339_ms(text);
  if (!ms) return std::nullopt;
  return floor_div(*ms, 1000);
}

}  // namespace hn
