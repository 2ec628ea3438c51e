// transport_invoker.h — the bus's RemoteInvoker backed by the X01 client (M03 §5.3 h):
// a call from any thread is posted onto the network thread, run there with
// transport::Client::async_call / async_stream, and answered through the bus's future.
//
// The trace id travels as the request id (CONTRACT §5.1), so one call's spans correlate
// across nodes. Deadline: what is left of RemoteCall::deadline_ms. Cancellation: a stream
// stops at the next frame once RemoteCall::cancel is set or the bus's sink refuses a frame;
// a plain call runs to its deadline (the bus has stopped waiting by then).
//
// Thread-safety: call/stream from any thread. shutdown() (network thread) makes later
// and queued calls fail with partition; the client must stay alive until then.
#pragma once

#include <atomic>
#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "bus/remote.h"
#include "core/clock.h"
#include "transport/client.h"

namespace hn::node::detail {

class TransportInvoker final : public bus::RemoteInvoker {
 public:
  TransportInvoker(boost::asio::any_io_executor network, transport::Client& client,
                   const Clock& clock);
  std::future<Result<Json>> call(bus::RemoteCall call) override;
  std::future<Result<Json>> stream(bus::RemoteCall call, bus::FrameSink on_frame) override;
  // Network thread: no client use after this.
  void shutdown();

  struct State {
    boost::asio::any_io_executor network;
    transport::Client* client = nullptr;  // null after shutdown (network thread only)
    const Clock* clock = nullptr;
  };

 private:
  std::shared_ptr<State> m_state;
};

}  // namespace hn::node::detail
