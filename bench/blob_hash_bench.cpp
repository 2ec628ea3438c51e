// blob_hash_bench.cpp — M07 chunking throughput: BLAKE3-chunks a file of N bytes with
// hn::blobs::chunk_file (256 KiB chunks, one CID each, single thread) and, in the same run
// on the same file, times `b3sum --num-threads 1` as the baseline. Prints one JSON line:
//   {"bench":"blob_hash","bytes":N,"chunker_mb_s":…,"b3sum_mb_s":…,"ratio":…}
// ratio = chunker / b3sum (1.0 = as fast as the reference tool). MB = 10^6 bytes.
//
// Usage: hn_bench_blob_hash [bytes (default 1 GiB)] [repetitions (default 3)]
// The file is written to a fresh directory under $TMPDIR (or /tmp) and removed afterwards;
// both measurements read it from the page cache. The best of the repetitions is reported.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "blobs/chunker.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Fills the file with xorshift bytes (incompressible, cheap to generate).
bool write_test_file(const fs::path& path, std::uint64_t bytes) {
  std::ofstream out(path, std::ios::binary);
  if (!out) return false;
  std::vector<std::uint64_t> block(1 << 19);  // 4 MiB
  std::uint64_t state = 0x9e3779b97f4a7c15ull;
  std::uint64_t left = bytes;
  while (left > 0) {
    for (auto& w : block) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      w = state;
    }
    const std::uint64_t n = std::min<std::uint64_t>(left, block.size() * sizeof(std::uint64_t));
    out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
    left -= n;
  }
  return static_cast<bool>(out.flush());
}

// Seconds for one `b3sum --num-threads 1 <path>` run, or nullopt if it failed.
std::optional<double> time_b3sum(const fs::path& path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  std::string file = path.string();
  char arg0[] = "b3sum";
  char arg1[] = "--num-threads";
  char arg2[] = "1";
  char* argv[] = {arg0, arg1, arg2, file.data(), nullptr};
  pid_t pid = 0;
  const auto start = Clock::now();
  int rc = posix_spawnp(&pid, "b3sum", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return std::nullopt;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return std::nullopt;
  const double secs = seconds_since(start);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return secs;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t bytes = 1ull << 30;
  int reps = 3;
  if (argc > 1) bytes = std::strtoull(argv[1], nullptr, 10);
  if (argc > 2) reps = std::max(1, std::atoi(argv[2]));
  if (bytes == 0) {
    std::fprintf(stderr, "usage: %s [bytes > 0] [repetitions]\n", argv[0]);
    return 2;
  }

  const char* tmp_env = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp_env && *tmp_env ? tmp_env : "/tmp") + "/hn-blob-bench-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path dir(tmpl);
  const fs::path file = dir / "input.bin";
  int exit_code = 0;
  if (!write_test_file(file, bytes)) {
    std::fprintf(stderr, "cannot write %s\n", file.c_str());
    exit_code = 1;
  } else {
    double best_chunker = 1e300;
    std::size_t chunks = 0;
    for (int i = 0; i < reps; ++i) {
      std::size_t seen = 0;
      const auto start = Clock::now();
      auto m = hn::blobs::chunk_file(
          file, [&](const hn::blobs::ChunkRef&, std::span<const std::uint8_t>) {
            ++seen;
            return hn::Status{};
          });
      const double secs = seconds_since(start);
      if (!m.has_value()) {
        std::fprintf(stderr, "chunk_file: %s\n", m.error().to_string().c_str());
        exit_code = 1;
        break;
      }
      chunks = seen;
      best_chunker = std::min(best_chunker, secs);
    }
    std::optional<double> best_b3sum;
    for (int i = 0; i < reps && exit_code == 0; ++i) {
      auto secs = time_b3sum(file);
      if (!secs) break;
      best_b3sum = best_b3sum ? std::min(*best_b3sum, *secs) : *secs;
    }
    if (exit_code == 0) {
      const double mb = static_cast<double>(bytes) / 1e6;
      const double chunker_mb_s = mb / best_chunker;
      std::printf(
          "{\"bench\":\"blob_hash\",\"bytes\":%llu,\"chunk_size_bytes\":%lld,"
          "\"chunks\":%zu,\"repetitions\":%d,\"chunker_mb_s\":%.1f,",
          static_cast<unsigned long long>(bytes), static_cast<long long>(hn::CHUNK_SIZE_BYTES),
          chunks, reps, chunker_mb_s);
      if (best_b3sum) {
        const double b3_mb_s = mb / *best_b3sum;
        std::printf("\"b3sum_mb_s\":%.1f,\"ratio\":%.3f}\n", b3_mb_s, chunker_mb_s / b3_mb_s);
      } else {
        std::printf("\"b3sum_mb_s\":null,\"ratio\":null}\n");
      }
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return exit_code;
}
