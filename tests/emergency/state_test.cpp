// state_test.cpp — the StateBus tells listeners of mode changes only, in order; the
// CapabilityGate takes requires_internet capabilities off a real bus registry while closed
// (also one registered meanwhile) and puts them back, handlers and all, when opened
// (M09 §8 test_deregister_called_on_offline_entry, test_reregister_called_on_online_entry).
#include "emergency/capability_gate.h"
#include "emergency/state.h"

#include <gtest/gtest.h>

#include "bus/registry.h"
#include "core/clock.h"

namespace hn::emergency {
namespace {

TEST(StateBus, ListenersHearModeChangesOnly) {
  StateBus bus(EmergencyState{Mode::online, 1000});
  std::vector<std::pair<Mode, Mode>> heard;
  const auto id = bus.subscribe([&](const EmergencyState& s, Mode previous) {
    heard.emplace_back(previous, s.mode);
  });
  EmergencyState s = bus.current();
  s.last_probe_ms = 5;
  bus.publish(s);  // same mode: stored, nobody told
  EXPECT_EQ(bus.current().last_probe_ms, 5);
  s.mode = Mode::degraded;
  bus.publish(s);
  s.mode = Mode::offline;
  bus.publish(s);
  bus.update([](EmergencyState& st) { st.flap_hold = true; });
  EXPECT_TRUE(bus.current().flap_hold);
  ASSERT_EQ(heard.size(), 2u);
  EXPECT_EQ(heard[0], std::make_pair(Mode::online, Mode::degraded));
  EXPECT_EQ(heard[1], std::make_pair(Mode::degraded, Mode::offline));
  bus.unsubscribe(id);
  s.mode = Mode::online;
  bus.publish(s);
  EXPECT_EQ(heard.size(), 2u);
}

TEST(StateBus, JsonNamesModeProbesAndClock) {
  EmergencyState s{Mode::degraded, 0, 1000, {{"1.1.1.1", false, "timeout", 2000}, {"quad9.net", true, "", 12}}};
  s.clock = ClockCheck{"quad9.net", 75, 1000, true};
  const Json j = s.to_json();
  EXPECT_EQ(j["mode"], "degraded");
  EXPECT_EQ(j["probes"]["1.1.1.1"]["error"], "timeout");
  EXPECT_EQ(j["probes"]["quad9.net"]["ok"], true);
  EXPECT_EQ(j["clock"]["skew_seconds"], 75);
  EXPECT_EQ(parse_mode("offline"), Mode::offline);
  EXPECT_EQ(parse_mode("down"), std::nullopt);
}

bus::LocalCapability capability(const std::string& name, bool internet) {
  bus::LocalCapability cap;
  cap.descriptor.name = name;
  cap.descriptor.version = Version{1, 0};
  cap.descriptor.request_schema = Json{{"type", "object"}};
  cap.descriptor.response_schema = Json{{"type", "object"}};
  cap.descriptor.params = internet ? Json{{"requires_internet", true}} : Json::object();
  cap.descriptor.max_concurrent = 1;
  cap.handler = [name](const bus::CallContext&, const Json&) -> Result<Json> {
    return Json{{"from", name}};
  };
  return cap;
}

std::vector<std::string> local_names(const bus::Registry& r) {
  std::vector<std::string> out;
  for (const auto& e : r.all_local()) out.push_back(e.descriptor.name);
  return out;
}

TEST(CapabilityGate, WithdrawsWhileClosedAndRestoresWithHandlers) {
  ManualClock clock;
  bus::Registry registry(NodeId("ed25519:self"), clock);
  ASSERT_TRUE(registry.register_local(capability("experimental.cloud_chat", true)).has_value());
  ASSERT_TRUE(registry.register_local(capability("experimental.local_chat", false)).has_value());
  CapabilityGate gate(registry);

  EXPECT_EQ(gate.close(), std::vector<std::string>{"experimental.cloud_chat@1.0"});
  EXPECT_TRUE(gate.is_closed());
  EXPECT_EQ(local_names(registry), std::vector<std::string>{"experimental.local_chat"});
  // One registered while offline leaves at once.
  ASSERT_TRUE(registry.register_local(capability("experimental.cloud_embed", true)).has_value());
  EXPECT_EQ(local_names(registry), std::vector<std::string>{"experimental.local_chat"});
  EXPECT_EQ(gate.withdrawn().size(), 2u);

  const auto restored = gate.open();
  EXPECT_EQ(restored.size(), 2u);
  EXPECT_EQ(local_names(registry).size(), 3u);
  auto found = registry.find("experimental.cloud_chat", Version{1, 0});
  ASSERT_EQ(found.size(), 1u);
  ASSERT_TRUE(found[0].local);
  auto answer = found[0].local->handler(bus::CallContext{}, Json::object());
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ((*answer)["from"], "experimental.cloud_chat");
  EXPECT_TRUE(gate.withdrawn().empty());
  // Open again: nothing held, nothing happens.
  EXPECT_TRUE(gate.open().empty());
}

}  // namespace
}  // namespace hn::emergency
