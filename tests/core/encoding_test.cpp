// encoding_test.cpp — base64url (no padding), hex, base32, RFC 3339, ULID, error mapping.
#include "core/encoding.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "core/error.h"
#include "core/time.h"
#include "core/types.h"
#include "core/ulid.h"

namespace hn {
namespace {

TEST(Base64Url, Rfc4648VectorsWithoutPadding) {
  const std::pair<std::string, std::string> v[] = {
      {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, enc] : v) {
    EXPECT_EQ(base64url_encode(as_bytes(plain)), enc);
    auto dec = base64url_decode(enc);
    ASSERT_TRUE(dec.has_value());
    EXPECT_EQ(std::string(dec->begin(), dec->end()), plain);
  }
  Bytes b = {0xfb, 0xff};
  EXPECT_EQ(base64url_encode(b), "-_8");
}

TEST(Base64Url, RejectsPaddingForeignCharsAndDanglingBits) {
  EXPECT_FALSE(base64url_decode("Zg==").has_value());
  EXPECT_FALSE(base64url_decode("Zm9v+/").has_value());
  EXPECT_FALSE(base64url_decode("Z").has_value());
  EXPECT_FALSE(base64url_decode("Zh").has_value());  // non-zero leftover bits
}

TEST(Hex, RoundTripAndRejects) {
  Bytes b = {0x00, 0xab, 0xff};
  EXPECT_EQ(hex_encode(b), "00abff");
  EXPECT_EQ(*hex_decode("00ABff"), b);
  EXPECT_FALSE(hex_decode("0").has_value());
  EXPECT_FALSE(hex_decode("zz").has_value());
}

TEST(Base32, Rfc4648Vectors) {
  EXPECT_EQ(base32_encode(as_bytes("foobar")), "MZXW6YTBOI");
  EXPECT_EQ(base32_encode(as_bytes("f")), "MY");
}

TEST(Rfc3339, FormatAndParse) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(1779783262), "2026-05-26T08:14:22Z");
  EXPECT_EQ(*parse_rfc3339("2026-05-26T08:14:22Z"), 1779783262);
  EXPECT_EQ(*parse_rfc3339_ms("2026-05-26T08:14:22.281Z"), 1779783262281);
  EXPECT_EQ(format_rfc3339_ms(1779783262281), "2026-05-26T08:14:22.281Z");
  EXPECT_FALSE(parse_rfc3339("2026-05-26T08:14:22+02:00").has_value());
  EXPECT_FALSE(parse_rfc3339("2026-02-30T00:00:00Z").has_value());
  EXPECT_FALSE(parse_rfc3339("garbage").has_value());
}

TEST(Ulid, WellFormedAndMonotonicWithinAMillisecond) {
  ManualClock clock;
  UlidGenerator gen(clock);
  std::string prev = gen.next();
  EXPECT_TRUE(is_valid_ulid(prev));
  EXPECT_EQ(*ulid_timestamp_ms(prev), clock.now_ms());
  for (int i = 0; i < 1000; ++i) {
    std::string next = gen.next();  // same millisecond
    EXPECT_LT(prev, next);
    prev = next;
  }
  clock.advance_ms(1);
  EXPECT_LT(prev, gen.next());
}

TEST(Ulid, UniqueAcrossThreads) {
  std::set<std::string> all;
  std::mutex m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        auto id = new_ulid();
        std::lock_guard lock(m);
        all.insert(id);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(all.size(), 4000u);
}

// Two generators on the same millisecond draw different random parts, also in a child
// forked after the parent drew (the keystream is re-keyed after fork), and across threads.
TEST(Ulid, RandomPartsDifferAcrossGeneratorsThreadsAndFork) {
  ManualClock clock;
  auto random_part = [&] {
    UlidGenerator gen(clock);
    return gen.next().substr(10);
  };
  const std::string parent_first = random_part();
  EXPECT_NE(parent_first, random_part());
  std::string from_thread;
  std::thread([&] { from_thread = random_part(); }).join();
  EXPECT_NE(parent_first, from_thread);

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string mine = random_part();
    (void)!::write(fds[1], mine.data(), mine.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  char buf[64] = {};
  const auto n = ::read(fds[0], buf, sizeof buf);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  const std::string child_part(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  ASSERT_EQ(child_part.size(), 16u);
  EXPECT_NE(child_part, random_part());  // the parent's next draw
  EXPECT_NE(child_part, parent_first);
}

TEST(Errors, WireCodesAndHttpStatuses) {
  EXPECT_EQ(to_string(ErrorCode::rate_limited), "rate_limited");
  EXPECT_EQ(http_status(ErrorCode::invalid_signature), 401);
  EXPECT_EQ(http_status(ErrorCode::revoked), 403);
  EXPECT_EQ(http_status(ErrorCode::expired), 410);
  EXPECT_EQ(http_status(ErrorCode::capacity_exceeded), 429);
  EXPECT_EQ(http_status(ErrorCode::partition), 503);
  EXPECT_EQ(to_wire_code(ErrorCode::hash_mismatch), ErrorCode::bad_request);
  EXPECT_EQ(to_wire_code(ErrorCode::disk_full), ErrorCode::capacity_exceeded);
  EXPECT_EQ(to_wire_code(ErrorCode::quarantined), ErrorCode::partition);
  EXPECT_EQ(*error_code_from_string("timeout"), ErrorCode::timeout);
  EXPECT_FALSE(error_code_from_string("nope").has_value());
  Error e(ErrorCode::rate_limited, "slow down");
  e.retry_after_ms = 2000;
  auto j = e.to_json();
  EXPECT_EQ(j["error"], "rate_limited");
  EXPECT_EQ(j["retry_after_ms"], 2000);
}

Result<int> half(int x) {
  if (x % 2) return make_error(ErrorCode::bad_request, "odd");
  return x / 2;
}
Result<int> quarter(int x) {
  HN_TRY_ASSIGN(int h, half(x));
  HN_TRY_ASSIGN(int q, half(h));
  return q;
}

TEST(Errors, TryPropagates) {
  EXPECT_EQ(*quarter(8), 2);
  EXPECT_EQ(quarter(6).error().message, "odd");
}

TEST(Types, VersionAndEnums) {
  EXPECT_EQ(Version::parse("1.0")->to_string(), "1.0");
  EXPECT_FALSE(Version::parse("1").has_value());
  EXPECT_FALSE(Version::parse("1.x").has_value());
  EXPECT_EQ(*parse_profile("spark"), Profile::spark);
  EXPECT_EQ(to_string(TrustLevel::anchor), "anchor");
  EXPECT_FALSE(parse_mode("weird").has_value());
}

}  // namespace
}  // namespace hn
