// doctor_test.cpp — X03 §6: check registry, reports, generic standard checks.
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "observability/doctor.h"
#include "observability/doctor_checks.h"
#include "support/test_support.h"

namespace hn::observability {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kNow = 1'779'783'262'000;  // 2026-05-26

TEST(Doctor, RunsChecksInOrderAndUnknownIsNotFound) {
  Doctor d;
  ASSERT_TRUE(d.register_check({"first", [] { return check_ok("fine"); }}));
  ASSERT_TRUE(d.register_check({"second", [] { return check_warn("meh", "do x"); }}));
  ASSERT_TRUE(d.register_check({"third", [] { return check_fail("broken", "do y"); }}));
  auto all = d.run_all();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].name, "first");
  EXPECT_EQ(all[0].status, CheckStatus::ok);
  EXPECT_EQ(all[1].name, "second");
  EXPECT_EQ(all[1].status, CheckStatus::warn);
  EXPECT_TRUE(all[1].ok());  // a warning does not fail the doctor
  EXPECT_EQ(all[2].status, CheckStatus::fail);
  EXPECT_EQ(all[2].fix, "do y");
  EXPECT_EQ(doctor_exit_code(all), 1);
  EXPECT_EQ(doctor_exit_code({all[0], all[1]}), 0);

  auto one = d.run_one("second");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->message, "meh");
  auto missing = d.run_one("nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  EXPECT_EQ(d.check_names(), (std::vector<std::string>{"first", "second", "third"}));
}

TEST(Doctor, ReRegisterReplacesInPlaceAndBadChecksRejected) {
  Doctor d;
  ASSERT_TRUE(d.register_check({"a", [] { return check_fail("old"); }}));
  ASSERT_TRUE(d.register_check({"b", [] { return check_ok("b"); }}));
  ASSERT_TRUE(d.register_check({"a", [] { return check_ok("new"); }}));
  auto all = d.run_all();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].message, "new");
  EXPECT_FALSE(d.register_check({"", [] { return check_ok(""); }}));
  EXPECT_FALSE(d.register_check({"x", nullptr}));
}

TEST(Doctor, ThrowingCheckBecomesFailure) {
  Doctor d;
  ASSERT_TRUE(d.register_check({"boom", []() -> CheckResult { throw std::runtime_error("bad"); }}));
  auto r = d.run_one("boom");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, CheckStatus::fail);
  EXPECT_EQ(r->name, "boom");
  EXPECT_NE(r->message.find("bad"), std::string::npos);
}

TEST(Doctor, StatusCheckAdapter) {
  Doctor d;
  ASSERT_TRUE(d.register_check(make_status_check(
      "keys_loadable", [] { return Status{}; }, "Ed25519, 32 bytes", std::nullopt)));
  ASSERT_TRUE(d.register_check(make_status_check(
      "event_log_writable",
      [] { return Status(make_error(ErrorCode::storage_error, "database is locked")); },
      "unused", "stop the other node")));
  auto all = d.run_all();
  EXPECT_EQ(all[0].status, CheckStatus::ok);
  EXPECT_EQ(all[0].message, "Ed25519, 32 bytes");
  EXPECT_EQ(all[1].status, CheckStatus::fail);
  EXPECT_NE(all[1].message.find("database is locked"), std::string::npos);
  EXPECT_EQ(all[1].fix, "stop the other node");
}

TEST(Doctor, TextAndJsonReports) {
  std::vector<CheckResult> results = {
      CheckResult{"keys_present", CheckStatus::ok, "/k/device.ed25519", std::nullopt},
      CheckResult{"mdns_socket", CheckStatus::fail, "Port 5353 in use",
                  "sudo systemctl stop avahi-daemon"},
  };
  const std::string text = render_doctor_text(results);
  EXPECT_EQ(text,
            "\u2714  keys_present          /k/device.ed25519\n"
            "\u2718  mdns_socket           Port 5353 in use\n"
            "     \u2192 fix: sudo systemctl stop avahi-daemon\n");
  EXPECT_NE(render_doctor_text(results, true).find("\x1b[31m"), std::string::npos);

  Json j = render_doctor_json(results);
  EXPECT_EQ(j["ok"], false);
  ASSERT_EQ(j["checks"].size(), 2u);
  EXPECT_EQ(j["checks"][0]["status"], "ok");
  EXPECT_FALSE(j["checks"][0].contains("fix"));
  EXPECT_EQ(j["checks"][1]["fix"], "sudo systemctl stop avahi-daemon");
}

TEST(DoctorChecks, DiskSpaceOutcomes) {
  test::TempDir dir;
  auto free = free_disk_bytes(dir.path());
  ASSERT_TRUE(free);
  EXPECT_GT(*free, 0u);

  auto ok = run_check(make_disk_space_check(dir.path(), {0, 0}));
  EXPECT_EQ(ok.name, "disk_space");
  EXPECT_EQ(ok.status, CheckStatus::ok) << ok.message;

  const std::uint64_t huge = ~0ull;
  auto warn = run_check(make_disk_space_check(dir.path(), {huge, 0}));
  EXPECT_EQ(warn.status, CheckStatus::warn) << warn.message;

  auto fail = run_check(make_disk_space_check(dir.path(), {huge, huge}));
  EXPECT_EQ(fail.status, CheckStatus::fail) << fail.message;
  EXPECT_TRUE(fail.fix);

  auto missing = run_check(make_disk_space_check(dir.path() / "nope"));
  EXPECT_EQ(missing.status, CheckStatus::fail);
  EXPECT_FALSE(free_disk_bytes(dir.path() / "nope"));
}

TEST(DoctorChecks, ClockSanityOutcomes) {
  ManualClock now(kNow);
  auto ok = run_check(make_clock_sanity_check(now));
  EXPECT_EQ(ok.name, "clock_sanity");
  EXPECT_EQ(ok.status, CheckStatus::ok) << ok.message;

  ManualClock y1999(915'148'800'000);  // 1999-01-01
  auto past = run_check(make_clock_sanity_check(y1999));
  EXPECT_EQ(past.status, CheckStatus::fail);
  EXPECT_NE(past.message.find("1999-01-01"), std::string::npos) << past.message;
  EXPECT_TRUE(past.fix);

  ManualClock far(5'000'000'000'000);  // 2128
  EXPECT_EQ(run_check(make_clock_sanity_check(far)).status, CheckStatus::fail);

  ClockSanityOptions anchored;
  anchored.anchor_ms = [] { return std::optional<std::int64_t>(kNow + 120'000); };
  EXPECT_EQ(run_check(make_clock_sanity_check(now, anchored)).status, CheckStatus::fail);
  anchored.anchor_ms = [] { return std::optional<std::int64_t>(kNow - 30'000); };
  EXPECT_EQ(run_check(make_clock_sanity_check(now, anchored)).status, CheckStatus::ok);
  anchored.anchor_ms = [] { return std::optional<std::int64_t>(); };  // offline
  EXPECT_EQ(run_check(make_clock_sanity_check(now, anchored)).status, CheckStatus::ok);
}

TEST(DoctorChecks, RecentErrorRate) {
  TraceRing ring(1000);
  auto check = make_recent_error_rate_check(ring);
  EXPECT_EQ(run_check(check).status, CheckStatus::ok);  // no traces yet
  for (int i = 0; i < 100; ++i) {
    Trace t;
    t.trace_id = std::to_string(i);
    t.result = i < 19 ? "timeout" : "ok";
    ring.record(t);
  }
  EXPECT_EQ(run_check(check).status, CheckStatus::ok);  // 19%
  for (int i = 0; i < 20; ++i) {
    Trace t;
    t.result = "internal_error";
    ring.record(t);
  }
  auto r = run_check(check);
  EXPECT_EQ(r.status, CheckStatus::fail);  // last 100: 20 new errors, old ones aged out = 20%
  EXPECT_EQ(r.name, "recent_error_rate");
}

TEST(DoctorChecks, FileCheckForKeysPresent) {
  test::TempDir dir;
  const fs::path key = dir.path() / "device.ed25519";
  auto check = make_file_check("keys_present", key, fs::perms(0600), "hearthnet init");
  auto missing = run_check(check);
  EXPECT_EQ(missing.status, CheckStatus::fail);
  EXPECT_EQ(missing.fix, "hearthnet init");

  { std::ofstream(key) << "seed"; }
  fs::permissions(key, fs::perms(0644));
  auto loose = run_check(check);
  EXPECT_EQ(loose.status, CheckStatus::fail);
  EXPECT_NE(loose.message.find("0644"), std::string::npos) << loose.message;
  EXPECT_EQ(loose.fix, "chmod 600 " + key.string());

  fs::permissions(key, fs::perms(0600));
  EXPECT_EQ(run_check(check).status, CheckStatus::ok);
  EXPECT_EQ(run_check(make_file_check("community_present", dir.path(), std::nullopt, std::nullopt))
                .status,
            CheckStatus::fail);  // a directory is not a file
}

}  // namespace
}  // namespace hn::observability
