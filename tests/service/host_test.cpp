// host_test.cpp — the ServiceHost: services built from a list, started in order and
// stopped in reverse; each gets its own queue; stop withdraws, drains in-flight calls, then
// stops; a failing service rolls the start back; health reports each one.
#include "service/host.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>

#include "blobs/store.h"
#include "events/event_log.h"
#include "events/replay.h"
#include "services/diag/diag_echo.h"
#include "support/test_support.h"

namespace hn::service {
namespace {

const NodeId SELF("ed25519:self");
const Version V10{1, 0};

Json echo_body(const std::string& text, std::int64_t delay_ms = 0) {
  Json input{{"text", text}};
  if (delay_ms > 0) input["delay_ms"] = delay_ms;
  return Json{{"input", input}};
}

// A service that records its lifecycle into a shared journal; `fail_start` refuses.
class Recorder final : public bus::Service {
 public:
  Recorder(std::string name, std::vector<std::string>& journal, bool fail_start = false,
           std::shared_future<void> gate = {})
      : m_name(std::move(name)), m_journal(journal), m_fail(fail_start), m_gate(std::move(gate)) {}
  std::string name() const override { return m_name; }
  std::string version() const override { return "0.1"; }
  std::vector<std::string> namespace_prefixes() const override { return {"experimental"}; }
  std::vector<bus::LocalCapability> capabilities() override {
    auto cap = services::diag::DiagEchoService(SELF).capabilities().front();
    cap.descriptor.name = "experimental." + m_name;
    cap.descriptor.max_concurrent = 100;  // only the queue limits it
    if (m_gate.valid()) {
      auto inner = cap.handler;
      cap.handler = [inner, gate = m_gate](const bus::CallContext& ctx, const Json& body) {
        gate.wait();  // held until the test lets go
        return inner(ctx, body);
      };
    }
    return {cap};
  }
  bus::ExecutionSpec execution() const override { return {1, 2}; }
  Status start() override {
    m_journal.push_back("start " + m_name);
    if (m_fail) return make_error(ErrorCode::internal_error, "refused to start");
    return {};
  }
  void stop() override { m_journal.push_back("stop " + m_name); }
  Json health() const override { return Json{{"fine", true}}; }

 private:
  std::string m_name;
  std::vector<std::string>& m_journal;
  bool m_fail;
  std::shared_future<void> m_gate;
};

class NoPublisher final : public Publisher {
 public:
  void publish(const std::string&, const Json&) override {}
};

struct Host : ::testing::Test {
  ManualClock clock;
  bus::CapabilityBus bus{SELF, bus::BusConfig{}, clock};
  // What a node hands its services: real stores in a temporary home.
  test::TempDir dir;
  identity::KeyPair keys = identity::KeyPair::generate();
  CommunityId community{keys.node_id().str()};
  std::unique_ptr<events::EventLog> log =
      events::EventLog::open(dir / "events.db", community, keys).value();
  events::ReplayEngine replay{*log};
  std::unique_ptr<blobs::BlobStore> blobs = blobs::BlobStore::open(dir / "blobs").value();
  NoPublisher publisher;
  config::Config config;

  ServiceContext test_context() {
    return ServiceContext{keys, keys.node_id(), community, *log, replay, *blobs, bus, publisher,
                          config, [] { return std::optional<identity::CommunityManifest>(); },
                          clock, {}};
  }
};

TEST_F(Host, StartsInOrderStopsInReverseAndWithdrawsCapabilities) {
  std::vector<std::string> journal;
  {
    ServiceHost host(bus);
    ASSERT_TRUE(host.start(std::make_unique<Recorder>("a", journal)));
    ASSERT_TRUE(host.start(std::make_unique<Recorder>("b", journal)));
    EXPECT_EQ(host.names(), (std::vector<std::string>{"a", "b"}));
    ASSERT_TRUE(bus.call("experimental.b", V10, echo_body("hi")));
    const Json h = host.health();
    EXPECT_EQ(h["a"]["state"], "running");
    EXPECT_EQ(h["b"]["capabilities"], Json::array({"experimental.b@1.0"}));
    EXPECT_EQ(h["b"]["queue"]["threads"], 1);
    EXPECT_EQ(h["a"]["health"]["fine"], true);
    host.stop_all();
    EXPECT_EQ(host.health()["a"]["state"], "stopped");
    EXPECT_EQ(host.health()["b"]["queue"]["completed"], 1);  // (counted once the job returned)
    auto gone = bus.call("experimental.a", V10, echo_body("hi"));
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, ErrorCode::not_found);
  }  // (the destructor's stop_all is a no-op now)
  EXPECT_EQ(journal, (std::vector<std::string>{"start a", "start b", "stop b", "stop a"}));
}

TEST_F(Host, HandlersRunOnTheServicesOwnQueue) {
  ServiceHost host(bus);
  ASSERT_TRUE(host.start(std::make_unique<services::diag::DiagEchoService>(SELF)));
  auto r = bus.call("diag.echo", V10, echo_body("x"));
  ASSERT_TRUE(r) << r.error().to_string();
  host.stop_all();  // drained: the job has returned
  auto queues = host.queues();
  ASSERT_EQ(queues.size(), 1u);
  EXPECT_EQ(queues[0].name, "diag");
  EXPECT_EQ(queues[0].completed, 1u);  // it ran there, not on this thread
}

TEST_F(Host, StopDrainsInFlightCallsBeforeStopping) {
  ServiceHost host(bus);
  ASSERT_TRUE(host.start(std::make_unique<services::diag::DiagEchoService>(SELF)));
  std::promise<Result<Json>> answered;
  // A call that holds a queue thread for a while (diag.echo delay_ms).
  bus.async_call("diag.echo", V10, echo_body("late", 300), {},
                 [&](Result<Json> r) { answered.set_value(std::move(r)); });
  while (host.queues()[0].running == 0) std::this_thread::yield();
  host.stop_all();  // returns only after the in-flight call finished
  auto f = answered.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  auto r = f.get();
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)["output"]["text"], "late");
}

TEST_F(Host, AFloodOfOneServiceGetsCapacityExceededWhileAnotherAnswers) {
  std::vector<std::string> journal;
  ServiceHost host(bus);
  std::promise<void> gate;
  ASSERT_TRUE(host.start(std::make_unique<Recorder>("flooded", journal, false, gate.get_future().share())));
  ASSERT_TRUE(host.start(std::make_unique<services::diag::DiagEchoService>(SELF)));
  // 1 thread + 2 waiting: the rest of a flood of 10 held calls is refused at once.
  std::mutex m;
  std::vector<Result<Json>> results;
  std::latch all_done(10);
  for (int i = 0; i < 10; ++i) {
    if (i == 1) {  // the first call holds the one thread before the rest arrive
      while (host.queues()[0].running == 0) std::this_thread::yield();
    }
    bus.async_call("experimental.flooded", V10, echo_body("f"), {}, [&](Result<Json> r) {
      {
        std::lock_guard lock(m);
        results.push_back(std::move(r));
      }
      all_done.count_down();
    });
  }
  std::size_t refused_now = 0;
  {
    std::lock_guard lock(m);
    for (const auto& r : results) {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, ErrorCode::capacity_exceeded);
      EXPECT_TRUE(r.error().retry_after_ms.has_value());
      ++refused_now;
    }
  }
  EXPECT_EQ(refused_now, 7u);  // refused at once, while the others are held
  auto other = bus.call("diag.echo", V10, echo_body("other"));
  ASSERT_TRUE(other) << other.error().to_string();
  gate.set_value();
  all_done.wait();
  std::size_t ok = 0;
  for (const auto& r : results) ok += r ? 1 : 0;
  EXPECT_EQ(ok, 3u);
  EXPECT_EQ(host.health()["flooded"]["queue"]["rejected"], 7);
}

TEST_F(Host, AServiceThatFailsToStartRollsTheStartBack) {
  std::vector<std::string> journal;
  ServiceHost host(bus);
  std::vector<ServiceFactory> list = {
      {"a", [&](const ServiceContext&) { return std::make_unique<Recorder>("a", journal); }},
      {"b", [&](const ServiceContext&) { return std::make_unique<Recorder>("b", journal, true); }},
  };
  auto s = host.start_all(list, test_context(), dir / "services");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("service b"), std::string::npos) << s.error().message;
  EXPECT_EQ(journal, (std::vector<std::string>{"start a", "start b", "stop a"}));
  EXPECT_TRUE(bus.registry().all_local().empty());
  EXPECT_TRUE(std::filesystem::is_directory(dir / "services" / "a"));  // its own folder
}

TEST_F(Host, ARunningServiceOffersACapabilityLaterOnItsOwnQueueUntilItStops) {
  std::vector<std::string> journal;
  ServiceHost host(bus);
  std::function<Status(bus::LocalCapability)> offer;
  std::vector<ServiceFactory> list = {
      {"late", [&](const ServiceContext& c) {
         offer = c.offer;  // the context the host built for it has offer() wired
         return std::make_unique<Recorder>("late", journal);
       }}};
  ASSERT_TRUE(host.start_all(list, test_context(), dir / "services"));
  ASSERT_TRUE(offer);
  auto cap = services::diag::DiagEchoService(SELF).capabilities().front();
  cap.descriptor.name = "experimental.later";
  ASSERT_TRUE(offer(cap));
  ASSERT_TRUE(bus.call("experimental.later", V10, echo_body("x")));
  EXPECT_EQ(host.health()["late"]["capabilities"],
            Json::array({"experimental.late@1.0", "experimental.later@1.0"}));
  // A changed descriptor replaces it (one entry, new params).
  cap.descriptor.params = Json{{"corpora", {"a"}}};
  ASSERT_TRUE(offer(cap));
  auto entries = bus.registry().find("experimental.later", V10);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].descriptor.params.get(), (Json{{"corpora", {"a"}}}));
  EXPECT_EQ(host.health()["late"]["capabilities"].size(), 2u);
  // The call ran on the service's queue (its count moves just after the answer is handed over).
  EXPECT_TRUE(test::eventually([&] { return host.queues()[0].completed == 1u; }));
  // Outside its namespace: refused by the registry.
  auto stray = cap;
  stray.descriptor.name = "market.later";
  EXPECT_EQ(offer(stray).error().code, ErrorCode::namespace_violation);
  EXPECT_EQ(host.offer("nobody", cap).error().code, ErrorCode::not_found);
  host.stop_all();
  EXPECT_FALSE(bus.call("experimental.later", V10, echo_body("x")));  // withdrawn
  EXPECT_EQ(offer(cap).error().code, ErrorCode::partition);        // stopping: refused
  EXPECT_TRUE(bus.registry().all_local().empty());
}

}  // namespace
}  // namespace hn::service
