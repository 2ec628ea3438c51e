// call_routes.cpp — the bus-call routes (X01 §3.2, CONTRACT §5.1/§5.3) and how their calls
// run: POST /bus/v1/call and POST /node/v1/call (a call pinned to one provider, trust
// `self` only). A plain call runs on a worker (or on the network thread when the bus says
// it is quick) and answers JSON; a streamed call runs the bus on a worker and its frames
// cross over a StreamBridge to the SSE writer on the network thread. `self` callers go
// through CapabilityBus::call/stream (peers included, M03 §5.8); everyone else gets
// handle_call/handle_stream (served locally only, M03 §5.3). Calls in progress are kept
// in `active` so shutdown can cancel them.
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>

#include "core/json.h"
#include "node/detail/node_impl.h"

namespace hn::node {
namespace asio = boost::asio;

namespace {
// How long a stream's network coroutine waits for frames before it checks the caller.
constexpr auto STREAM_POLL = std::chrono::milliseconds(500);
}  // namespace

void Node::Impl::add_call_routes() {
  // Plain calls run on a worker (on the network thread when quick); streams bridge back.
  server->add_worker_route(
      "POST", std::string(transport::BUS_CALL_PATH),
      [this](transport::Request r) { return run_routed(route_request_of(r)); },
      [this](transport::Request r, std::shared_ptr<transport::SseWriter> w) {
        return async_bus_call(std::move(r), std::move(w));
      },
      // A peer's call stays on this node (handle_call); the node's own may go to a peer.
      [this](const transport::Request& r) {
        return bus->registry().is_quick(r.capability, r.version, r.body,
                                        r.trust != TrustLevel::self);
      });
  // CLI `call --node`: the same split as /bus/v1/call, narrowed to one provider.
  server->add_worker_route(
      "POST", NODE_CALL_PATH,
      [this](transport::Request r) -> transport::Response {
        if (r.trust != TrustLevel::self) return not_self(r);
        auto rr = parse_node_call(r);
        if (!rr) return transport::Response::error(rr.error());
        return run_routed(std::move(*rr));
      },
      [this](transport::Request r,
             std::shared_ptr<transport::SseWriter> w) -> asio::awaitable<transport::Response> {
        if (r.trust != TrustLevel::self) co_return not_self(r);
        auto rr = parse_node_call(r);
        if (!rr) co_return transport::Response::error(rr.error());
        auto op = async_stream_route(std::move(*rr), std::move(w));
        co_return co_await std::move(op);
      });
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
  return o;
}

Result<Json> Node::Impl::run_call(const bus::RouteRequest& rr, const bus::CancelToken& cancel) {
  if (rr.caller_trust == TrustLevel::self) {
    // The node itself (CLI, UI): the full bus, peers included (M03 §5.8).
    return bus->call(rr.capability, rr.version_req, rr.body, self_options(rr, cancel));
  }
  return bus->handle_call(rr, cancel);
}

Result<Json> Node::Impl::run_stream(const bus::RouteRequest& rr, const bus::FrameSink& sink,
                                    const bus::CancelToken& cancel) {
  if (rr.caller_trust == TrustLevel::self) {
    return bus->stream(rr.capability, rr.version_req, rr.body, sink, self_options(rr, cancel));
  }
  return bus->handle_stream(rr, sink, cancel);
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
  bus::RouteRequest rr;
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

// On a worker (transport::WorkerHandler): one plain routed call; the server signs the
// response in the same hop.
transport::Response Node::Impl::run_routed(bus::RouteRequest rr) {
  bus::CancelToken cancel;
  const std::uint64_t id = add_active(cancel, nullptr);
  Result<Json> result = run_call(rr, cancel);
  remove_active(id);
  return result ? transport::Response::json(std::move(*result))
                : transport::Response::error(result.error());
}

// The stream half of POST /bus/v1/call (plain calls take the worker route: run_routed).
asio::awaitable<transport::Response> Node::Impl::async_bus_call(
    transport::Request r, std::shared_ptr<transport::SseWriter> w) {
  auto op = async_stream_route(route_request_of(r), std::move(w));
  co_return co_await std::move(op);
}

// A streamed routed call: the bus runs on a worker pool thread and its frames cross back
// over a bridge to the SSE writer.
asio::awaitable<transport::Response> Node::Impl::async_stream_route(
    bus::RouteRequest rr, std::shared_ptr<transport::SseWriter> w) {
  bus::CancelToken cancel;
  // A stream (CONTRACT §5.3): the bus runs on a worker, frames cross over the bridge.
  auto bridge = std::make_shared<detail::StreamBridge>(io.get_executor());
  rr.flow = bridge;  // a relayed stream reads its peer only as fast as our client reads us
  const std::uint64_t id = add_active(cancel, bridge);
  asio::post(*workers, [this, rr = std::move(rr), cancel, bridge]() {
    auto executor = io.get_executor();
    bus::FrameSink sink = [bridge, executor](bus::StreamFrame f) {
      return bridge->push(std::move(f), executor.running_in_this_thread());
    };
    bridge->finish(run_stream(rr, sink, cancel));
  });
  bool consumer_gone = false;
  std::optional<Result<Json>> result;
  for (;;) {
    auto batch = bridge->take();
    if (!batch.frames.empty() && !consumer_gone) {
      std::vector<transport::OutFrame> out;
      out.reserve(batch.frames.size());
      for (auto& f : batch.frames) out.push_back({std::move(f.event), std::move(f.data)});
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
