// probes_test.cpp — the probe primitives against real loopback servers (a UDP resolver and
// an HTTPS server this test starts and stops), and the Detector loop driving a StateBus
// through online → degraded → offline → online with short config timings, plus the clock
// check against a skewed `Date`.
#include "emergency/probes.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <future>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "emergency/detector.h"
#include "support/probe_servers.h"
#include "support/test_support.h"

namespace hn::emergency {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

ProbeOutcome run_probe(const std::string& target_text, std::chrono::milliseconds timeout = 2000ms) {
  asio::io_context io;
  auto target = parse_probe_target(target_text);
  EXPECT_TRUE(target.has_value());
  auto fut = asio::co_spawn(io, async_probe(*target, "cloudflare.com", make_probe_tls(false), false, timeout),
                            asio::use_future);
  io.run();
  return fut.get();
}

TEST(Probes, DnsAnsweredRefusedAndSilent) {
  test::DnsResponder dns;
  ASSERT_TRUE(dns.start());
  auto ok = run_probe(dns.target());
  EXPECT_TRUE(ok.ok) << ok.error;
  EXPECT_EQ(dns.queries(), 1);
  const auto port = dns.port();
  dns.stop();
  // Nothing listens: the ICMP error ends the probe well before its timeout.
  auto refused = run_probe("127.0.0.1:" + std::to_string(port), 5000ms);
  EXPECT_FALSE(refused.ok);
  EXPECT_LT(refused.ms, 4000);
  // A socket that reads and never answers: the timeout ends it.
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto silent = run_probe("127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), 300ms);
  ::close(fd);
  EXPECT_FALSE(silent.ok);
  EXPECT_NE(silent.error.find("no answer within 300 ms"), std::string::npos) << silent.error;
}

TEST(Probes, HttpsHeadReadsTheDateAndFailsWhenTheServerIsGone) {
  test::HttpsResponder web(3600);
  ASSERT_TRUE(web.start());
  auto ok = run_probe(web.target());
  ASSERT_TRUE(ok.ok) << ok.error;
  ASSERT_TRUE(ok.date_ms.has_value());
  const auto skew = (*ok.date_ms - SystemClock::instance().now_ms()) / 1000;
  EXPECT_NEAR(static_cast<double>(skew), 3600.0, 2.0);
  EXPECT_EQ(web.requests(), 1);
  web.stop();
  auto gone = run_probe(web.target());
  EXPECT_FALSE(gone.ok);
  EXPECT_NE(gone.error.find("connect"), std::string::npos) << gone.error;
  // A self-signed server fails a verifying probe.
  ASSERT_TRUE(web.start());
  asio::io_context io;
  auto fut = asio::co_spawn(
      io, async_probe_https(*parse_probe_target(web.target()), make_probe_tls(true), true, 2000ms),
      asio::use_future);
  io.run();
  auto verified = fut.get();
  EXPECT_FALSE(verified.ok);
  EXPECT_NE(verified.error.find("TLS handshake"), std::string::npos) << verified.error;
}

TEST(Probes, HttpDates) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777000);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(parse_http_date("garbage"), std::nullopt);
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT trailing"), std::nullopt);
}

// A detector on its own io thread, observed through its StateBus.
class DetectorRun {
 public:
  DetectorRun(config::EmergencyConfig cfg, StateBus& state) {
    auto targets = parse_probe_targets(cfg.probe_targets);
    EXPECT_TRUE(targets.has_value());
    m_detector = std::make_unique<Detector>(m_io.get_executor(), cfg, *targets, state,
                                            SystemClock::instance());
    m_detector->start();
    m_thread = std::thread([this] { m_io.run(); });
  }
  ~DetectorRun() {
    asio::post(m_io, [this] { m_detector->shutdown(); });
    m_work.reset();
    m_io.stop();
    m_thread.join();
  }

 private:
  asio::io_context m_io{1};
  asio::executor_work_guard<asio::io_context::executor_type> m_work{m_io.get_executor()};
  std::unique_ptr<Detector> m_detector;
  std::thread m_thread;
};

TEST(Detector, FollowsTheProbeServersThroughEveryMode) {
  test::DnsResponder dns;
  test::HttpsResponder web(-7200);  // their clock two hours behind ours
  ASSERT_TRUE(dns.start());
  ASSERT_TRUE(web.start());
  config::EmergencyConfig cfg;
  cfg.probe_targets = {dns.target(), web.target()};
  cfg.probe_tls_verify = false;
  cfg.probe_interval_online_seconds = 1;
  cfg.probe_interval_offline_seconds = 1;
  cfg.probe_timeout_seconds = 1;
  cfg.debounce_seconds = 3;
  cfg.recovery_seconds = 2;
  cfg.clock_check_after_seconds = 0;
  StateBus state(EmergencyState{Mode::online, SystemClock::instance().now_ms()});
  std::mutex mutex;
  std::vector<Mode> changes;
  state.subscribe([&](const EmergencyState& s, Mode) {
    std::lock_guard lock(mutex);
    changes.push_back(s.mode);
  });
  auto changes_now = [&] {
    std::lock_guard lock(mutex);
    return changes;
  };
  DetectorRun run(cfg, state);

  // Online: both answer; the clock check finds the skew.
  ASSERT_TRUE(test::eventually([&] { return state.current().clock.has_value(); }, 10));
  EXPECT_EQ(state.mode(), Mode::online);
  EXPECT_TRUE(state.current().clock->skewed);
  EXPECT_NEAR(static_cast<double>(state.current().clock->skew_seconds), 7200.0, 2.0);
  EXPECT_EQ(state.current().probe_results.size(), 2u);

  // With two targets one failure is `partial`: degraded at once, and it stays degraded.
  dns.stop();
  ASSERT_TRUE(test::eventually([&] { return state.mode() == Mode::degraded; }, 10));
  std::this_thread::sleep_for(4s);
  EXPECT_EQ(state.mode(), Mode::degraded);
  EXPECT_FALSE(state.current().probe_results[0].ok);

  // Both down: offline only after the 3 s debounce.
  const auto both_down = std::chrono::steady_clock::now();
  web.stop();
  ASSERT_TRUE(test::eventually([&] { return state.mode() == Mode::offline; }, 15));
  EXPECT_GE(std::chrono::steady_clock::now() - both_down, 3s);

  // Both back: online after the 2 s recovery.
  ASSERT_TRUE(dns.start());
  ASSERT_TRUE(web.start());
  ASSERT_TRUE(test::eventually([&] { return state.mode() == Mode::online; }, 15));
  EXPECT_EQ(changes_now(), (std::vector<Mode>{Mode::degraded, Mode::offline, Mode::online}));
}

}  // namespace
}  // namespace hn::emergency
