// logging_test.cpp — X03 §3: JSON-lines logs, rotation, rate limiting, reading logs back.
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/json.h"
#include "observability/log_reader.h"
#include "observability/logging.h"
#include "observability/rate_limited_logger.h"
#include "support/test_support.h"

namespace hn::observability {
namespace {

namespace fs = std::filesystem;

// 2026-05-26T08:14:22.281Z
constexpr std::int64_t kTs = 1'779'783'262'281;

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

class LoggingTest : public ::testing::Test {
 protected:
  void TearDown() override { shutdown_logging(); }

  // Installs a backend that captures every line in m_lines.
  void capture(LogLevel level = LogLevel::debug) {
    LogOptions opts;
    opts.level = level;
    opts.clock = &m_clock;
    opts.line_callback = [this](std::string_view line) {
      std::lock_guard lock(m_mutex);
      m_lines.emplace_back(line);
    };
    ASSERT_TRUE(init_logging(opts));
  }
  std::vector<Json> captured() {
    std::lock_guard lock(m_mutex);
    std::vector<Json> out;
    for (const auto& l : m_lines) {
      auto j = parse_json(l);
      EXPECT_TRUE(j) << l;
      if (j) out.push_back(*j);
    }
    return out;
  }

  ManualClock m_clock{kTs};
  std::mutex m_mutex;
  std::vector<std::string> m_lines;
};

TEST(LogFormat, LineCarriesReservedKeysFirstThenFields) {
  const std::string line = format_log_line(kTs, LogLevel::info, "bus.router", "routed",
                                           Json{{"capability", "llm.chat"}, {"ms", 12}},
                                           "ed25519:7H4G");
  EXPECT_EQ(line,
            R"({"ts":"2026-05-26T08:14:22.281Z","level":"info","logger":"bus.router",)"
            R"("msg":"routed","node_id":"ed25519:7H4G","capability":"llm.chat","ms":12})");
  auto j = parse_json(line);
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["ms"], 12);
}

TEST(LogFormat, CollidingAndOddFieldsStayOneParseableLine) {
  std::string msg = "two\nlines \"quoted\" and bad utf8 \xff";
  const std::string line = format_log_line(kTs, LogLevel::warning, "x", msg,
                                           Json{{"msg", "mine"}, {"level", 3}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = parse_json(line);
  ASSERT_TRUE(j) << line;
  EXPECT_EQ((*j)["level"], "warning");
  EXPECT_EQ((*j)["_msg"], "mine");
  EXPECT_EQ((*j)["_level"], 3);
  EXPECT_FALSE(j->contains("node_id"));

  auto arr = parse_json(format_log_line(kTs, LogLevel::debug, "x", "m", Json::array({1, 2})));
  ASSERT_TRUE(arr);
  EXPECT_EQ((*arr)["fields"], Json::array({1, 2}));
}

TEST(LogFormat, LevelNamesRoundTrip) {
  for (auto l : {LogLevel::debug, LogLevel::info, LogLevel::warning, LogLevel::error}) {
    EXPECT_EQ(parse_log_level(to_string(l)), l);
  }
  EXPECT_EQ(parse_log_level("warn"), LogLevel::warning);
  EXPECT_FALSE(parse_log_level("loud"));
}

TEST_F(LoggingTest, WritesJsonLinesWithExpectedFields) {
  test::TempDir dir;
  LogOptions opts;
  opts.dir = dir.path() / "logs";
  opts.level = LogLevel::info;
  opts.node_id = "ed25519:7H4G-Y9KL-2P3M-X8QR";
  opts.clock = &m_clock;
  ASSERT_TRUE(init_logging(opts));

  Logger log = get_logger("bus.router");
  log.debug("hidden");  // below the level
  log.info("routed", {{"trace_id", "01HXR0000000000000000000AA"}, {"capability", "llm.chat"}});
  m_clock.advance_ms(5);
  log.warning("peer unreachable", {{"to", "7H4G"}});
  log.error("crash", make_error(ErrorCode::io_error, "disk gone"));
  flush_logging();

  const auto lines = read_lines(opts.dir / "hearthnet.log");
  ASSERT_EQ(lines.size(), 3u);
  std::vector<Json> parsed;
  for (const auto& l : lines) {
    auto j = parse_json(l);
    ASSERT_TRUE(j) << l;
    for (const char* key : {"ts", "level", "logger", "msg", "node_id"}) {  // X03 §3.3
      EXPECT_TRUE(j->contains(key)) << key << " in " << l;
    }
    EXPECT_EQ((*j)["logger"], "bus.router");
    EXPECT_EQ((*j)["node_id"], "ed25519:7H4G-Y9KL-2P3M-X8QR");
    parsed.push_back(*j);
  }
  EXPECT_EQ(parsed[0]["ts"], "2026-05-26T08:14:22.281Z");
  EXPECT_EQ(parsed[0]["level"], "info");
  EXPECT_EQ(parsed[0]["msg"], "routed");
  EXPECT_EQ(parsed[0]["trace_id"], "01HXR0000000000000000000AA");
  EXPECT_EQ(parsed[0]["capability"], "llm.chat");
  EXPECT_EQ(parsed[1]["ts"], "2026-05-26T08:14:22.286Z");
  EXPECT_EQ(parsed[1]["level"], "warning");
  EXPECT_EQ(parsed[2]["level"], "error");
  EXPECT_EQ(parsed[2]["error"], "io_error");
  EXPECT_EQ(parsed[2]["error_message"], "disk gone");
}

TEST_F(LoggingTest, ReconfigureChangesLevelForExistingLoggers) {
  Logger log = get_logger("a");
  capture(LogLevel::error);
  EXPECT_FALSE(log.should_log(LogLevel::warning));
  log.warning("dropped");
  capture(LogLevel::debug);
  EXPECT_TRUE(log.should_log(LogLevel::debug));
  log.debug("kept");
  auto lines = captured();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["msg"], "kept");
  EXPECT_EQ(current_log_level(), LogLevel::debug);
}

TEST_F(LoggingTest, RotatesBySizeAndReaderReturnsNewestInOrder) {
  test::TempDir dir;
  LogOptions opts;
  opts.dir = dir.path();
  opts.max_file_bytes = 2048;
  opts.max_files = 3;
  opts.clock = &m_clock;
  ASSERT_TRUE(init_logging(opts));
  Logger log = get_logger("blobs");
  for (int i = 0; i < 200; ++i) log.info("stored chunk", {{"i", i}, {"pad", std::string(40, 'x')}});
  flush_logging();

  // Size rotations within one day: <stem>.<day>.<N><ext>, the newest max_files kept.
  EXPECT_TRUE(fs::exists(dir.path() / "hearthnet.log"));
  EXPECT_FALSE(fs::exists(dir.path() / "hearthnet.2026-05-26.1.log"));  // pruned (max_files)
  const auto files = list_log_files(dir.path());
  ASSERT_EQ(files.size(), 4u);
  EXPECT_TRUE(files.front().filename().string().starts_with("hearthnet.2026-05-26.")) << files.front();
  EXPECT_EQ(files.back().filename(), "hearthnet.log");
  for (const auto& f : files) {
    EXPECT_LE(fs::file_size(f), 2048u) << f;
    for (const auto& l : read_lines(f)) EXPECT_TRUE(parse_json(l)) << l;
  }

  auto entries = read_log_lines(dir.path(), LogFilter{}, 10);
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 10u);
  for (std::size_t k = 0; k < 10; ++k) {
    EXPECT_EQ((*entries)[k].fields["i"], 190 + static_cast<int>(k));
    EXPECT_EQ((*entries)[k].component, "blobs");
  }
}

// X03 §3.3: files rotate daily at midnight UTC and LOG_RETENTION_DAYS are kept; the day
// comes from the injected clock.
TEST_F(LoggingTest, RotatesAtUtcMidnightAndKeepsRetentionDays) {
  test::TempDir dir;
  ManualClock clock(1'779'839'999'000);  // 2026-05-26T23:59:59Z
  LogOptions opts;
  opts.dir = dir.path();
  opts.retention_days = 2;
  opts.clock = &clock;
  ASSERT_TRUE(init_logging(opts));
  Logger log = get_logger("node");
  log.info("before midnight");
  clock.advance_ms(2000);  // 2026-05-27T00:00:01Z
  log.info("after midnight");
  flush_logging();
  const auto first = read_lines(dir.path() / "hearthnet.2026-05-26.1.log");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_NE(first[0].find("before midnight"), std::string::npos);
  const auto current = read_lines(dir.path() / "hearthnet.log");
  ASSERT_EQ(current.size(), 1u);
  EXPECT_NE(current[0].find("after midnight"), std::string::npos);

  // Three more days: the files of days before today − retention_days are deleted.
  for (int day = 0; day < 3; ++day) {
    clock.advance_ms(24LL * 60 * 60 * 1000);
    log.info("next day", {{"day", day}});
  }
  flush_logging();  // now 2026-05-30
  EXPECT_FALSE(fs::exists(dir.path() / "hearthnet.2026-05-26.1.log"));
  EXPECT_FALSE(fs::exists(dir.path() / "hearthnet.2026-05-27.1.log"));
  EXPECT_TRUE(fs::exists(dir.path() / "hearthnet.2026-05-28.1.log"));
  EXPECT_TRUE(fs::exists(dir.path() / "hearthnet.2026-05-29.1.log"));
  const auto files = list_log_files(dir.path());
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].filename(), "hearthnet.2026-05-28.1.log");
  EXPECT_EQ(files[2].filename(), "hearthnet.log");
  auto entries = read_log_lines(dir.path(), LogFilter{}, 10);
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[2].fields["day"], 2);
  EXPECT_EQ((*entries)[2].component, "node");
}

TEST_F(LoggingTest, ReaderFiltersByLevelAndComponentAndSkipsGarbage) {
  test::TempDir dir;
  LogOptions opts;
  opts.dir = dir.path();
  opts.level = LogLevel::debug;
  opts.clock = &m_clock;
  ASSERT_TRUE(init_logging(opts));
  get_logger("bus").info("a");
  get_logger("bus.router").warning("b");
  get_logger("busy").error("c");
  get_logger("events").error("d");
  shutdown_logging();
  {
    std::ofstream out(dir.path() / "hearthnet.log", std::ios::app);
    out << "not json\n{\"ts\":1}\n{\"ts\":\"x\",\"level\":\"loud\",\"component\":\"bus\",\"msg\":\"m\"}\n";
  }

  auto bus = read_log_lines(dir.path(), LogFilter{std::nullopt, "bus"});
  ASSERT_TRUE(bus);
  ASSERT_EQ(bus->size(), 2u);
  EXPECT_EQ((*bus)[0].msg, "a");
  EXPECT_EQ((*bus)[1].msg, "b");

  auto errors = read_log_lines(dir.path(), LogFilter{LogLevel::warning, std::nullopt});
  ASSERT_TRUE(errors);
  ASSERT_EQ(errors->size(), 3u);
  EXPECT_EQ((*errors)[0].level, LogLevel::warning);

  EXPECT_FALSE(parse_log_line("[1]"));
  test::TempDir empty;
  auto none = read_log_lines(empty.path(), LogFilter{});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::not_found);
}

TEST_F(LoggingTest, InitFailsWhenDirectoryIsAFile) {
  test::TempDir dir;
  { std::ofstream(dir.path() / "file") << "x"; }
  LogOptions opts;
  opts.dir = dir.path() / "file";
  EXPECT_FALSE(init_logging(opts));
}

TEST_F(LoggingTest, RateLimiterSuppressesAndReportsWhenWindowReopens) {
  capture();
  ManualClock clock(kTs);
  RateLimitedLogger rl(get_logger("transport"), clock);  // 1 per second per key

  EXPECT_TRUE(rl.warning("peer unreachable", "peer:A", {{"peer", "A"}}));
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(rl.warning("peer unreachable", "peer:A"));
  EXPECT_TRUE(rl.warning("peer unreachable", "peer:B"));  // keys are independent
  EXPECT_EQ(rl.pending_suppressed("peer:A"), 4u);

  clock.advance_ms(999);
  EXPECT_FALSE(rl.warning("peer unreachable", "peer:A"));
  clock.advance_ms(1);
  EXPECT_TRUE(rl.warning("peer unreachable", "peer:A", {{"peer", "A"}}));
  EXPECT_EQ(rl.pending_suppressed("peer:A"), 0u);
  clock.advance_ms(1000);
  EXPECT_TRUE(rl.warning("peer unreachable", "peer:A"));

  auto lines = captured();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["msg"], "peer unreachable");
  EXPECT_FALSE(lines[0].contains("suppressed"));
  EXPECT_EQ(lines[1]["msg"], "peer unreachable");  // peer:B
  EXPECT_EQ(lines[2]["msg"], "peer unreachable (suppressed 5)");
  EXPECT_EQ(lines[2]["suppressed"], 5);
  EXPECT_EQ(lines[2]["peer"], "A");
  EXPECT_EQ(lines[3]["msg"], "peer unreachable");
}

TEST_F(LoggingTest, RateLimiterAllowsNPerInterval) {
  capture();
  ManualClock clock(kTs);
  RateLimitedLogger rl(get_logger("bus"), clock, 3, 10'000);
  int emitted = 0;
  for (int i = 0; i < 10; ++i) emitted += rl.info("call", "k") ? 1 : 0;
  EXPECT_EQ(emitted, 3);
  clock.advance_seconds(10);
  EXPECT_TRUE(rl.info("call", "k"));
  auto lines = captured();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3]["msg"], "call (suppressed 7)");
}

}  // namespace
}  // namespace hn::observability
