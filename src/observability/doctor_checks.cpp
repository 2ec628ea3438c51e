// doctor_checks.cpp — generic standard doctor checks (X03 §6.2).
#include "observability/doctor_checks.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/time.h"

namespace hn::observability {

namespace fs = std::filesystem;

namespace {

std::string human_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 5) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string format_mode(fs::perms p) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(p) & 07777u);
  return buf;
}

}  // namespace

Result<std::uint64_t> free_disk_bytes(const fs::path& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) {
    const int err = errno;
    return make_error(err == ENOENT ? ErrorCode::not_found : ErrorCode::io_error,
                      "statvfs " + path.string() + ": " + std::strerror(err));
  }
  return static_cast<std::uint64_t>(st.f_bavail) * static_cast<std::uint64_t>(st.f_frsize);
}

DoctorCheck make_disk_space_check(fs::path dir, DiskSpaceThresholds thresholds) {
  CheckFn fn = [dir = std::move(dir), thresholds]() {
    auto free = free_disk_bytes(dir);
    if (!free) {
      return check_fail("cannot inspect " + dir.string() + ": " + free.error().message,
                        "create the data directory or check its permissions");
    }
    const std::string text = human_bytes(*free) + " free at " + dir.string();
    if (*free < thresholds.fail_below_bytes) {
      return check_fail(text + " (need " + human_bytes(thresholds.fail_below_bytes) + ")",
                        "free disk space or move the data directory");
    }
    if (*free < thresholds.warn_below_bytes) {
      return check_warn(text + " (low; below " + human_bytes(thresholds.warn_below_bytes) + ")",
                        "free disk space soon");
    }
    return check_ok(text);
  };
  return DoctorCheck{"disk_space", std::move(fn)};
}

DoctorCheck make_clock_sanity_check(const Clock& clock, ClockSanityOptions options) {
  CheckFn fn = [&clock, options = std::move(options)]() {
    const std::int64_t now = clock.now_ms();
    const std::string now_text = format_rfc3339(now / 1000);
    const char* fix = "set the system clock (enable NTP: timedatectl set-ntp true)";
    if (now < options.min_ms) {
      return check_fail("system clock reads " + now_text + ", before " +
                            format_rfc3339(options.min_ms / 1000),
                        fix);
    }
    if (now >= options.max_ms) {
      return check_fail("system clock reads " + now_text + ", implausibly far in the future",
                        fix);
    }
    if (options.anchor_ms) {
      if (auto anchor = options.anchor_ms()) {
        const std::int64_t skew = now - *anchor;
        if (skew > options.max_skew_ms || -skew > options.max_skew_ms) {
          return check_fail("system clock is off by " + std::to_string(skew / 1000) +
                                " s from the reference time",
                            fix);
        }
        return check_ok(now_text + " (within " + std::to_string(options.max_skew_ms / 1000) +
                        " s of the reference time)");
      }
    }
    return check_ok(now_text);
  };
  return DoctorCheck{"clock_sanity", std::move(fn)};
}

DoctorCheck make_recent_error_rate_check(const TraceRing& ring, std::size_t window,
                                         double max_error_rate) {
  CheckFn fn = [&ring, window, max_error_rate]() {
    const auto traces = ring.recent(window);
    if (traces.empty()) return check_ok("no traces yet");
    std::size_t errors = 0;
    for (const auto& t : traces) errors += t.is_error() ? 1 : 0;
    const double rate = static_cast<double>(errors) / static_cast<double>(traces.size());
    const std::string text = std::to_string(errors) + " of the last " +
                             std::to_string(traces.size()) + " requests failed";
    if (rate >= max_error_rate) {
      return check_fail(text, "inspect `hearthnet trace recent` and `hearthnet log --level error`");
    }
    return check_ok(text);
  };
  return DoctorCheck{"recent_error_rate", std::move(fn)};
}

DoctorCheck make_file_check(std::string name, fs::path path,
                            std::optional<fs::perms> required_mode,
                            std::optional<std::string> fix) {
  CheckFn fn = [path = std::move(path), required_mode, fix = std::move(fix)]() {
    std::error_code ec;
    const auto st = fs::status(path, ec);
    if (ec || !fs::exists(st)) return check_fail(path.string() + " is missing", fix);
    if (!fs::is_regular_file(st)) return check_fail(path.string() + " is not a file", fix);
    if (required_mode) {
      const auto mode = st.permissions() & fs::perms::mask;
      if (mode != *required_mode) {
        return check_fail(path.string() + " has mode " + format_mode(mode) + ", expected " +
                              format_mode(*required_mode),
                          "chmod " + format_mode(*required_mode).substr(1) + " " + path.string());
      }
    }
    return check_ok(path.string());
  };
  return DoctorCheck{std::move(name), std::move(fn)};
}

}  // namespace hn::observability
