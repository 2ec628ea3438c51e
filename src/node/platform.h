// platform.h — what the node asks of the operating system: the address peers should use,
// the machine's hardware and CPU load (for the node manifest), worker thread priority, file sizes; and
// the glob match the caps filter uses.
//
// Thread-safety: every function is safe from any thread (lower_worker_priority blocks
// until each pool thread has run its setup task).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>  // before Asio 1.74's headers, which use std::exchange

#include <boost/asio/thread_pool.hpp>

#include "identity/manifest.h"

namespace hn::node {

// Whether a listen host means "every interface" ("0.0.0.0", "::" or empty).
bool is_wildcard(const std::string& host);

// The address peers should use when we listen on every interface: the first non-loopback
// IPv4 address that is up, else loopback. A specific listen host is returned as it is.
std::string advertised_host(const std::string& listen_host);

// RAM and free disk (GB, one decimal) and CPU cores, for the node manifest (CONTRACT §6.1).
identity::HardwareSpec detect_hardware(const std::filesystem::path& data_dir);

// CONTRACT §6.1 load.cpu: the 1-minute load average per core, 0..1 (two decimals), from
// /proc/loadavg; 0 where it cannot be read.
double cpu_load();

// Worker threads run at a lower CPU priority (nice +WORKER_NICE) than the network thread:
// on a busy machine, reading and answering requests is not queued behind long CPU work.
inline constexpr int WORKER_NICE = 5;
void lower_worker_priority(boost::asio::thread_pool& pool, std::size_t threads);

// A file's size, or 0 when it cannot be read.
std::int64_t file_size_or_zero(const std::filesystem::path& p);

// Glob match with * and ?, over the whole of `s`.
bool glob_match(const char* pattern, const char* s);

}  // namespace hn::node
