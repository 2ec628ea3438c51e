// detector.cpp — the probe loop of M09 §3.2 on Asio coroutines.
#include "emergency/detector.h"

#include <cmath>
#include <limits>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "emergency/probes.h"
#include "emergency/transitions.h"
#include "observability/logging.h"

namespace hn::emergency {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

observability::Logger& detector_log() {
  static observability::Logger logger = observability::get_logger("emergency");
  return logger;
}

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One round's probes, completed by whichever probe finishes last.
struct Round {
  explicit Round(asio::any_io_executor ex, std::size_t n) : done(ex), results(n), remaining(n) {}
  asio::steady_timer done;
  std::vector<ProbeOutcome> results;
  std::size_t remaining;
};

}  // namespace

struct Detector::Loop : std::enable_shared_from_this<Loop> {
  Loop(asio::any_io_executor ex, config::EmergencyConfig c, std::vector<ProbeTarget> t,
       StateBus& s, const Clock& clk)
      : executor(ex),
        cfg(std::move(c)),
        targets(std::move(t)),
        state(s),
        clock(clk),
        machine(Timings::from(cfg), s.mode()),
        timer(ex),
        tls(make_probe_tls(cfg.probe_tls_verify)) {
    for (const auto& target : targets) {
      if (target.kind == ProbeTarget::Kind::https) {
        anchor = target;
        break;
      }
    }
  }

  std::chrono::milliseconds timeout() const { return std::chrono::seconds(cfg.probe_timeout_seconds); }

  asio::awaitable<std::vector<ProbeOutcome>> async_round() {
    auto round = std::make_shared<Round>(executor, targets.size());
    // A safety net only: every probe ends within its own timeout.
    round->done.expires_after(timeout() + std::chrono::seconds(1));
    for (std::size_t i = 0; i < targets.size(); ++i) {
      asio::co_spawn(
          executor,
          [round, i, target = targets[i], name = cfg.probe_dns_name, tls = tls,
           verify = cfg.probe_tls_verify, t = timeout()]() -> asio::awaitable<void> {
            round->results[i] = co_await async_probe(target, name, tls, verify, t);
            if (--round->remaining == 0) round->done.cancel();
          },
          asio::detached);
    }
    if (round->remaining > 0) {
      error_code ec;
      co_await round->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return round->results;
  }

  void apply(const std::vector<ProbeOutcome>& results) {
    std::size_t failed = 0;
    std::vector<ProbeResult> probe_results;
    for (std::size_t i = 0; i < targets.size(); ++i) {
      const auto& r = results[i];
      if (!r.ok) ++failed;
      probe_results.push_back({targets[i].text, r.ok, r.ok ? "" : (r.error.empty() ? "no answer" : r.error), r.ms});
    }
    const Verdict verdict = classify(targets.size(), failed);
    const Mode before = machine.mode();
    const auto change = machine.observe(verdict, steady_ms());
    const std::int64_t now = clock.now_ms();
    if (!change) {
      state.update([&](EmergencyState& s) {
        s.last_probe_ms = now;
        s.probe_results = probe_results;
        s.flap_hold = machine.held();
      });
      if (machine.held()) {
        detector_log().info("flap guard holds the mode",
                            Json{{"mode", std::string(to_string(before))}, {"failed", failed}});
      }
      return;
    }
    EmergencyState next = state.current();
    next.mode = *change;
    next.since_ms = now;
    next.last_probe_ms = now;
    next.probe_results = std::move(probe_results);
    next.flap_hold = false;
    if (*change == Mode::online) {
      online_since = steady_ms();
      clock_checked = false;
    }
    Json failures = Json::array();
    for (const auto& p : next.probe_results) {
      if (!p.ok) failures.push_back(p.target + ": " + p.error);
    }
    detector_log().info("emergency mode changed",
                        Json{{"from", std::string(to_string(before))},
                             {"to", std::string(to_string(*change))},
                             {"failed", failed},
                             {"total", targets.size()},
                             {"failures", failures}});
    state.publish(std::move(next));
  }

  asio::awaitable<void> async_check_clock() {
    if (!anchor) {
      clock_checked = true;
      co_return;
    }
    auto r = co_await async_probe(*anchor, cfg.probe_dns_name, tls, cfg.probe_tls_verify, timeout());
    if (stopped || !r.ok || !r.date_ms) co_return;  // tried again after the next round
    clock_checked = true;
    const std::int64_t now = clock.now_ms();
    // Our clock minus theirs, to the second (the header has one-second resolution).
    const auto skew = static_cast<std::int64_t>(std::llround(static_cast<double>(now - *r.date_ms) / 1000.0));
    ClockCheck check{anchor->text, skew, now, std::llabs(skew) > cfg.clock_skew_warn_seconds};
    if (check.skewed) {
      detector_log().warning("system clock differs from the time anchor",
                             Json{{"anchor", anchor->text},
                                  {"skew_seconds", skew},
                                  {"threshold_seconds", cfg.clock_skew_warn_seconds}});
    }
    state.update([&](EmergencyState& s) { s.clock = check; });
  }

  static asio::awaitable<void> async_run(std::shared_ptr<Loop> self) {
    while (!self->stopped) {
      auto results = co_await self->async_round();
      if (self->stopped) break;
      self->apply(results);
      const bool online = self->machine.mode() == Mode::online;
      if (online && !self->clock_checked &&
          steady_ms() - self->online_since >= self->cfg.clock_check_after_seconds * 1000) {
        co_await self->async_check_clock();
        if (self->stopped) break;
      }
      self->timer.expires_after(std::chrono::seconds(
          online ? self->cfg.probe_interval_online_seconds : self->cfg.probe_interval_offline_seconds));
      error_code ec;
      co_await self->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  asio::any_io_executor executor;
  config::EmergencyConfig cfg;
  std::vector<ProbeTarget> targets;
  StateBus& state;
  const Clock& clock;
  ModeMachine machine;
  asio::steady_timer timer;
  std::shared_ptr<asio::ssl::context> tls;
  std::optional<ProbeTarget> anchor;  // M09 §5.5 time anchor: the first https target
  std::int64_t online_since = steady_ms();
  bool clock_checked = false;
  bool stopped = false;
};

Detector::Detector(asio::any_io_executor executor, config::EmergencyConfig config,
                   std::vector<ProbeTarget> targets, StateBus& state, const Clock& clock)
    : m_loop(std::make_shared<Loop>(executor, std::move(config), std::move(targets), state, clock)) {}

Detector::~Detector() { shutdown(); }

void Detector::start() {
  detector_log().info("emergency detector started",
                      Json{{"targets", m_loop->targets.size()},
                           {"interval_online_s", m_loop->cfg.probe_interval_online_seconds},
                           {"interval_offline_s", m_loop->cfg.probe_interval_offline_seconds}});
  asio::co_spawn(m_loop->executor, Loop::async_run(m_loop), asio::detached);
}

void Detector::shutdown() {
  if (m_loop->stopped) return;
  m_loop->stopped = true;
  m_loop->timer.cancel();
}

}  // namespace hn::emergency
