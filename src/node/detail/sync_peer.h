// sync_peer.h — an events::SyncPeer over a blocking request function (the node and the
// joining CLI plug the transport client in: the call blocks the calling worker while the
// I/O runs on the network thread). Replies are untrusted; SyncClient validates them.
//
// Thread-safety: as safe as the request function (SyncClient calls one at a time).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.h"
#include "core/json.h"
#include "events/sync.h"

namespace hn::node::detail {

class TransportSyncPeer final : public events::SyncPeer {
 public:
  // (method, path, body) → the 2xx JSON body, or the peer's / the transport's error.
  using Request = std::function<Result<Json>(const std::string&, std::string_view, Json)>;
  TransportSyncPeer(Request request, std::string key)
      : m_request(std::move(request)), m_key(std::move(key)) {}
  Result<Json> heads() override {
    return m_request("GET", events::SYNC_PATH_HEADS, Json::object());
  }
  Result<Json> reconcile(const Json& r) override {
    return m_request("POST", events::SYNC_PATH_RECONCILE, r);
  }
  Result<Json> fetch(const Json& r) override {
    return m_request("POST", events::SYNC_PATH_FETCH, r);
  }
  Result<Json> push_events(const Json& r) override {
    return m_request("POST", events::SYNC_PATH_EVENTS, r);
  }
  Result<Json> snapshot() override {
    return m_request("GET", events::SYNC_PATH_SNAPSHOT, Json::object());
  }
  std::string peer_key() const override { return m_key; }

 private:
  Request m_request;
  std::string m_key;
};

}  // namespace hn::node::detail
