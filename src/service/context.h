// context.h — what a service may use (issue "A home for services"): handed to each
// service's factory by the node's ServiceHost. Everything here is at or below the bus — a
// service never sees the node, the transport or another service; it reaches other
// services only through `bus` calls.
//
// Thread-safety: the references outlive every service (the node owns them and stops the
// host first); each referenced object documents its own thread rules. `publisher` and
// `community_manifest` are safe from any thread.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "bus/bus.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/json.h"
#include "core/types.h"
#include "identity/keys.h"
#include "identity/manifest.h"

namespace hn::events {
class EventLog;
class ReplayEngine;
}  // namespace hn::events
namespace hn::blobs {
class BlobStore;
}  // namespace hn::blobs

namespace hn::service {

// Publishes a message on one of the node's pubsub topics (CONTRACT §8): subscribers on
// this node and, for topics they may read, on peers (the node's transport carries it).
class Publisher {
 public:
  virtual ~Publisher() = default;
  virtual void publish(const std::string& topic, const Json& data) = 0;
};

struct ServiceContext {
  const identity::KeyPair& keys;
  NodeId node_id;
  CommunityId community;
  events::EventLog& log;        // append signed events, read, subscribe (X02)
  events::ReplayEngine& replay; // register materialised views
  blobs::BlobStore& blobs;      // content-addressed chunks and manifests (M07)
  bus::CapabilityBus& bus;      // calls to other services and peers
  Publisher& publisher;
  const config::Config& config;  // a service reads its own section (config.<name>)
  std::function<std::optional<identity::CommunityManifest>()> community_manifest;
  const Clock& clock;
  // A folder of the service's own under the node's state dir (created by the host).
  std::filesystem::path data_dir;
  // A node's trust level in the community as this node sees it now (its community view;
  // revoked → Error revoked, not a member → unauthorized). Null in contexts built by hand
  // (tests): a service then reads community_manifest. Safe from any thread.
  std::function<Result<TrustLevel>(const NodeId&)> membership;
  // Offers a capability after start, or replaces one the service offers with a changed
  // descriptor (new params): registered on the service's own queue (unless the capability
  // brings its executor) within its namespace prefixes, and withdrawn with the others when
  // the service stops (partition once it is stopping). Set by the ServiceHost; null in
  // contexts built by hand (tests): a service then registers on `bus` itself.
  std::function<Status(bus::LocalCapability)> offer;
};

}  // namespace hn::service
