// syncthing_pair.h — the Syncthing baseline of the files bench (issue #12): two instances of
// Debian's `syncthing` (1.19) on loopback move one file, timed beside HearthNet's fetch.
//
// Both instances get a config written here: GUI/REST and sync listeners on loopback ports,
// global and local discovery, relays, NAT/STUN, usage reports, crash reports and upgrades
// off, each other's device with an explicit tcp://127.0.0.1:PORT address, and one shared
// folder (send-only on the sender, receive-only on the receiver) with no file-system
// watcher. The sender starts first and scans (hashes) the file — not timed, as HearthNet's
// `file put` is not; the time runs from the receiver's start until the file stands whole
// under its final name (Syncthing renames its temp file only when every block verified).
// Nothing leaves loopback; both processes are stopped and their homes removed at the end.
//
// Thread-safety: blocking, one call at a time (it spawns children from the calling thread).
#pragma once

#include <filesystem>
#include <string>

namespace hn::bench {

struct SyncthingRun {
  double seconds = -1;          // receiver start → file complete; -1 on failure
  double scan_seconds = -1;     // the sender's first scan of the file
  long receiver_peak_rss_kib = 0;
  std::string version;          // `syncthing --version`, first line
  std::string error;            // why it failed ("" on success)
};

// Moves `file` (hard-linked, so no copy is made) between two Syncthing instances under
// `work`; at most `timeout_seconds` for the scan and again for the transfer.
SyncthingRun run_syncthing_pair(const std::filesystem::path& file, const std::filesystem::path& work,
                                int timeout_seconds = 900);

}  // namespace hn::bench
