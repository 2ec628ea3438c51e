// execution_test.cpp — the execution model on a real node (doc/design/architecture.md,
// issue #10): long work of one kind does not starve another. Two streams whose consumers
// stop reading hold two of the diag service's queue threads; meanwhile a sync round with a
// second node, `status` and a plain call all complete — and only then are the held streams
// let go, and they finish whole. Completion and order are asserted, never times.
#include <fcntl.h>
#include <signal.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/json.h"
#include "support/node_fixture.h"
#include "support/test_node.h"
#include "support/test_support.h"

namespace hn {
namespace {

using test::eventually;
using test::NodeOptions;
using test::NodeProcess;
using test::status_of;

// `hearthnet <args>` for n with its stdout into a FIFO that a reader thread drains one
// line per 40 ms while held (a slow consumer: it still acks within the contract's
// STREAM_ACK_TIMEOUT_SECONDS, but the node's producer spends its time blocked), and at full
// speed once let go.
struct HeldCli {
  pid_t pid = -1;
  int out = -1;  // the FIFO's read end
  std::atomic<bool> fast{false};
  std::atomic<long> lines{0};
  std::thread reader;
  ~HeldCli() {  // (a test that failed half-way)
    if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
    if (reader.joinable()) reader.join();  // EOF once the writer is gone
    if (out >= 0) ::close(out);
  }
};

std::unique_ptr<HeldCli> spawn_held(const NodeProcess& n, const std::vector<std::string>& args,
                                    const std::filesystem::path& fifo) {
  auto h = std::make_unique<HeldCli>();
  if (::mkfifo(fifo.c_str(), 0600) != 0) return h;
  h->out = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);  // (so the child's open does not wait)
  h->pid = test::spawn_cli(n, args, fifo);
  if (h->out < 0 || h->pid <= 0) return h;
  ::fcntl(h->out, F_SETFL, ::fcntl(h->out, F_GETFL) & ~O_NONBLOCK);
  h->reader = std::thread([raw = h.get()] {
    std::vector<char> buf(1 << 16);
    for (;;) {
      const ssize_t k = ::read(raw->out, buf.data(), buf.size());
      if (k < 0) break;
      if (k == 0) {
        // No writer: the child has not opened the FIFO yet, or it is done.
        siginfo_t info{};
        const bool exited = ::waitid(P_PID, static_cast<id_t>(raw->pid), &info,
                                     WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid != 0;
        if (exited) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      // Lines are the pace: 40 ms for each line this read completed.
      const auto ended = std::count(buf.data(), buf.data() + k, '\n');
      raw->lines += ended;
      if (!raw->fast.load() && ended > 0) std::this_thread::sleep_for(std::chrono::milliseconds(40) * ended);
    }
  });
  return h;
}

bool still_running(pid_t pid) {
  int st = 0;
  return ::waitpid(pid, &st, WNOHANG) == 0;
}

// Lets the reader go at full speed and waits for the CLI; returns (exit code, lines read).
std::pair<int, long> release(HeldCli& h) {
  h.fast = true;
  if (h.reader.joinable()) h.reader.join();
  ::close(h.out);
  h.out = -1;
  int st = 0;
  if (h.pid > 0) ::waitpid(h.pid, &st, 0);  // (already reaped: exit code unknown)
  h.pid = -1;
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, h.lines.load()};
}

// The diag service's queue in a status report (services → diag → queue).
Json diag_queue(const NodeProcess& n) {
  const Json s = status_of(n);
  if (!s.contains("services") || !s["services"].contains("diag")) return Json::object();
  return s["services"]["diag"]["queue"];
}

// 300 frames of 60,000 characters: ~18 MB, more than the FIFO, the CLI's socket buffers,
// the stream window and the node's bridge hold together, so each handler must block. The
// held calls get a long deadline (--timeout): how long they are held depends on how fast a
// loaded machine runs the sync round, and the test must not.
const std::string BIG_STREAM =
    R"({"input":{"text":")" + std::string(60000, 'x') + R"(","n":300}})";

TEST(NodeExecution, HeldStreamsDoNotStarveSyncStatusOrCalls) {
  NodeProcess a(NodeOptions{.name = "exec-a"});
  a.add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=1");
  std::string error;
  ASSERT_TRUE(a.start(&error)) << error;
  NodeProcess b(NodeOptions{.name = "exec-b",
                            .discovery = std::string(test::NO_DISCOVERY) + "bootstrap_peers = [\"127.0.0.1:" +
                                         std::to_string(a.port()) + "\"]\n",
                            .found_community = false});
  b.add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=1");
  ASSERT_TRUE(test::join(a, b));
  ASSERT_TRUE(b.start(&error)) << error;
  ASSERT_TRUE(eventually([&] { return status_of(b)["peers"].value("count", 0) >= 1; }));

  // Two streams held back by their consumers.
  test::TempDir fifos;
  std::vector<std::unique_ptr<HeldCli>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(spawn_held(a, {"call", "diag.echo@1.0", "--stream", "--node", "self", "--timeout", "600", "--body", BIG_STREAM},
                              fifos / ("held" + std::to_string(i))));
    ASSERT_GT(held.back()->pid, 0);
    ASSERT_GE(held.back()->out, 0);
  }
  // Both providers run on diag's queue threads, blocked in their sinks.
  ASSERT_TRUE(eventually([&] { return diag_queue(a).value("running", 0) >= 2; })) << status_of(a).dump();

  // A sync round: events written on A reach B (B's rounds are served by A's sync queue).
  const auto events_before = status_of(b)["event_log"].value("events", 0);
  auto emit = a.cli({"debug", "emit", "20"});
  ASSERT_EQ(emit.exit_code, 0) << emit.err;
  EXPECT_TRUE(eventually([&] { return status_of(b)["event_log"].value("events", 0) >= events_before + 20; }))
      << status_of(b).dump();
  // status answers (it did above, too), and so does a plain call on the same service.
  auto st = a.cli({"status", "--json"});
  EXPECT_EQ(st.exit_code, 0) << st.err;
  auto plain = a.cli({"call", "diag.echo@1.0", "--node", "self", "--body", R"({"input":{"text":"plain"}})"});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.out.find("plain"), std::string::npos) << plain.out;

  // Order: all of that finished while the held streams were still held.
  for (const auto& h : held) {
    EXPECT_TRUE(still_running(h->pid));
    EXPECT_LT(h->lines.load(), 300);
  }
  EXPECT_GE(diag_queue(a).value("running", 0), 2);

  // Let go: each stream arrives whole (300 frames and the done frame).
  for (auto& h : held) {
    auto [code, lines] = release(*h);
    EXPECT_EQ(code, 0);
    EXPECT_EQ(lines, 301);
  }
  EXPECT_TRUE(eventually([&] { return diag_queue(a).value("running", -1) == 0; }));

  // The caller's own deadline reaches the work: a held stream asked to end within 2 s ends
  // with an error, not whole; an out-of-range deadline is refused before any work.
  auto brief = spawn_held(a, {"call", "diag.echo@1.0", "--stream", "--node", "self", "--timeout", "2", "--body", BIG_STREAM},
                          fifos / "brief");
  ASSERT_GT(brief->pid, 0);
  int brief_status = 0;
  ::waitpid(brief->pid, &brief_status, 0);  // (the reader stays slow: the deadline ends it)
  brief->pid = -1;
  EXPECT_TRUE(WIFEXITED(brief_status) && WEXITSTATUS(brief_status) != 0);
  EXPECT_LT(release(*brief).second, 301);
  auto refused = a.cli({"call", "diag.echo@1.0", "--node", "self", "--timeout", "999999", "--body", "{}"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("timeout_seconds"), std::string::npos) << refused.err;
  EXPECT_TRUE(eventually([&] { return diag_queue(a).value("running", -1) == 0; }));
}

}  // namespace
}  // namespace hn
