// registry_test.cpp — local registration rules, manifest sync diffs, lookups and events
// (M03 §3.2).
#include "bus/registry.h"

#include <gtest/gtest.h>

#include "services/diag/diag_echo.h"
#include "fake_invoker.h"

namespace hn::bus {
using services::diag::DiagEchoService;
using services::diag::diag_echo_descriptor;
using services::diag::DIAG_ECHO_CAPABILITY;
using services::diag::DIAG_ECHO_DEFAULT_FRAMES;
namespace {

using test::endpoint_of;
using test::spec_of;

const NodeId SELF("ed25519:self");
const NodeId PEER("ed25519:peer");

LocalCapability echo() { return DiagEchoService(SELF).capabilities().front(); }

TEST(BusRegistry, RegisterLocalValidatesDescriptor) {
  ManualClock clock;
  Registry r(SELF, clock);
  auto bad_schema = echo();
  bad_schema.descriptor.request_schema = Json{{"type", "text"}};
  EXPECT_EQ(r.register_local(bad_schema).error().code, ErrorCode::schema_invalid);
  auto no_stream_handler = echo();
  no_stream_handler.stream_handler = nullptr;
  EXPECT_EQ(r.register_local(no_stream_handler).error().code, ErrorCode::schema_invalid);
  auto zero = echo();
  zero.descriptor.max_concurrent = 0;
  EXPECT_EQ(r.register_local(zero).error().code, ErrorCode::bad_request);
  EXPECT_TRUE(r.all().empty());
  EXPECT_TRUE(r.register_local(echo()));
  ASSERT_EQ(r.all_local().size(), 1u);
  EXPECT_EQ(r.all_local()[0].node_id, SELF);
}

TEST(BusRegistry, RegisterLocalNamespaceViolation) {
  ManualClock clock;
  Registry r(SELF, clock);
  auto cap = echo();
  cap.descriptor.name = "ocr.text";  // reserved (CONTRACT §3.1)
  EXPECT_EQ(r.register_local(cap).error().code, ErrorCode::namespace_violation);
  cap.descriptor.name = "weather.now";  // outside the table: must be experimental.*
  EXPECT_EQ(r.register_local(cap).error().code, ErrorCode::namespace_violation);
  EXPECT_TRUE(r.all().empty());
  cap.descriptor.name = "experimental.weather.now";
  EXPECT_TRUE(r.register_local(cap));
  cap.descriptor.name = "diag.echo";
  EXPECT_EQ(r.register_local(cap, {"market"}).error().code, ErrorCode::namespace_violation);
  EXPECT_TRUE(r.register_local(cap, {"diag"}));
}

TEST(BusRegistry, RegisterIdempotentUpdateAndDeregisterEmitEvents) {
  ManualClock clock;
  Registry r(SELF, clock);
  std::vector<std::string> seen;
  auto id = r.subscribe([&](const RegistryEvent& ev) {
    seen.push_back(std::string(to_string(ev.kind)) + ":" + ev.entry.node_id.str());
  });
  ASSERT_TRUE(r.register_local(echo()));
  ASSERT_TRUE(r.register_local(echo()));  // unchanged: no event
  auto changed = echo();
  changed.descriptor.max_concurrent = 2;
  ASSERT_TRUE(r.register_local(changed));
  ASSERT_TRUE(r.deregister_local("diag.echo", Version{1, 0}));
  EXPECT_EQ(r.deregister_local("diag.echo", Version{1, 0}).error().code, ErrorCode::not_found);
  EXPECT_EQ(seen, (std::vector<std::string>{"added:ed25519:self", "updated:ed25519:self",
                                            "removed:ed25519:self"}));
  r.unsubscribe(id);
  ASSERT_TRUE(r.register_local(echo()));
  EXPECT_EQ(seen.size(), 3u);
}

TEST(BusRegistry, ManifestSyncDiffs) {
  ManualClock clock;
  Registry r(SELF, clock);
  std::vector<RegistryEvent> events;
  r.subscribe([&](const RegistryEvent& ev) { events.push_back(ev); });

  auto d = diag_echo_descriptor();
  auto other = d;
  other.name = "experimental.other";
  auto diff = r.update_from_manifest(PEER, {spec_of(d), spec_of(other)}, endpoint_of(1), TrustLevel::member);
  ASSERT_TRUE(diff);
  EXPECT_EQ(diff->added.size(), 2u);
  EXPECT_EQ(events.size(), 2u);

  // Same manifest again: nothing changes, but last_seen moves.
  clock.advance_seconds(20);
  diff = r.update_from_manifest(PEER, {spec_of(d), spec_of(other)}, endpoint_of(1), TrustLevel::member);
  ASSERT_TRUE(diff);
  EXPECT_TRUE(diff->empty());
  EXPECT_EQ(r.entry({PEER, "diag.echo", Version{1, 0}})->last_seen_ms, clock.now_ms());

  // Drop one, change the other's params.
  auto changed = spec_of(d);
  changed.params = Json{{"x", 1}};
  diff = r.update_from_manifest(PEER, {changed}, endpoint_of(1), TrustLevel::member);
  ASSERT_TRUE(diff);
  EXPECT_EQ(diff->removed.size(), 1u);
  EXPECT_EQ(diff->updated.size(), 1u);
  EXPECT_EQ(diff->removed[0].descriptor.name, "experimental.other");
  EXPECT_EQ(events.size(), 4u);

  EXPECT_EQ(r.remove_node(PEER), 1u);
  EXPECT_TRUE(r.all().empty());
  EXPECT_EQ(events.back().kind, RegistryEventKind::removed);
}

TEST(BusRegistry, ManifestRejectsBadInputWithoutPartialState) {
  ManualClock clock;
  Registry r(SELF, clock);
  auto d = diag_echo_descriptor();
  EXPECT_EQ(r.update_from_manifest(PEER, {spec_of(d), spec_of(d)}, endpoint_of(1), TrustLevel::member)
                .error()
                .code,
            ErrorCode::manifest_invalid);
  EXPECT_TRUE(r.all().empty());
  EXPECT_FALSE(r.update_from_manifest(SELF, {spec_of(d)}, endpoint_of(1), TrustLevel::member));
  auto reserved = spec_of(d);
  reserved.name = "img.gen";
  auto unallocated = spec_of(d);
  unallocated.name = "weather.now";
  auto diff = r.update_from_manifest(PEER, {spec_of(d), reserved, unallocated}, endpoint_of(1),
                                     TrustLevel::member);
  ASSERT_TRUE(diff);
  EXPECT_EQ(diff->added.size(), 1u);
  EXPECT_EQ(diff->rejected.size(), 2u);
  EXPECT_TRUE(r.keys_named("weather.now").empty());
}

TEST(BusRegistry, KeysNamedListsEveryVersionLocalFirst) {
  ManualClock clock;
  Registry r(SELF, clock);
  auto v2 = diag_echo_descriptor();
  v2.version = Version{2, 0};
  ASSERT_TRUE(r.update_from_manifest(PEER, {spec_of(diag_echo_descriptor()), spec_of(v2)},
                                     endpoint_of(1), TrustLevel::member));
  auto local = echo();
  local.descriptor.version = Version{3, 0};
  ASSERT_TRUE(r.register_local(local));
  auto keys = r.keys_named("diag.echo");
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0], (EntryKey{SELF, "diag.echo", Version{3, 0}}));
  EXPECT_EQ(keys[1].version, (Version{1, 0}));
  EXPECT_EQ(keys[2].version, (Version{2, 0}));
}

TEST(BusRegistry, FindByVersionCompatibilityLocalFirst) {
  ManualClock clock;
  Registry r(SELF, clock);
  auto v11 = diag_echo_descriptor();
  v11.version = Version{1, 1};
  auto v20 = diag_echo_descriptor();
  v20.version = Version{2, 0};
  ASSERT_TRUE(r.update_from_manifest(PEER, {spec_of(v11), spec_of(v20)}, endpoint_of(1), TrustLevel::member));
  ASSERT_TRUE(r.register_local(echo()));  // 1.0
  auto found = r.find("diag.echo", Version{1, 0});
  ASSERT_EQ(found.size(), 2u);
  EXPECT_TRUE(found[0].is_local);
  EXPECT_EQ(found[1].descriptor.version, (Version{1, 1}));
  EXPECT_EQ(r.find("diag.echo", Version{1, 1}).size(), 1u);
  EXPECT_EQ(r.find("diag.echo", Version{2, 0}).size(), 1u);
  EXPECT_TRUE(r.find("diag.echo", Version{3, 0}).empty());
  EXPECT_EQ(r.find("diag.echo", Version{1, 0}, [](const CapabilityEntry& e) { return !e.is_local; }).size(), 1u);
}

TEST(BusRegistry, RemoteEntryBorrowsSchemasFromLocalTwin) {
  ManualClock clock;
  Registry r(SELF, clock);
  ASSERT_TRUE(r.update_from_manifest(PEER, {spec_of(diag_echo_descriptor())}, endpoint_of(1), TrustLevel::member));
  EXPECT_FALSE(r.entry({PEER, "diag.echo", Version{1, 0}})->schemas_known);
  ASSERT_TRUE(r.register_local(echo()));
  auto e = r.entry({PEER, "diag.echo", Version{1, 0}});
  EXPECT_TRUE(e->schemas_known);
  EXPECT_EQ(e->descriptor.request_schema, diag_echo_descriptor().request_schema);
  EXPECT_EQ(e->endpoint, endpoint_of(1));
}

TEST(BusRegistry, InFlightSlots) {
  ManualClock clock;
  Registry r(SELF, clock);
  auto cap = echo();
  cap.descriptor.max_concurrent = 2;
  ASSERT_TRUE(r.register_local(cap));
  const EntryKey key{SELF, "diag.echo", Version{1, 0}};
  EXPECT_TRUE(r.try_acquire(key));
  EXPECT_TRUE(r.try_acquire(key));
  EXPECT_FALSE(r.try_acquire(key));
  EXPECT_EQ(r.entry(key)->in_flight, 2);
  r.release(key);
  EXPECT_TRUE(r.try_acquire(key));
  EXPECT_FALSE(r.try_acquire({PEER, "diag.echo", Version{1, 0}}));
}


}  // namespace
}  // namespace hn::bus
