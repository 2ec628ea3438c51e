// fake_invoker.h — a test double for the network: a RemoteInvoker whose answers are
// scripted per node. Calls complete synchronously, on the calling thread.
//
// Thread-safety: internal mutex; scripts run on the calling thread.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "bus/bus.h"

namespace hn::bus::test {

class FakeInvoker final : public RemoteInvoker {
 public:
  using CallScript = std::function<Result<Json>(const RemoteCall&)>;
  using StreamScript = std::function<Result<Json>(const RemoteCall&, const FrameSink&)>;

  void on_call(const NodeId& node, CallScript s) {
    std::lock_guard lock(m_mutex);
    m_calls[node] = std::move(s);
  }
  void on_stream(const NodeId& node, StreamScript s) {
    std::lock_guard lock(m_mutex);
    m_streams[node] = std::move(s);
  }
  std::vector<RemoteCall> received() const {
    std::lock_guard lock(m_mutex);
    return m_received;
  }
  std::size_t calls_to(const NodeId& node) const {
    std::lock_guard lock(m_mutex);
    std::size_t n = 0;
    for (const auto& c : m_received) n += c.node_id == node ? 1 : 0;
    return n;
  }

  void call(RemoteCall call, CallDone done) override {
    CallScript script;
    {
      std::lock_guard lock(m_mutex);
      m_received.push_back(call);
      if (auto it = m_calls.find(call.node_id); it != m_calls.end()) script = it->second;
    }
    done(script ? script(call) : Result<Json>(make_error(ErrorCode::partition, "unreachable")));
  }

  void stream(RemoteCall call, FrameSink on_frame, CallDone done) override {
    StreamScript script;
    {
      std::lock_guard lock(m_mutex);
      m_received.push_back(call);
      if (auto it = m_streams.find(call.node_id); it != m_streams.end()) script = it->second;
    }
    done(script ? script(call, on_frame)
                : Result<Json>(make_error(ErrorCode::partition, "unreachable")));
  }

 private:
  mutable std::mutex m_mutex;
  std::map<NodeId, CallScript> m_calls;
  std::map<NodeId, StreamScript> m_streams;
  std::vector<RemoteCall> m_received;
};

// A manifest entry advertising `d` (schema hash included).
inline CapabilitySpec spec_of(const CapabilityDescriptor& d) { return d.to_spec(); }

inline Endpoint endpoint_of(int port) { return Endpoint{"https", "10.0.0.1", port}; }

}  // namespace hn::bus::test
