// events_test_util.h — shared helpers for the events suites: keys, a community id, a
// fixed clock and a fresh log in a temp dir.
#pragma once

#include <memory>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "events/event_log.h"
#include "identity/keys.h"
#include "support/test_support.h"

namespace hn::events::test {

inline identity::KeyPair key_from_byte(std::uint8_t b) {
  identity::Seed seed{};
  seed.fill(b);
  return identity::KeyPair::from_seed(seed).value();
}

// A signed event authored by keys, as a peer would send it.
inline Event make_signed(const identity::KeyPair& keys, const CommunityId& community, EventType type,
                         Lamport lamport, Json data, std::string event_id = "") {
  static UlidGenerator ulids;
  Event e;
  e.event_id = EventId(event_id.empty() ? ulids.next() : std::move(event_id));
  e.lamport = lamport;
  e.wall_clock = "2026-05-26T08:14:22Z";
  e.community_id = community;
  e.author = keys.node_id();
  e.event_type = type;
  e.data = data.is_null() ? Json::object() : std::move(data);
  EXPECT_TRUE(sign_event(e, keys).has_value());
  return e;
}

class LogFixture : public ::testing::Test {
 protected:
  LogFixture() : keys(key_from_byte(1)), peer(key_from_byte(2)), community(keys.node_id().str()) {}

  std::unique_ptr<EventLog> open_log(EventLogOptions options = {}) {
    options.clock = &clock;
    auto log = EventLog::open(dir / "events.db", community, keys, options);
    EXPECT_TRUE(log.has_value()) << (log ? "" : log.error().to_string());
    return log ? std::move(*log) : nullptr;
  }

  hn::test::TempDir dir;
  ManualClock clock;
  identity::KeyPair keys;
  identity::KeyPair peer;
  CommunityId community;
};

}  // namespace hn::events::test
