// doctor_checks.h — the standard doctor checks (X03 §6.2) that need no other layer:
// disk_space, clock_sanity, recent_error_rate, and a file check that keys_present /
// community_present can be built from. Checks that need other layers (keys_loadable,
// event_log_writable, sockets, bus, LLM) are registered by the node with make_status_check
// or a DoctorCheck lambda.
//
// Thread-safety: the returned checks hold references only to what is documented below
// (the Clock, the TraceRing), which must outlive them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "observability/doctor.h"
#include "observability/tracing.h"

namespace hn::observability {

// Free bytes available to unprivileged users on the filesystem holding path (statvfs).
Result<std::uint64_t> free_disk_bytes(const std::filesystem::path& path);

struct DiskSpaceThresholds {
  std::uint64_t warn_below_bytes = 2ull << 30;  // 2 GiB
  std::uint64_t fail_below_bytes = 1ull << 30;  // X03 §6.2: free space ≥ 1 GB
};
// "disk_space": fail below fail_below_bytes (or when dir cannot be inspected), warn below
// warn_below_bytes.
DoctorCheck make_disk_space_check(std::filesystem::path dir, DiskSpaceThresholds thresholds = {});

struct ClockSanityOptions {
  std::int64_t min_ms = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
  std::int64_t max_ms = 4'102'444'800'000;  // 2100-01-01T00:00:00Z
  // Optional trusted time (e.g. an HTTP Date header when the internet is up, X03 §6.2);
  // returns nullopt when unavailable, and the check then relies on the bounds only.
  std::function<std::optional<std::int64_t>()> anchor_ms;
  std::int64_t max_skew_ms = 60'000;  // X03 §6.2: ±60 s
};
// "clock_sanity": fail when clock.now_ms() is outside [min_ms, max_ms) or off the anchor
// by more than max_skew_ms. Holds a reference to clock.
DoctorCheck make_clock_sanity_check(const Clock& clock, ClockSanityOptions options = {});

// "recent_error_rate": fail when ≥ max_error_rate of the last `window` traces are errors
// (X03 §6.2: < 20% of the last 100). Holds a reference to ring.
DoctorCheck make_recent_error_rate_check(const TraceRing& ring, std::size_t window = 100,
                                         double max_error_rate = 0.2);

// A file-presence check (keys_present, community_present): fail when path is not a
// regular file, or — when required_mode is given — when its permission bits differ.
DoctorCheck make_file_check(std::string name, std::filesystem::path path,
                            std::optional<std::filesystem::perms> required_mode,
                            std::optional<std::string> fix);

}  // namespace hn::observability
