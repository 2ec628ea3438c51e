// bus_test.cpp — the CapabilityBus facade (M03 §3.7, §5.3, §5.8): local calls, schema and
// trust rejection, remote routing through a fake RemoteInvoker, failover, quarantine through
// real calls, sticky sessions, streams and cancellation, built-in diag.echo.
#include "bus/bus.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "services/diag/diag_echo.h"
#include "core/ulid.h"
#include "fake_invoker.h"

namespace hn::bus {
using services::diag::DiagEchoService;
using services::diag::diag_echo_descriptor;
using services::diag::DIAG_ECHO_CAPABILITY;
using services::diag::DIAG_ECHO_DEFAULT_FRAMES;
namespace {

using test::endpoint_of;
using test::FakeInvoker;
using test::spec_of;

const NodeId SELF("ed25519:self");
const NodeId A("ed25519:a");
const NodeId B("ed25519:b");
const Version V10{1, 0};

Json echo_body(const std::string& text, bool fail = false) {
  Json input{{"text", text}};
  if (fail) input["fail"] = true;
  return Json{{"input", input}};
}

Json remote_answer(const std::string& text) { return Json{{"output", {{"text", text}}}}; }

struct BusFacade : ::testing::Test {
  ManualClock clock;
  std::shared_ptr<FakeInvoker> fake = std::make_shared<FakeInvoker>();
  CapabilityBus bus{SELF, BusConfig{}, clock, fake};
  DiagEchoService echo{SELF};

  void register_echo() { ASSERT_TRUE(bus.register_service(echo)); }
  void add_peer(const NodeId& node, int port = 7080) {
    ASSERT_TRUE(bus.on_peer_manifest(node, {spec_of(diag_echo_descriptor())}, endpoint_of(port),
                                     TrustLevel::member));
  }
  EntryKey key(const NodeId& node) { return EntryKey{node, "diag.echo", V10}; }
};

TEST_F(BusFacade, DiagEchoLocalCall) {
  register_echo();
  auto r = bus.call("diag.echo", V10, echo_body("hallo"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)["output"]["text"], "hallo");
  EXPECT_EQ((*r)["meta"]["node_id"], SELF.str());
  auto traces = bus.recent_traces();
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(traces[0].result, "ok");
  EXPECT_TRUE(traces[0].is_local);
  EXPECT_EQ(traces[0].to_node, SELF);
  EXPECT_TRUE(is_valid_ulid(traces[0].trace_id.str()));
  EXPECT_GT(traces[0].bytes_in, 0);
  EXPECT_GT(traces[0].bytes_out, 0);
  EXPECT_EQ(bus.trace().counters("diag.echo").ok, 1u);
  EXPECT_EQ(bus.registry().entry(key(SELF))->in_flight, 0);
}

TEST_F(BusFacade, TraceSinkReceivesEvents) {
  register_echo();
  std::vector<CallTraceEvent> sunk;
  bus.trace().set_sink([&](const CallTraceEvent& ev) { sunk.push_back(ev); });
  CallOptions opts;
  opts.trace_id = TraceId(new_ulid());
  ASSERT_TRUE(bus.call("diag.echo", V10, echo_body("x"), opts));
  ASSERT_EQ(sunk.size(), 1u);
  EXPECT_EQ(sunk[0].trace_id, *opts.trace_id);
  EXPECT_EQ(sunk[0].to_json()["capability"], "diag.echo");
}

// The recent-call ring keeps BusConfig::trace_recent_capacity events; newest() gives them
// newest first, filtered, at most n (a node serves /trace/recent from it).
TEST(BusTrace, RingKeepsTheConfiguredNumberNewestFirst) {
  ManualClock clock;
  BusConfig config;
  config.trace_recent_capacity = 5;
  CapabilityBus bus{SELF, config, clock};
  DiagEchoService echo{SELF};
  ASSERT_TRUE(bus.register_service(echo));
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) {
    CallOptions opts;
    opts.trace_id = TraceId(new_ulid());
    ids.push_back(opts.trace_id->str());
    ASSERT_TRUE(bus.call("diag.echo", V10, echo_body("x"), opts));
  }
  (void)bus.call("no.such", V10, Json::object());  // a rejected call is traced too
  EXPECT_EQ(bus.trace().recent(100).size(), 5u);
  auto newest = bus.trace().newest(3);
  ASSERT_EQ(newest.size(), 3u);
  EXPECT_EQ(newest[0].capability, "no.such");
  EXPECT_EQ(newest[1].trace_id.str(), ids[7]);
  EXPECT_EQ(newest[2].trace_id.str(), ids[6]);
  auto echoes = bus.trace().newest(10, [](const CallTraceEvent& e) { return e.capability == "diag.echo"; });
  ASSERT_EQ(echoes.size(), 4u);  // 5 kept, one of them the rejected call
  EXPECT_EQ(echoes[0].trace_id.str(), ids[7]);
  EXPECT_EQ(echoes[3].trace_id.str(), ids[4]);
}

TEST_F(BusFacade, SchemaRejectionIsSchemaMismatch) {
  register_echo();
  for (const Json& body : {Json::object(), Json{{"input", {{"text", 5}}}},
                           Json{{"input", {{"text", "x"}, {"extra", 1}}}},
                           Json{{"input", {{"text", "x"}, {"delay_ms", -1}}}}}) {
    auto r = bus.call("diag.echo", V10, body);
    ASSERT_FALSE(r) << body.dump();
    EXPECT_EQ(r.error().code, ErrorCode::schema_mismatch);  // M03 §3.4, CONTRACT §5.4
    EXPECT_EQ(r.error().detail["schema_hash_expected"], diag_echo_descriptor().schema_hash().str());
  }
  EXPECT_EQ(bus.trace().counters("diag.echo").by_result["schema_mismatch"], 4u);
  EXPECT_EQ(bus.health().stats(key(SELF)).samples, 0);
}

TEST_F(BusFacade, ResponseSchemaViolationIsInternalError) {
  LocalCapability cap;
  cap.descriptor = diag_echo_descriptor();
  cap.descriptor.name = "experimental.liar";
  cap.handler = [](const CallContext&, const Json&) -> Result<Json> { return Json{{"nope", 1}}; };
  cap.stream_handler = [](const CallContext&, const Json&, const FrameSink&) -> Result<Json> {
    return Json::object();
  };
  ASSERT_TRUE(bus.register_capability(cap));
  auto r = bus.call("experimental.liar", V10, echo_body("x"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::internal_error);
}

TEST_F(BusFacade, TrustEnforced) {
  register_echo();
  CallOptions opts;
  opts.caller_trust = TrustLevel::unknown;
  auto r = bus.call("diag.echo", V10, echo_body("x"), opts);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::unauthorized);

  LocalCapability cap = echo.capabilities().front();
  cap.descriptor.name = "experimental.anchor_only";
  cap.descriptor.trust_required = TrustLevel::anchor;
  ASSERT_TRUE(bus.register_capability(cap));
  opts.caller_trust = TrustLevel::trusted;
  EXPECT_EQ(bus.call("experimental.anchor_only", V10, echo_body("x"), opts).error().code,
            ErrorCode::unauthorized);
  opts.caller_trust = TrustLevel::anchor;
  EXPECT_TRUE(bus.call("experimental.anchor_only", V10, echo_body("x"), opts));

  cap.descriptor.name = "experimental.self_only";
  cap.descriptor.trust_required = TrustLevel::self;
  ASSERT_TRUE(bus.register_capability(cap));
  EXPECT_EQ(bus.call("experimental.self_only", V10, echo_body("x"), opts).error().code,
            ErrorCode::unauthorized);
  opts.caller_trust = TrustLevel::self;
  EXPECT_TRUE(bus.call("experimental.self_only", V10, echo_body("x"), opts));
}

TEST_F(BusFacade, NotFoundAndVersionMismatch) {
  auto r = bus.call("llm.chat", V10, Json::object());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  register_echo();
  // CONTRACT §2.1: the name is offered, in another version → schema_mismatch naming it.
  for (Version asked : {Version{2, 0}, Version{1, 1}, Version{0, 9}}) {
    auto v = bus.call("diag.echo", asked, echo_body("x"));
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, ErrorCode::schema_mismatch) << asked.to_string();
    EXPECT_EQ(v.error().detail["alt_capabilities"], Json::array({"diag.echo@1.0"}));
  }
}

TEST_F(BusFacade, RegisterServiceNamespaceViolationRegistersNothing) {
  struct Rogue final : Service {
    std::string name() const override { return "market"; }
    std::string version() const override { return "1"; }
    std::vector<LocalCapability> capabilities() override {
      auto ok = DiagEchoService(SELF).capabilities().front();
      ok.descriptor.name = "market.list";
      auto bad = ok;
      bad.descriptor.name = "llm.chat";
      return {ok, bad};
    }
  } rogue;
  auto s = bus.register_service(rogue);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::namespace_violation);
  EXPECT_TRUE(bus.registry().all().empty());
}

TEST_F(BusFacade, RemoteRoutingThroughInvoker) {
  add_peer(A, 7081);
  fake->on_call(A, [](const RemoteCall& c) -> Result<Json> {
    return remote_answer("remote:" + c.body["input"]["text"].get<std::string>());
  });
  CallOptions opts;
  opts.session_id = "sess";
  auto r = bus.call("diag.echo", V10, echo_body("hi"), opts);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)["output"]["text"], "remote:hi");
  auto calls = fake->received();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].node_id, A);
  EXPECT_EQ(calls[0].endpoint, endpoint_of(7081));
  EXPECT_EQ(calls[0].capability, "diag.echo");
  EXPECT_EQ(calls[0].version, V10);
  EXPECT_EQ(calls[0].caller, SELF);
  EXPECT_EQ(calls[0].session_id, "sess");
  EXPECT_EQ(calls[0].deadline_ms, clock.now_ms() + RPC_DEFAULT_TIMEOUT_SECONDS * 1000);
  EXPECT_TRUE(is_valid_ulid(calls[0].trace_id.str()));
  auto traces = bus.recent_traces();
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_FALSE(traces[0].is_local);
  EXPECT_EQ(traces[0].to_node, A);
  EXPECT_EQ(bus.health().stats(key(A)).samples, 1);
}

TEST_F(BusFacade, InboundCallsNeverForwarded) {
  add_peer(A);
  fake->on_call(A, [](const RemoteCall&) -> Result<Json> { return remote_answer("x"); });
  RouteRequest req;
  req.capability = "diag.echo";
  req.version_req = V10;
  req.body = echo_body("x");
  req.caller = A;
  req.caller_trust = TrustLevel::member;
  auto elsewhere = bus.handle_call(req);
  ASSERT_FALSE(elsewhere);
  EXPECT_EQ(elsewhere.error().code, ErrorCode::not_found);
  // CONTRACT §5.4: the router knows who does offer it.
  EXPECT_EQ(elsewhere.error().detail["alt_nodes"], Json::array({A.str()}));
  register_echo();
  auto r = bus.handle_call(req);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["meta"]["node_id"], SELF.str());
  EXPECT_TRUE(fake->received().empty());
}

TEST_F(BusFacade, FailoverFromPartitionedProviderToHealthyOne) {
  add_peer(A, 1);
  add_peer(B, 2);
  for (int i = 0; i < 10; ++i) bus.health().record(key(A), true, 5);  // A ranks first
  fake->on_call(A, [](const RemoteCall&) -> Result<Json> {
    return make_error(ErrorCode::partition, "connection refused");
  });
  fake->on_call(B, [](const RemoteCall&) -> Result<Json> { return remote_answer("from b"); });
  auto r = bus.call("diag.echo", V10, echo_body("x"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)["output"]["text"], "from b");
  EXPECT_EQ(fake->calls_to(A), 1u);
  EXPECT_EQ(fake->calls_to(B), 1u);
  EXPECT_LT(bus.health().stats(key(A)).success_rate, 1.0);
  auto traces = bus.recent_traces();
  ASSERT_EQ(traces.size(), 2u);
  EXPECT_EQ(traces[0].result, "partition");
  EXPECT_EQ(traces[1].result, "ok");
  EXPECT_EQ(traces[0].trace_id, traces[1].trace_id);
}

TEST_F(BusFacade, FailoverFromFailingLocalProviderForIdempotentCapability) {
  register_echo();
  add_peer(B);
  fake->on_call(B, [](const RemoteCall&) -> Result<Json> { return remote_answer("from b"); });
  auto r = bus.call("diag.echo", V10, echo_body("x", /*fail=*/true));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)["output"]["text"], "from b");
}

TEST_F(BusFacade, NoFailoverForNonIdempotentInternalErrorOrCallerErrors) {
  LocalCapability cap = echo.capabilities().front();
  cap.descriptor.idempotent = false;
  cap.descriptor.name = "experimental.once";
  ASSERT_TRUE(bus.register_capability(cap));
  auto spec = spec_of(cap.descriptor);
  ASSERT_TRUE(bus.on_peer_manifest(B, {spec}, endpoint_of(1), TrustLevel::member));
  fake->on_call(B, [](const RemoteCall&) -> Result<Json> { return remote_answer("b"); });
  auto r = bus.call("experimental.once", V10, echo_body("x", true));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::internal_error);
  EXPECT_EQ(fake->calls_to(B), 0u);
}

TEST_F(BusFacade, AllProvidersFailingReturnsLastError) {
  add_peer(A, 1);
  add_peer(B, 2);
  auto down = [](const RemoteCall&) -> Result<Json> { return make_error(ErrorCode::partition, "down"); };
  fake->on_call(A, down);
  fake->on_call(B, down);
  auto r = bus.call("diag.echo", V10, echo_body("x"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::partition);
  EXPECT_EQ(fake->received().size(), 2u);
}

TEST_F(BusFacade, QuarantineAfterFailuresThenSingleProbe) {
  register_echo();
  for (int i = 0; i < HEALTH_MIN_SAMPLES; ++i) {
    EXPECT_EQ(bus.call("diag.echo", V10, echo_body("x", true)).error().code, ErrorCode::internal_error);
  }
  // Quarantined: the only provider is skipped.
  auto r = bus.call("diag.echo", V10, echo_body("x"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::partition);
  EXPECT_EQ(bus.stats()["quarantines_total"], 1);

  // After 60 s one probe goes through; it fails, so the quarantine starts again.
  clock.advance_seconds(HEALTH_QUARANTINE_SECONDS);
  EXPECT_EQ(bus.call("diag.echo", V10, echo_body("x", true)).error().code, ErrorCode::internal_error);
  EXPECT_EQ(bus.call("diag.echo", V10, echo_body("x")).error().code, ErrorCode::partition);

  // Next probe succeeds: healthy, history reset.
  clock.advance_seconds(HEALTH_QUARANTINE_SECONDS);
  ASSERT_TRUE(bus.call("diag.echo", V10, echo_body("x")));
  EXPECT_TRUE(bus.call("diag.echo", V10, echo_body("y")));
  auto st = bus.health().stats(key(SELF));
  EXPECT_FALSE(st.quarantined);
  EXPECT_EQ(st.samples, 2);
  EXPECT_DOUBLE_EQ(st.success_rate, 1.0);
}

TEST_F(BusFacade, QuarantinedLocalFallsBackToRemote) {
  register_echo();
  add_peer(B);
  fake->on_call(B, [](const RemoteCall&) -> Result<Json> { return remote_answer("b"); });
  for (int i = 0; i < HEALTH_MIN_SAMPLES; ++i) bus.health().record(key(SELF), false, 1);
  auto r = bus.call("diag.echo", V10, echo_body("x"));
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["output"]["text"], "b");
}

TEST_F(BusFacade, InFlightReleasedWhenHandlerThrows) {
  LocalCapability cap;
  cap.descriptor = diag_echo_descriptor();
  cap.descriptor.name = "experimental.thrower";
  cap.descriptor.stream_schema = nullptr;
  cap.handler = [](const CallContext&, const Json&) -> Result<Json> {
    throw std::runtime_error("boom");
  };
  ASSERT_TRUE(bus.register_capability(cap));
  auto r = bus.call("experimental.thrower", V10, echo_body("x"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::internal_error);
  EXPECT_EQ(bus.registry().entry({SELF, "experimental.thrower", V10})->in_flight, 0);
}

TEST_F(BusFacade, CapacityExceededWhenEveryProviderBusy) {
  LocalCapability cap = echo.capabilities().front();
  cap.descriptor.name = "experimental.reentrant";
  cap.descriptor.max_concurrent = 1;
  cap.descriptor.stream_schema = nullptr;
  cap.stream_handler = nullptr;
  Result<Json> inner = make_error(ErrorCode::internal_error, "not run");
  cap.handler = [&](const CallContext&, const Json& body) -> Result<Json> {
    if (body["input"]["text"] == "outer") {
      inner = bus.call("experimental.reentrant", V10, echo_body("inner"));
    }
    return Json{{"output", {{"text", "ok"}}}};
  };
  ASSERT_TRUE(bus.register_capability(cap));
  ASSERT_TRUE(bus.call("experimental.reentrant", V10, echo_body("outer")));
  ASSERT_FALSE(inner);
  EXPECT_EQ(inner.error().code, ErrorCode::capacity_exceeded);
  EXPECT_TRUE(inner.error().retry_after_ms.has_value());
}

TEST_F(BusFacade, StickySessionFollowsServingProvider) {
  add_peer(A, 1);
  add_peer(B, 2);
  for (int i = 0; i < 10; ++i) bus.health().record(key(A), true, 5);
  for (int i = 0; i < 10; ++i) bus.health().record(key(B), true, 50);
  fake->on_call(A, [](const RemoteCall&) -> Result<Json> { return remote_answer("a"); });
  fake->on_call(B, [](const RemoteCall&) -> Result<Json> { return remote_answer("b"); });
  bus.router().bind_session("chat-1", "diag.echo", key(B));
  CallOptions opts;
  opts.session_id = "chat-1";
  EXPECT_EQ((*bus.call("diag.echo", V10, echo_body("x"), opts))["output"]["text"], "b");
  EXPECT_EQ((*bus.call("diag.echo", V10, echo_body("x")))["output"]["text"], "a");
  auto snap = bus.topology_snapshot();
  ASSERT_EQ(snap.capabilities_remote.size(), 2u);
  for (const auto& e : snap.capabilities_remote) {
    EXPECT_EQ(e.sticky_sessions.contains("chat-1"), e.node_id == B);
  }
  // The peer leaves: the session unbinds and the next call goes elsewhere.
  bus.on_peer_removed(B);
  EXPECT_EQ((*bus.call("diag.echo", V10, echo_body("x"), opts))["output"]["text"], "a");
  EXPECT_EQ(bus.router().session_binding("chat-1", "diag.echo"), key(A));
}

TEST_F(BusFacade, DiagEchoStream) {
  register_echo();
  std::vector<StreamFrame> frames;
  Json body = echo_body("tick");
  body["input"]["n"] = 4;
  auto done = bus.stream("diag.echo", V10, body, [&](const StreamFrame& f) -> Status {
    frames.push_back(f);
    return {};
  });
  ASSERT_TRUE(done) << done.error().to_string();
  EXPECT_EQ((*done)["frames"], 4);
  ASSERT_EQ(frames.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(frames[i].event, "echo");
    EXPECT_EQ(frames[i].data["seq"], i);
    EXPECT_EQ(frames[i].data["text"], "tick");
  }
  EXPECT_EQ(bus.recent_traces().back().result, "ok");
}

TEST_F(BusFacade, StreamConsumerStopsAfterTwoFrames) {
  register_echo();
  int seen = 0;
  Json body = echo_body("tick");
  body["input"]["n"] = 10;
  auto done = bus.stream("diag.echo", V10, body, [&](const StreamFrame&) -> Status {
    if (++seen == 2) return make_error(ErrorCode::timeout, "enough");
    return {};
  });
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().message, "enough");
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(bus.recent_traces().back().result, "cancelled");
  EXPECT_EQ(bus.health().stats(key(SELF)).samples, 0);  // not the provider's fault
  EXPECT_EQ(bus.registry().entry(key(SELF))->in_flight, 0);
}

TEST_F(BusFacade, StreamCancelTokenStopsBetweenFrames) {
  register_echo();
  CallOptions opts;
  int seen = 0;
  Json body = echo_body("tick");
  body["input"]["n"] = 10;
  auto done = bus.stream(
      "diag.echo", V10, body,
      [&](const StreamFrame&) -> Status {
        if (++seen == 3) opts.cancel.cancel();
        return {};
      },
      opts);
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, ErrorCode::timeout);
  EXPECT_TRUE(done.error().detail.value("cancelled", false));
  EXPECT_EQ(seen, 3);
  EXPECT_EQ(bus.recent_traces().back().result, "cancelled");
}

TEST_F(BusFacade, PlainCallToStreamOnlyCapabilityIsBadRequest) {
  LocalCapability cap = echo.capabilities().front();
  cap.descriptor.name = "experimental.stream_only";
  cap.descriptor.response_schema = nullptr;
  cap.handler = nullptr;
  ASSERT_TRUE(bus.register_capability(cap));
  EXPECT_EQ(bus.call("experimental.stream_only", V10, echo_body("x")).error().code, ErrorCode::bad_request);
  EXPECT_TRUE(bus.stream("experimental.stream_only", V10, echo_body("x"),
                         [](const StreamFrame&) -> Status { return {}; }));
}

TEST_F(BusFacade, StreamCallToPlainOnlyCapabilityGetsItsAnswerAsDone) {
  // CONTRACT §5.1: the capability decides; a plain answer ends the stream as its `done`.
  LocalCapability cap = echo.capabilities().front();
  cap.descriptor.name = "experimental.plain_only";
  cap.descriptor.stream_schema = nullptr;
  cap.stream_handler = nullptr;
  ASSERT_TRUE(bus.register_capability(cap));
  int frames = 0;
  auto done = bus.stream("experimental.plain_only", V10, echo_body("x"),
                         [&](const StreamFrame&) -> Status { return ++frames, Status{}; });
  ASSERT_TRUE(done) << done.error().to_string();
  EXPECT_EQ(frames, 0);
  EXPECT_EQ((*done)["output"]["text"], "x");
}

TEST_F(BusFacade, RemoteStreamFailsOverBeforeFirstFrame) {
  add_peer(A, 1);
  add_peer(B, 2);
  for (int i = 0; i < 10; ++i) bus.health().record(key(A), true, 5);
  fake->on_stream(A, [](const RemoteCall&, const FrameSink&) -> Result<Json> {
    return make_error(ErrorCode::partition, "down");
  });
  fake->on_stream(B, [](const RemoteCall&, const FrameSink& sink) -> Result<Json> {
    for (int i = 0; i < 2; ++i) HN_TRY(sink(StreamFrame{"echo", Json{{"seq", i}, {"text", "b"}}}));
    return Json{{"frames", 2}};
  });
  std::vector<StreamFrame> frames;
  auto done = bus.stream("diag.echo", V10, echo_body("x"), [&](const StreamFrame& f) -> Status {
    frames.push_back(f);
    return {};
  });
  ASSERT_TRUE(done) << done.error().to_string();
  EXPECT_EQ(frames.size(), 2u);
  EXPECT_EQ(fake->calls_to(A), 1u);
}

TEST_F(BusFacade, RemoteStreamNoFailoverAfterFramesAndLateFramesDropped) {
  add_peer(A, 1);
  add_peer(B, 2);
  for (int i = 0; i < 10; ++i) bus.health().record(key(A), true, 5);
  FrameSink kept;
  fake->on_stream(A, [&](const RemoteCall&, const FrameSink& sink) -> Result<Json> {
    kept = sink;
    HN_TRY(sink(StreamFrame{"echo", Json{{"seq", 0}, {"text", "a"}}}));
    return make_error(ErrorCode::partition, "connection dropped mid-stream");
  });
  int seen = 0;
  auto done = bus.stream("diag.echo", V10, echo_body("x"), [&](const StreamFrame&) -> Status {
    ++seen;
    return {};
  });
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, ErrorCode::partition);
  EXPECT_EQ(fake->calls_to(B), 0u);
  // A frame arriving after the bus returned never reaches the consumer.
  EXPECT_FALSE(kept(StreamFrame{"echo", Json{{"seq", 1}, {"text", "late"}}}));
  EXPECT_EQ(seen, 1);
}

TEST_F(BusFacade, RemoteStreamFrameValidatedWhenSchemaKnown) {
  register_echo();  // local twin: schemas known for A's entry
  add_peer(A);
  CallOptions opts;
  opts.prefer_local = false;
  for (int i = 0; i < 10; ++i) bus.health().record(key(A), true, 1);  // A before local
  bus.health().record(key(SELF), false, 1);
  fake->on_stream(A, [](const RemoteCall&, const FrameSink& sink) -> Result<Json> {
    HN_TRY(sink(StreamFrame{"echo", Json{{"seq", "zero"}}}));
    return Json::object();
  });
  int seen = 0;
  auto done = bus.stream("diag.echo", V10, echo_body("x"),
                         [&](const StreamFrame&) -> Status { ++seen; return {}; }, opts);
  // A's bad frame is a provider fault (internal_error); diag.echo is idempotent and no frame
  // reached the consumer, so the local provider serves the stream.
  ASSERT_TRUE(done) << done.error().to_string();
  EXPECT_EQ(seen, DIAG_ECHO_DEFAULT_FRAMES);
  EXPECT_EQ(bus.recent_traces().front().result, "internal_error");
}

// An invoker that never answers: the bus gives up at the deadline and fails over.
class SilentInvoker final : public RemoteInvoker {
 public:
  void call(RemoteCall call, CallDone done) override {
    std::lock_guard lock(m_mutex);
    cancels.push_back(call.cancel);
    m_pending.push_back(std::move(done));  // never completed
  }
  void stream(RemoteCall call, FrameSink, CallDone done) override {
    this->call(std::move(call), std::move(done));
  }
  std::vector<CancelToken> cancels;

 private:
  std::mutex m_mutex;
  std::vector<CallDone> m_pending;
};

TEST_F(BusFacade, RemoteTimeoutCancelsTheAttempt) {
  auto silent = std::make_shared<SilentInvoker>();
  bus.set_remote_invoker(silent);
  add_peer(A);
  CallOptions opts;
  opts.deadline_ms = clock.now_ms() + 20;  // 20 ms of real waiting
  auto r = bus.call("diag.echo", V10, echo_body("x"), opts);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::timeout);
  ASSERT_EQ(silent->cancels.size(), 1u);
  EXPECT_TRUE(silent->cancels[0].is_cancelled());
  EXPECT_EQ(bus.health().stats(key(A)).success_rate, 0.0);
}

TEST_F(BusFacade, FeedsVerifiedNodeManifest) {
  identity::NodeManifest m;
  m.node_id = A;
  m.endpoints = {Endpoint{"udp", "10.0.0.9", 1}, Endpoint{"https", "10.0.0.9", 7080}};
  m.capabilities = {diag_echo_descriptor().to_spec()};
  auto diff = bus.on_peer_manifest(m, TrustLevel::trusted);
  ASSERT_TRUE(diff) << diff.error().to_string();
  ASSERT_EQ(diff->added.size(), 1u);
  EXPECT_EQ(diff->added[0].endpoint->port, 7080);
  EXPECT_EQ(diff->added[0].peer_trust, TrustLevel::trusted);
  m.endpoints.clear();
  EXPECT_EQ(bus.on_peer_manifest(m, TrustLevel::trusted).error().code, ErrorCode::manifest_invalid);
}

TEST_F(BusFacade, ConcurrentCallsAreCountedExactly) {
  register_echo();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto r = bus.call("diag.echo", V10, echo_body("t" + std::to_string(t)));
        if (r && (*r)["output"]["text"] == "t" + std::to_string(t)) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 400);
  EXPECT_EQ(bus.trace().counters("diag.echo").ok, 400u);
  EXPECT_EQ(bus.trace().counters("diag.echo").in_flight, 0);
  EXPECT_EQ(bus.registry().entry(key(SELF))->in_flight, 0);
  EXPECT_EQ(bus.health().stats(key(SELF)).samples, HEALTH_WINDOW_CALLS);
}

TEST_F(BusFacade, PeerManifestUpdatesAndRemoval) {
  std::vector<RegistryEventKind> kinds;
  bus.registry().subscribe([&](const RegistryEvent& ev) { kinds.push_back(ev.kind); });
  add_peer(A);
  EXPECT_EQ(bus.topology_snapshot().capabilities_remote.size(), 1u);
  bus.on_peer_removed(A);
  EXPECT_TRUE(bus.topology_snapshot().capabilities_remote.empty());
  EXPECT_EQ(kinds, (std::vector<RegistryEventKind>{RegistryEventKind::added, RegistryEventKind::removed}));
  auto stats = bus.stats();
  EXPECT_EQ(stats["entries_remote"], 0);
}

}  // namespace
}  // namespace hn::bus

// --- execution model (doc/design/architecture.md): each capability's work runs on its
// own bounded executor; the bus only routes, validates and hands over. -----------------

namespace hn::bus {
namespace {

// A plain capability `name` on `executor` whose handler waits for `release`.
LocalCapability held_capability(const std::string& name, std::shared_ptr<Executor> executor,
                                std::shared_future<void> release, std::atomic<int>& runs) {
  LocalCapability cap = DiagEchoService(SELF).capabilities().front();
  cap.descriptor.name = name;
  cap.descriptor.max_concurrent = 100;
  cap.stream_handler = nullptr;
  cap.descriptor.stream_schema = nullptr;
  cap.executor = std::move(executor);
  cap.handler = [release, &runs](const CallContext& ctx, const Json& body) -> Result<Json> {
    ++runs;
    release.wait();
    if (ctx.cancelled()) return make_error(ErrorCode::timeout, "cancelled", Json{{"cancelled", true}});
    return Json{{"output", {{"text", body["input"]["text"]}}}};
  };
  return cap;
}

struct Completion {
  std::promise<Result<Json>> promise;
  std::shared_future<Result<Json>> future = promise.get_future().share();
  CallDone done() {
    return [this](Result<Json> r) { promise.set_value(std::move(r)); };
  }
  bool ready() const { return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }
};

TEST_F(BusFacade, AFullQueueAnswersCapacityExceededWhileAnotherServiceAnswers) {
  auto slow_queue = std::make_shared<WorkQueue>(WorkQueueOptions{"slow", 1, 1, 0});
  auto echo_queue = std::make_shared<WorkQueue>(WorkQueueOptions{"echo", 1, 8, 0});
  std::promise<void> release;
  std::atomic<int> runs{0};
  ASSERT_TRUE(bus.register_capability(held_capability("experimental.slow", slow_queue,
                                                       release.get_future().share(), runs)));
  auto echo_cap = DiagEchoService(SELF).capabilities().front();
  echo_cap.executor = echo_queue;
  ASSERT_TRUE(bus.register_capability(echo_cap));

  Completion first, second;
  bus.async_call("experimental.slow", V10, echo_body("1"), {}, first.done());   // runs, held
  while (runs.load() == 0) std::this_thread::yield();
  bus.async_call("experimental.slow", V10, echo_body("2"), {}, second.done());  // waits in the queue
  auto third = bus.call("experimental.slow", V10, echo_body("3"));              // no room
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, ErrorCode::capacity_exceeded);
  ASSERT_TRUE(third.error().retry_after_ms.has_value());
  EXPECT_GT(*third.error().retry_after_ms, 0);

  // The other service's queue is untouched by the flood.
  auto echoed = bus.call("diag.echo", V10, echo_body("still here"));
  ASSERT_TRUE(echoed) << echoed.error().to_string();
  EXPECT_EQ((*echoed)["output"]["text"], "still here");
  EXPECT_FALSE(first.ready());

  release.set_value();
  ASSERT_TRUE(first.future.get());
  ASSERT_TRUE(second.future.get());
  EXPECT_EQ(runs.load(), 2);
  EXPECT_EQ(slow_queue->stats().rejected, 1u);
}

TEST_F(BusFacade, ACallCancelledWhileQueuedEndsAtOnceAndNeverRuns) {
  auto queue = std::make_shared<WorkQueue>(WorkQueueOptions{"slow", 1, 4, 0});
  std::promise<void> release;
  std::atomic<int> runs{0};
  ASSERT_TRUE(bus.register_capability(held_capability("experimental.slow", queue,
                                                      release.get_future().share(), runs)));
  Completion first, queued;
  bus.async_call("experimental.slow", V10, echo_body("1"), {}, first.done());
  while (runs.load() == 0) std::this_thread::yield();
  CallOptions opts;
  bus.async_call("experimental.slow", V10, echo_body("2"), opts, queued.done());
  EXPECT_FALSE(queued.ready());
  opts.cancel.cancel();
  // Completed by the cancellation itself, while the one thread is still held.
  ASSERT_TRUE(queued.ready());
  auto r = queued.future.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::timeout);
  EXPECT_TRUE(r.error().detail.value("cancelled", false));
  release.set_value();
  ASSERT_TRUE(first.future.get());
  queue->drain();
  EXPECT_EQ(runs.load(), 1);  // the cancelled call never ran
  EXPECT_EQ(bus.registry().entry(EntryKey{SELF, "experimental.slow", V10})->in_flight, 0);
}

TEST_F(BusFacade, ARemoteCallWaitsOnNoThreadAndEndsWhenCancelled) {
  auto silent = std::make_shared<SilentInvoker>();
  bus.set_remote_invoker(silent);
  add_peer(A);
  CallOptions opts;
  Completion c;
  bus.async_call("diag.echo", V10, echo_body("x"), opts, c.done());
  // async_call returned with the exchange under way; nothing waits for it.
  EXPECT_FALSE(c.ready());
  ASSERT_EQ(silent->cancels.size(), 1u);
  opts.cancel.cancel();
  ASSERT_TRUE(c.ready());
  EXPECT_TRUE(c.future.get().error().detail.value("cancelled", false));
  EXPECT_TRUE(silent->cancels[0].is_cancelled());  // the invoker was told to stop
  EXPECT_EQ(bus.registry().entry(key(A))->in_flight, 0);
}

}  // namespace
}  // namespace hn::bus
