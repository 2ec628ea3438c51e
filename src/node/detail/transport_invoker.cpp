// transport_invoker.cpp — RemoteInvoker over transport::Client.
#include "node/detail/transport_invoker.h"

#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace hn::node::detail {
namespace asio = boost::asio;

namespace {

transport::Endpoint endpoint_of(const bus::RemoteCall& c) {
  return transport::Endpoint{c.endpoint.host, static_cast<std::uint16_t>(c.endpoint.port), c.node_id};
}

transport::CallOptions options_of(const bus::RemoteCall& c, const Clock& clock) {
  transport::CallOptions o;
  o.request_id = c.trace_id.str();
  const std::int64_t left = c.deadline_ms > 0 ? c.deadline_ms - clock.now_ms() : 0;
  if (c.deadline_ms > 0) o.timeout = std::chrono::milliseconds(std::max<std::int64_t>(left, 1));
  return o;
}

asio::awaitable<void> async_remote_call(std::shared_ptr<TransportInvoker::State> state,
                                        bus::RemoteCall c, bus::CallDone done) {
  if (state->client == nullptr) {
    done(make_error(ErrorCode::partition, "node is shutting down"));
    co_return;
  }
  // (The awaitable is built first: no temporaries inside co_await on GCC 12.)
  auto op = state->client->async_call(endpoint_of(c), c.capability, c.version, c.body,
                                      options_of(c, *state->clock));
  Result<Json> r = co_await std::move(op);
  done(std::move(r));  // (after a cancel the bus has completed the call and ignores this)
}

asio::awaitable<void> async_remote_stream(std::shared_ptr<TransportInvoker::State> state,
                                          bus::RemoteCall c, bus::FrameSink sink,
                                          bus::CallDone done) {
  if (state->client == nullptr) {
    done(make_error(ErrorCode::partition, "node is shutting down"));
    co_return;
  }
  bus::CancelToken cancel = c.cancel;
  transport::FrameCallback on_frame = [sink, cancel](transport::Frame& f) {
    if (cancel.is_cancelled()) return false;
    return sink(bus::StreamFrame{std::move(f.event), std::move(f.data), std::move(f.payload)}).has_value();
  };
  transport::CallOptions options = options_of(c, *state->clock);
  options.binary_frames = c.binary_frames;
  if (c.flow) {
    // Backpressure across the relay: stop reading the peer while our consumer is full.
    options.before_read = [flow = c.flow, ex = state->network, cancel]() -> asio::awaitable<void> {
      while (flow->congested() && !cancel.is_cancelled()) {
        auto timer = std::make_shared<asio::steady_timer>(ex, std::chrono::seconds(1));
        auto wake = [timer, ex] { asio::post(ex, [timer] { timer->cancel(); }); };
        flow->notify_when_drained(wake);
        const auto id = cancel.on_cancel(wake);
        boost::system::error_code ec;
        co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        cancel.forget(id);
      }
    };
  }
  auto op = state->client->async_stream(endpoint_of(c), c.capability, c.version, c.body,
                                        std::move(on_frame), std::move(options));
  Result<transport::Frame> r = co_await std::move(op);
  if (r) {
    done(std::move(r->data));
  } else {
    done(r.take_error());
  }
}

}  // namespace

TransportInvoker::TransportInvoker(asio::any_io_executor network, transport::Client& client,
                                   const Clock& clock)
    : m_state(std::make_shared<State>(State{std::move(network), &client, &clock})) {}

void TransportInvoker::call(bus::RemoteCall call, bus::CallDone done) {
  asio::co_spawn(m_state->network, async_remote_call(m_state, std::move(call), std::move(done)),
                 asio::detached);
}

void TransportInvoker::stream(bus::RemoteCall call, bus::FrameSink on_frame, bus::CallDone done) {
  asio::co_spawn(m_state->network,
                 async_remote_stream(m_state, std::move(call), std::move(on_frame), std::move(done)),
                 asio::detached);
}

void TransportInvoker::shutdown() { m_state->client = nullptr; }

}  // namespace hn::node::detail
