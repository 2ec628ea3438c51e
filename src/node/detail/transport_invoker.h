// transport_invoker.h — the bus's RemoteInvoker backed by the X01 client (M03 §5.3 h):
// a call from any thread is posted onto the network thread, run there with
// transport::Client::async_call / async_stream, and completed there through the bus's
// CallDone — no thread waits for the answer.
//
// The trace id travels as the request id (CONTRACT §5.1), so one call's spans correlate
// across nodes. Deadline: what is left of RemoteCall::deadline_ms (the client's timeout;
// the bus holds the deadline too). Cancellation: a stream stops at the next frame or read
// once RemoteCall::cancel is set or the bus's sink refuses a frame; a plain call's answer
// is dropped (the bus completed the call at once).
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
  void call(bus::RemoteCall call, bus::CallDone done) override;
  void stream(bus::RemoteCall call, bus::FrameSink on_frame, bus::CallDone done) override;
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
