// node_publisher.h — the services' service::Publisher: a message for a pubsub topic goes
// to the transport server's PubSub (CONTRACT §8), which serves it to subscribers. Before
// the server exists (services start first) and after it is gone, messages are dropped.
//
// Thread-safety: publish from any thread; attach/detach on the network thread or before
// it runs.
#pragma once

#include <atomic>
#include <string>

#include "core/json.h"
#include "service/context.h"
#include "transport/server.h"
#include "transport/topic_policy.h"

namespace hn::node::detail {

class NodePublisher final : public service::Publisher {
 public:
  void attach(transport::Server* server) { m_server.store(server); }
  void detach() { m_server.store(nullptr); }
  void publish(const std::string& topic, const Json& data) override {
    if (auto* s = m_server.load()) (void)s->pubsub().publish(topic, data);
  }

 private:
  std::atomic<transport::Server*> m_server{nullptr};
};

}  // namespace hn::node::detail
