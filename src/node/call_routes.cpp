// call_routes.cpp — the bus-call routes (X01 §3.2, CONTRACT §5.1/§5.3) and how their calls
// run: POST /bus/v1/call and POST /node/v1/call (a call pinned to one provider, trust
// `self` only). Both are started on the network thread, which only routes and hands over
// (doc/design/architecture.md "Execution model"): a plain call is
// CapabilityBus::async_call, answered through the transport's Respond from the thread that
// finished it; a streamed call is async_stream, whose frames cross over a StreamBridge to
// the SSE writer on the network thread. Which of the two a request gets is the
// capability's and the body's choice (CONTRACT §5.1, bus::answers_with_stream), not the
// Accept header's alone. `self` callers go through async_call/async_stream
// (peers included, M03 §5.8); everyone else gets async_handle_call/async_handle_stream
// (served locally only, M03 §5.3). Calls in progress are kept in `active` so shutdown can
// cancel them.
#include <optional>
#include <utility>
#include <vector>

#include "core/json.h"
#include "node/detail/node_impl.h"
#include "observability/standard_metrics.h"

namespace hn::node {
namespace asio = boost::asio;

namespace {
// How long a stream's network coroutine waits for frames before it checks the caller.
constexpr auto STREAM_POLL = std::chrono::milliseconds(500);
// The longest deadline a caller may ask of a node call (`call --timeout`): an hour.
constexpr std::int64_t MAX_CALL_TIMEOUT_SECONDS = 3600;
}  // namespace

void Node::Impl::add_call_routes() {
  server->add_async_route(
      "POST", std::string(transport::BUS_CALL_PATH),
      [this](transport::Request r, transport::Respond respond) {
        start_call(route_request_of(r), std::move(respond));
      },
      [this](transport::Request r, std::shared_ptr<transport::SseWriter> w) {
        return async_bus_call(std::move(r), std::move(w));
      },
      [this](const transport::Request& r) {
        // A peer's call is served here only (M03 §5.3); the node's own may go anywhere.
        return answers_with_stream(r, r.capability, r.version, r.body,
                                   r.trust != TrustLevel::self, false, std::nullopt);
      });
  // CLI `call --node`: the same split as /bus/v1/call, narrowed to one provider.
  server->add_async_route(
      "POST", NODE_CALL_PATH,
      [this](transport::Request r, transport::Respond respond) {
        if (r.trust != TrustLevel::self) return respond(not_self(r));
        auto rr = parse_node_call(r);
        if (!rr) return respond(transport::Response::error(rr.error()));
        start_call(std::move(*rr), std::move(respond));
      },
      [this](transport::Request r,
             std::shared_ptr<transport::SseWriter> w) -> asio::awaitable<transport::Response> {
        if (r.trust != TrustLevel::self) co_return not_self(r);
        auto rr = parse_node_call(r);
        if (!rr) co_return transport::Response::error(rr.error());
        auto op = async_stream_route(std::move(*rr), std::move(w));
        co_return co_await std::move(op);
      },
      [this](const transport::Request& r) {
        if (r.trust != TrustLevel::self) return false;  // the plain handler refuses it
        auto rr = parse_node_call(r);
        if (!rr) return false;  // the plain handler answers the error
        return answers_with_stream(r, rr->capability, rr->version_req, rr->body, rr->local_only,
                                   rr->remote_only, rr->target_node);
      });
}

bool Node::Impl::answers_with_stream(const transport::Request& r, const CapabilityName& capability,
                                     Version version, const Json& body, bool local_only,
                                     bool remote_only, const std::optional<NodeId>& target) const {
  std::optional<bus::CapabilityDescriptor> known;
  for (auto& e : bus->registry().find(capability, version)) {
    if (!e.schemas_known || (local_only && !e.is_local) || (remote_only && e.is_local)) continue;
    if (target && e.node_id != *target) continue;
    known = std::move(e.descriptor);
    break;
  }
  const bus::Accepted accept = r.accepts_stream == r.accepts_json ? bus::Accepted::both
                              : r.accepts_stream                  ? bus::Accepted::only_stream
                                                                  : bus::Accepted::only_plain;
  return bus::answers_with_stream(known ? &*known : nullptr, body, accept);
}

std::uint64_t Node::Impl::add_active(bus::CancelToken cancel,
                                     std::shared_ptr<detail::StreamBridge> bridge) {
  std::lock_guard lock(active_mutex);
  const std::uint64_t id = next_active++;
  active[id] = Active{std::move(cancel), bridge};
  if (stopping.load()) {
    active[id].cancel.cancel();
    if (bridge) bridge->abandon();
  }
  return id;
}

void Node::Impl::remove_active(std::uint64_t id) {
  std::lock_guard lock(active_mutex);
  active.erase(id);
}

void Node::Impl::cancel_active(Bridges bridges) {
  std::lock_guard lock(active_mutex);
  for (auto& [id, a] : active) {
    a.cancel.cancel();
    if (bridges == Bridges::abandon) {
      if (auto b = a.bridge.lock()) b->abandon();
    }
  }
}

// The bus options of a call the node itself makes (CLI, UI), with its `--node` target.
bus::CallOptions Node::Impl::self_options(const bus::RouteRequest& rr,
                                          const bus::CancelToken& cancel) {
  bus::CallOptions o;
  o.caller_trust = TrustLevel::self;
  o.trace_id = rr.trace_id;
  o.cancel = cancel;
  o.local_only = rr.local_only;
  o.remote_only = rr.remote_only;
  o.target_node = rr.target_node;
  o.flow = rr.flow;
  o.binary_frames = rr.binary_frames;
  if (rr.deadline_ms > 0) o.deadline_ms = rr.deadline_ms;
  return o;
}

void Node::Impl::start_call(bus::RouteRequest rr, transport::Respond respond) {
  bus::CancelToken cancel;
  const std::uint64_t id = add_active(cancel, nullptr);
  bus::CallDone done = [this, id, respond = std::move(respond)](Result<Json> result) {
    remove_active(id);
    respond(result ? transport::Response::json(std::move(*result))
                   : transport::Response::error(result.error()));
  };
  if (rr.caller_trust == TrustLevel::self) {
    // The node itself (CLI, UI): the full bus, peers included (M03 §5.8).
    bus::CallOptions o = self_options(rr, cancel);
    bus->async_call(rr.capability, rr.version_req, std::move(rr.body), std::move(o), std::move(done));
    return;
  }
  bus->async_handle_call(std::move(rr), cancel, std::move(done));
}

void Node::Impl::start_stream(bus::RouteRequest rr, bus::FrameSink sink, bus::CancelToken cancel,
                              bus::CallDone done) {
  if (rr.caller_trust == TrustLevel::self) {
    bus::CallOptions o = self_options(rr, cancel);
    bus->async_stream(rr.capability, rr.version_req, std::move(rr.body), std::move(sink),
                      std::move(o), std::move(done));
    return;
  }
  bus->async_handle_stream(std::move(rr), std::move(sink), std::move(cancel), std::move(done));
}

// POST NODE_CALL_PATH {capability, node, body} (CLI `call --node`): the call as the node
// itself, narrowed to one provider: "self" (this node), "remote" (any other node) or a
// node id. Plain or streamed, like /bus/v1/call.
Result<bus::RouteRequest> Node::Impl::parse_node_call(const transport::Request& r) {
  const Json& request = r.body;
  if (!request.is_object()) return make_error(ErrorCode::bad_request, "body must be an object");
  HN_TRY_ASSIGN(std::string ref, get_string(request, "capability"));
  HN_TRY_ASSIGN(std::string target, get_string(request, "node"));
  Json body = request.contains("body") ? request["body"] : Json::object();
  if (!body.is_object()) return make_error(ErrorCode::bad_request, "body must be an object");
  HN_TRY_ASSIGN(auto parsed, bus::parse_capability_ref(ref));
  // Optional: the caller's own deadline (CLI `call --timeout`; M03 call(timeout_seconds)).
  std::int64_t deadline_ms = 0;
  if (auto t = request.find("timeout_seconds"); t != request.end()) {
    if (!t->is_number_integer() || t->get<std::int64_t>() < 1 || t->get<std::int64_t>() > MAX_CALL_TIMEOUT_SECONDS) {
      return make_error(ErrorCode::bad_request, "timeout_seconds must be a whole number in 1.." +
                                                    std::to_string(MAX_CALL_TIMEOUT_SECONDS));
    }
    deadline_ms = clock.now_ms() + t->get<std::int64_t>() * 1000;
  }
  bus::RouteRequest rr;
  rr.deadline_ms = deadline_ms;
  rr.capability = parsed.first;
  rr.version_req = parsed.second;
  rr.body = std::move(body);
  rr.caller = r.caller;
  rr.caller_trust = r.trust;
  rr.trace_id = TraceId(r.request_id);
  if (target == "self" || target == keys->node_id().str()) {
    rr.local_only = true;
  } else if (target == "remote") {
    rr.remote_only = true;
  } else {
    rr.target_node = NodeId(target);
  }
  return rr;
}

// The bus request of a verified POST /bus/v1/call (its body moves into it).
bus::RouteRequest Node::Impl::route_request_of(transport::Request& r) {
  bus::RouteRequest rr;
  rr.capability = r.capability;
  rr.version_req = r.version;
  rr.body = std::move(r.body);
  rr.caller = r.caller;
  rr.caller_trust = r.trust;
  rr.trace_id = TraceId(r.request_id);
  return rr;
}

// The stream half of POST /bus/v1/call (plain calls: start_call).
asio::awaitable<transport::Response> Node::Impl::async_bus_call(
    transport::Request r, std::shared_ptr<transport::SseWriter> w) {
  auto op = async_stream_route(route_request_of(r), std::move(w));
  co_return co_await std::move(op);
}

// A streamed routed call: started here; a local provider runs on its service's queue and
// pushes into the bridge (blocking that thread only while our consumer is slow), a relayed
// one arrives on this thread (and stops reading its peer while the bridge is congested).
// This coroutine moves the frames to the SSE writer.
asio::awaitable<transport::Response> Node::Impl::async_stream_route(
    bus::RouteRequest rr, std::shared_ptr<transport::SseWriter> w) {
  // X03 hearthnet_active_streams{capability}: open while this coroutine runs.
  struct OpenStream {
    std::string capability;
    explicit OpenStream(std::string c) : capability(std::move(c)) {
      observability::standard_metrics().active_streams->inc({capability});
    }
    ~OpenStream() { observability::standard_metrics().active_streams->dec({capability}); }
  } open_stream(rr.capability);
  bus::CancelToken cancel;
  auto bridge = std::make_shared<detail::StreamBridge>(io.get_executor());
  rr.flow = bridge;  // a relayed stream reads its peer only as fast as our client reads us
  rr.binary_frames = w->binary();  // payloads only where our client asked for binary frames
  const std::uint64_t id = add_active(cancel, bridge);
  {
    auto executor = io.get_executor();
    bus::FrameSink sink = [bridge, executor](bus::StreamFrame f) {
      return bridge->push(std::move(f), executor.running_in_this_thread());
    };
    start_stream(std::move(rr), std::move(sink), cancel,
                 [bridge](Result<Json> r) { bridge->finish(std::move(r)); });
  }
  bool consumer_gone = false;
  std::optional<Result<Json>> result;
  for (;;) {
    auto batch = bridge->take();
    if (!batch.frames.empty() && !consumer_gone) {
      std::vector<transport::OutFrame> out;
      out.reserve(batch.frames.size());
      for (auto& f : batch.frames) {
        out.push_back({std::move(f.event), std::move(f.data), std::move(f.payload)});
      }
      auto emit = w->async_emit_all(std::move(out));
      Status st = co_await std::move(emit);
      if (!st) consumer_gone = true;
    }
    if (!consumer_gone && w->cancelled()) consumer_gone = true;
    if (consumer_gone) {
      cancel.cancel();
      bridge->abandon();
    }
    if (batch.result) {
      result = std::move(batch.result);
      break;
    }
    auto wait = bridge->async_wait(STREAM_POLL);
    co_await std::move(wait);
  }
  remove_active(id);
  if (consumer_gone) {
    co_return transport::Response::error(
        make_error(ErrorCode::partition, "stream cancelled by the caller"));
  }
  if (*result) {
    Json data = std::move(**result);
    auto done = w->async_emit_done(std::move(data));
    co_await std::move(done);
    co_return transport::Response::json(Json::object());
  }
  Error err = result->error();
  if (!w->started()) co_return transport::Response::error(err);
  auto failed = w->async_emit_error(std::move(err));
  co_await std::move(failed);
  co_return transport::Response::json(Json::object());
}

}  // namespace hn::node
