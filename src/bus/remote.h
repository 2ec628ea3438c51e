// remote.h — the seam between the bus and the network (M03 §5.3 h, §5.8). The bus never
// talks to X01 directly: the node plugs a RemoteInvoker backed by the transport client in;
// tests plug a fake. A call is handed over as a RemoteCall and answered through a
// completion callback (CallDone), so no thread waits for the network: the invoker runs the
// exchange on its own I/O thread and completes the call there.
//
// Thread-safety: implementations must accept calls from any thread concurrently. Frames
// of a stream may be delivered on the invoker's thread; the sink the bus passes is
// thread-safe and rejects frames (returns an error) once the bus stopped listening.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "bus/capability.h"
#include "core/error.h"
#include "core/json.h"
#include "core/types.h"

namespace hn::bus {

// One outbound call to one provider (CONTRACT §5.1 headers + body).
struct RemoteCall {
  NodeId node_id;                 // the provider
  Endpoint endpoint;              // where to reach it (from its manifest)
  CapabilityName capability;      // X-HearthNet-Capability
  Version version;                // X-HearthNet-Capability-Version (the requested version)
  Version offered_version;        // the provider's advertised version
  Json body = Json::object();     // the request body, unchanged
  TraceId trace_id;               // X-HearthNet-Request-Id
  NodeId caller;                  // the caller on whose behalf we call
  std::optional<std::string> session_id;
  std::int64_t deadline_ms = 0;   // absolute, bus Clock ms
  CancelToken cancel;             // set when the bus gives up (deadline, caller cancel)
  std::shared_ptr<StreamFlow> flow;  // streams: pause reading while the consumer is congested
  bool binary_frames = false;        // streams: ask the provider for binary frames (payloads)
};

// Completes a call: exactly once, on any thread.
using CallDone = std::function<void(Result<Json>)>;

class RemoteInvoker {
 public:
  virtual ~RemoteInvoker() = default;
  // A non-streaming call: `done` gets the response body, or an Error carrying the wire code
  // of the peer's error envelope (CONTRACT §5.4) — partition when unreachable, timeout
  // when call.deadline_ms passes (the invoker enforces the deadline). Once call.cancel is
  // set the invoker should stop the exchange; the bus has stopped listening by then.
  virtual void call(RemoteCall call, CallDone done) = 0;
  // A streaming call: every non-terminal frame goes to `on_frame` (stop when it returns an
  // error or call.cancel is set); `done` gets the `done` frame's data, or the error of the
  // terminal `error` frame / the transport failure.
  virtual void stream(RemoteCall call, FrameSink on_frame, CallDone done) = 0;
};

}  // namespace hn::bus
