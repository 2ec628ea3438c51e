// execution_test.cpp — the execution model on a real node (doc/design/architecture.md,
// issue #10): long work of one kind does not starve another. Two streams whose consumers
// stop reading hold two of the diag service's queue threads; meanwhile a sync round with a
// second node, `status` and a plain call all complete — and only then are the held streams
// let go, and they finish whole. Completion and order are asserted, never times.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/json.h"
#include "support/test_node.h"
#include "support/test_support.h"

extern char** environ;

namespace hn {
namespace {

using test::NodeProcess;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

Json status_of(const NodeProcess& n) {
  auto r = n.cli({"status", "--json"});
  if (r.exit_code != 0) return Json::object();
  auto j = parse_json(r.out);
  return j ? *j : Json::object();
}

template <typename Pred>
bool eventually(Pred pred, int seconds = 60) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

// `hearthnet <args>` against n, its stdout a pipe the test holds and does not read: once
// the pipe is full the CLI stops reading its stream, and backpressure reaches the node.
struct HeldCli {
  pid_t pid = -1;
  int out = -1;  // read end
};

HeldCli spawn_held(const NodeProcess& n, const std::vector<std::string>& cli_args) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  for (const auto& kv : n.env()) env_strings.push_back(kv);
  std::vector<std::string> argv{test::hearthnet_binary().string()};
  argv.insert(argv.end(), cli_args.begin(), cli_args.end());
  std::vector<char*> envp, args;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  for (auto& x : argv) args.push_back(x.data());
  args.push_back(nullptr);
  int fds[2];
  if (::pipe(fds) != 0) return {};
  HeldCli held;
  held.pid = ::fork();
  if (held.pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  held.out = fds[0];
  return held;
}

bool still_running(pid_t pid) {
  int st = 0;
  return ::waitpid(pid, &st, WNOHANG) == 0;
}

// Reads the pipe to its end (the CLI exits), returns (exit code, lines read).
std::pair<int, long> release(HeldCli& h) {
  long lines = 0;
  char buf[65536];
  for (;;) {
    const ssize_t k = ::read(h.out, buf, sizeof buf);
    if (k <= 0) break;
    for (ssize_t i = 0; i < k; ++i) lines += buf[i] == '\n' ? 1 : 0;
  }
  ::close(h.out);
  int st = 0;
  ::waitpid(h.pid, &st, 0);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, lines};
}

::testing::AssertionResult join(const NodeProcess& inviter, const NodeProcess& joiner) {
  auto card = joiner.cli({"id"});
  if (card.exit_code != 0) return ::testing::AssertionFailure() << "id: " << card.err;
  auto invite = inviter.cli({"invite", "create", "--node-id", trim(card.out)});
  if (invite.exit_code != 0) return ::testing::AssertionFailure() << "invite: " << invite.err;
  auto redeem = joiner.cli({"invite", "redeem", trim(invite.out)});
  if (redeem.exit_code != 0) return ::testing::AssertionFailure() << "redeem: " << redeem.err;
  return ::testing::AssertionSuccess();
}

// The diag service's queue in a status report (services → diag → queue).
Json diag_queue(const NodeProcess& n) {
  const Json s = status_of(n);
  if (!s.contains("services") || !s["services"].contains("diag")) return Json::object();
  return s["services"]["diag"]["queue"];
}

// 200 frames of 60,000 characters: ~12 MB, more than the pipe, the CLI's socket buffers,
// the stream window and the node's bridge hold together, so the handler must block.
const std::string BIG_STREAM =
    R"({"input":{"text":")" + std::string(60000, 'x') + R"(","n":200}})";

TEST(NodeExecution, HeldStreamsDoNotStarveSyncStatusOrCalls) {
  test::TempDir dir_a, dir_b;
  NodeProcess a(dir_a.path(), "exec-a");
  a.add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=1");
  std::string error;
  ASSERT_TRUE(a.start(&error)) << error;
  NodeProcess b(dir_b.path(), "exec-b", "",
                std::string(test::NO_DISCOVERY) + "bootstrap_peers = [\"127.0.0.1:" +
                    std::to_string(a.port()) + "\"]\n",
                false);
  b.add_env("HEARTHNET_SYNC_INTERVAL_SECONDS=1");
  ASSERT_TRUE(join(a, b));
  ASSERT_TRUE(b.start(&error)) << error;
  ASSERT_TRUE(eventually([&] { return status_of(a)["peers"].value("count", 0) >= 1; }));

  // Two streams held back by their consumers.
  std::vector<HeldCli> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(spawn_held(a, {"call", "diag.echo@1.0", "--stream", "--node", "self", "--body", BIG_STREAM}));
    ASSERT_GT(held.back().pid, 0);
  }
  // Both providers are running on diag's queue threads and blocked in their sinks.
  ASSERT_TRUE(eventually([&] { return diag_queue(a).value("running", 0) >= 2; }))
      << status_of(a).dump();

  // A sync round: events written on B reach A.
  const auto events_before = status_of(a)["event_log"].value("events", 0);
  auto emit = b.cli({"debug", "emit", "20"});
  ASSERT_EQ(emit.exit_code, 0) << emit.err;
  EXPECT_TRUE(eventually([&] { return status_of(a)["event_log"].value("events", 0) >= events_before + 20; }))
      << status_of(a).dump();
  // status answers (it did above, too) and a plain call on the same service answers.
  auto st = a.cli({"status", "--json"});
  EXPECT_EQ(st.exit_code, 0) << st.err;
  auto plain = a.cli({"call", "diag.echo@1.0", "--node", "self", "--body", R"({"input":{"text":"plain"}})"});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.out.find("plain"), std::string::npos) << plain.out;

  // Order: all of that finished while the held streams were still held.
  for (const auto& h : held) EXPECT_TRUE(still_running(h.pid));
  EXPECT_GE(diag_queue(a).value("running", 0), 2);

  // Let go: each stream arrives whole (200 frames and the done frame).
  for (auto& h : held) {
    auto [code, lines] = release(h);
    EXPECT_EQ(code, 0);
    EXPECT_EQ(lines, 201);
  }
  EXPECT_TRUE(eventually([&] { return diag_queue(a).value("running", -1) == 0; }));
}

}  // namespace
}  // namespace hn
